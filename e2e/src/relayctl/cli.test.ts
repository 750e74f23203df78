import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashBootstrapToken, isWellFormedBootstrapToken } from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { attachLab, type Lab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import {
  createNamespace,
  createRelayCa,
  decode,
  getJson,
  rest,
  runProgram,
  type Secret,
  unique,
} from './harness.js';

// The built relayctl as a user runs it: a separate process, real stdout/stderr/exit code. The CLI
// is compiled from the current sources into a temporary folder (whose node_modules links to
// mgmt-server's), so the test never runs a stale build. Its root is mgmt-server/src/relayctl: the
// compile fails if relayctl imports anything of the server outside that folder.

const run = promisify(execFile);
let lab: Lab;
let mgmt: KubeRest;
let dir: string;
let entry: string;

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
  if (!existsSync(join(repoRoot, 'shared', 'dist', 'index.js'))) {
    throw new Error('shared/dist is missing: build first (pnpm build, or pnpm tsc -b shared)');
  }
  dir = mkdtempSync(join(tmpdir(), 'relayctl-cli-'));
  symlinkSync(join(repoRoot, 'mgmt-server', 'node_modules'), join(dir, 'node_modules'));
  const sources = join(repoRoot, 'mgmt-server', 'src', 'relayctl');
  await run(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      ...['--target', 'es2024', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--types', 'node', '--typeRoots', join(repoRoot, 'node_modules', '@types')],
      ...['--strict', '--skipLibCheck', '--verbatimModuleSyntax'],
      ...['--rootDir', sources, '--outDir', dir],
      join(sources, 'relayctl.ts'),
    ],
    // Outside the repo, so no tsconfig.json applies: the options above are the whole build.
    { cwd: dir },
  );
  entry = join(dir, 'relayctl.js');
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const relayctlProcess = (args: string[]) =>
  runProgram(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? '', KUBECONFIG: lab.kubeconfigPath, HOME: dir },
  });

describe('relayctl as a process', () => {
  it('prints help and exits 0; a wrong flag exits 2 with one line', async () => {
    const help = await relayctlProcess(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage:\n  relayctl check');
    const bad = await relayctlProcess(['check', '--nope']);
    expect(bad).toEqual({
      code: 2,
      out: '',
      err: 'relayctl: error: unknown flag --nope (see relayctl check --help)\n',
    });
  });

  it('check exits 1 when no server runs', async () => {
    const ns = unique('rctl-proc');
    await createNamespace(mgmt, ns);
    const r = await relayctlProcess(['check', '--kubecontext', 'mgmt', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('🔴 Mgmt server');
  });

  it('register pipes the credentials to stdout and nothing secret to stderr', async () => {
    const ns = unique('rctl-proc');
    await createNamespace(mgmt, ns);
    await createRelayCa(mgmt, ns);
    const r = await relayctlProcess([
      'register',
      'cluster-1',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--server',
      'relay.example:9900',
      '--mgmt-cluster',
      'mgmt',
    ]);
    expect(r.code).toBe(0);
    const token = (parse(r.out) as { stringData: { bootstrapToken: string } }).stringData.bootstrapToken;
    expect(isWellFormedBootstrapToken(token)).toBe(true);
    const hash = decode(
      await getJson<Secret>(mgmt, `/api/v1/namespaces/${ns}/secrets/kuberelay-bootstrap-cluster-1`),
      'sha256',
    );
    expect(hash).toBe(hashBootstrapToken(token));
    expect(r.err).not.toContain(token);
    expect(r.err).toContain(`✔ created KubernetesCluster ${ns}/cluster-1`);
  });

  it('a cluster it cannot reach is one line, no stack', async () => {
    const ns = unique('rctl-proc');
    const r = await relayctlProcess(['status', '--kubecontext', 'nope', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'relayctl: error: context "nope" (--kubecontext) is not in the kubeconfig; available contexts: mgmt, cluster-1, cluster-2\n',
    );
  });
});
