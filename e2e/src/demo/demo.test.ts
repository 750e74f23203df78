import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lab/paths.js';
import { pidFilesUnder } from '../lab/processes.js';
import { bin } from './relayProcesses.js';

const run = promisify(execFile);

// `pnpm demo` as a user runs it (built programs as processes), stopped right after "demo ready".
describe('pnpm demo', () => {
  it('distributes the reference example to both clusters, shows relayctl check, and leaves nothing running', async () => {
    for (const program of Object.values(bin)) {
      expect(existsSync(program), `${program} is missing: run pnpm build first`).toBe(true);
    }
    const labDir = join(repoRoot, '.lab', 'e2e-demo');
    const { stdout } = await run(
      process.execPath,
      [join(repoRoot, 'e2e', 'dist', 'demo', 'main.js'), `--lab-dir=${labDir}`, '--exit-when-ready'],
      {
        timeout: 170_000,
        maxBuffer: 16 << 20,
      },
    );
    expect(stdout).toContain('demo ready');
    expect(stdout).toMatch(/\nDashboard: http:\/\/127\.0\.0\.1:\d+\/ /);
    for (const cluster of ['cluster-1', 'cluster-2']) {
      expect(stdout).toMatch(new RegExp(`\\$ kubectl --context ${cluster} get`));
    }
    const lines = stdout.split('\n');
    const gatewayRows = lines.filter(
      (l) =>
        l.startsWith('Gateway') &&
        l.includes('gloo://mgmt/ns/gloo-mesh/kind/Gateway/name/distributed-gateway'),
    );
    expect(gatewayRows).toHaveLength(2);
    expect(gatewayRows.every((l) => l.includes('gloo-system') && l.includes('class=gloo-gateway '))).toBe(
      true,
    );
    const routeRows = lines.filter((l) => l.startsWith('HTTPRoute'));
    expect(routeRows).toHaveLength(2);
    expect(routeRows.every((l) => l.includes('parentRef=gloo-system/distributed-gateway'))).toBe(true);
    expect(stdout).toContain('Mgmt server connectivity to workload agents');
    // The check shown ran through bin/relayctl exactly as printed, the command a new terminal takes.
    const checkLine = `${join(repoRoot, 'bin', 'relayctl')} check --kubeconfig ${join(labDir, 'kubeconfig')} --kubecontext mgmt`;
    expect(stdout).toContain(`\n$ ${checkLine}\n`);
    expect(stdout).toContain(
      `From another terminal, the same check (or put relayctl and kubectl-relay on PATH first):\n  ${checkLine}\n`,
    );
    expect(stdout).toContain(`export PATH=${join(repoRoot, 'bin')}:"$PATH"; kubectl relay check`);
    // Everything the demo started is gone.
    expect(pidFilesUnder(labDir)).toEqual([]);
  }, 180_000);
});
