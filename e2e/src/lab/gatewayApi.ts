import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, pinnedVersion, repoRoot } from './paths.js';

/**
 * The Gateway API release whose standard-channel CRDs a lab cluster gets unless told otherwise
 * (v1.2.1): GATEWAY_API_VERSION in e2e/tools/versions.env, which the fetch script reads too.
 */
export const DEFAULT_GATEWAY_API_VERSION: string = pinnedVersion('GATEWAY_API_VERSION');

const FETCH_SCRIPT = join(repoRoot, 'e2e', 'tools', 'fetch-gateway-api-crds.sh');
const VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Where e2e/tools/fetch-gateway-api-crds.sh caches the standard CRDs of `version`. */
export function gatewayApiCrdDir(version: string): string {
  checkVersion(version);
  return join(cacheDir(), 'gateway-api', version);
}

function checkVersion(version: string): void {
  if (!VERSION.test(version)) {
    throw new Error(
      `"${version}" is not a Gateway API release version (like ${DEFAULT_GATEWAY_API_VERSION})`,
    );
  }
}

/** One fetch per version at a time in this process; the script itself guards against other processes. */
const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the folder holding the standard-channel CRDs of Gateway API `version`, fetching them
 * first (through the Go module proxy, by spawning e2e/tools/fetch-gateway-api-crds.sh) when they
 * are not cached yet, so a test asking for another version works on a fresh machine too.
 */
export function ensureGatewayApiCrds(options: {
  version: string;
  onProgress?: (message: string) => void;
}): Promise<string> {
  const dir = gatewayApiCrdDir(options.version);
  if (existsSync(join(dir, '.complete'))) return Promise.resolve(dir);
  let fetching = inFlight.get(options.version);
  if (!fetching) {
    fetching = runFetchScript(options.version, options.onProgress ?? (() => {})).then(() => dir);
    fetching.finally(() => inFlight.delete(options.version)).catch(() => {});
    inFlight.set(options.version, fetching);
  }
  return fetching;
}

function runFetchScript(version: string, progress: (message: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [FETCH_SCRIPT, version], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBERELAY_CACHE_DIR: cacheDir() },
    });
    const errors: string[] = [];
    const lines = (chunk: Buffer, sink: (line: string) => void) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) sink(line);
    };
    child.stdout.on('data', (chunk: Buffer) => lines(chunk, progress));
    child.stderr.on('data', (chunk: Buffer) =>
      lines(chunk, (line) => {
        errors.push(line);
        progress(line);
      }),
    );
    child.on('error', (error) =>
      reject(new Error(`could not run ${FETCH_SCRIPT}: ${error.message}`, { cause: error })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `fetching the Gateway API ${version} CRDs failed (exit ${code}): ${errors.join(' ').trim() || 'no output'}`,
          ),
        );
    });
  });
}

/** Each cluster's Gateway API release; names in `requested` that are not lab clusters are an error. */
export function gatewayApiVersionsFor(
  names: readonly string[],
  requested: Readonly<Record<string, string>>,
): Map<string, string> {
  const unknown = Object.keys(requested).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `gatewayApiVersions names cluster(s) the lab does not have: ${unknown.join(', ')} (it has: ${names.join(', ')})`,
    );
  }
  const versions = new Map<string, string>();
  for (const name of names) {
    const version = requested[name] ?? DEFAULT_GATEWAY_API_VERSION;
    checkVersion(version);
    versions.set(name, version);
  }
  return versions;
}
