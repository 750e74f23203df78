import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { MgmtServer } from '@kuberelay/mgmt-server';
import { RELAYCTL_VERSION } from '@kuberelay/mgmt-server/relayctl';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { cacheDir, repoRoot } from '../lab/paths.js';
import { startTestServer } from '../support/testing.js';
import { createNamespace, rest, runProgram, unique } from './harness.js';

// relayctl where users run it: the single executables that `pnpm build:sea` writes (built here,
// seconds when nothing changed) copied alone into an empty folder and run with an empty
// environment; bin/relayctl and bin/kubectl-relay from elsewhere and through symlinks; and the
// real kubectl running the plugin. Each runs a real `check` against a management server on the
// lab. The arm64 executable cannot run here: its ELF header and injected blob are checked.

const sea = join(repoRoot, 'dist', 'sea');
const bin = join(repoRoot, 'bin');
const nodeVersion = /^NODE_VERSION=([0-9.]+)$/m.exec(readFileSync(join(repoRoot, 'dev'), 'utf8'))?.[1];
const onPath = (program: string): string | undefined =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((d) => join(d, program))
    .find((f) => existsSync(f));
const kubectl = onPath('kubectl');
// Where the machine can run arm64 programs (qemu-user and the arm64 C library, as Debian's
// qemu-user and libc6:arm64 packages install them), the arm64 executable is run too.
const qemu = existsSync('/lib/ld-linux-aarch64.so.1') ? onPath('qemu-aarch64') : undefined;

let lab: Lab;
let server: MgmtServer;
let ns: string;
let dir: string;
beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'mgmt-server', 'dist', 'relayctl', 'relayctl.js'))) {
    throw new Error('mgmt-server/dist is missing: bin/relayctl runs the build; run pnpm build first');
  }
  // Rebuilds only what changed (a few seconds); cold, about 40 s plus fetching the arm64 Node.
  await promisify(execFile)('bash', [join(repoRoot, 'mgmt-server', 'tools', 'build-sea.sh')], {
    cwd: repoRoot,
  });
  lab = attachLab(inject('labDir'));
  ns = unique('rctl-sea');
  await createNamespace(rest(lab, 'mgmt'), ns);
  server = await startTestServer(lab, ns);
  await server.ready;
  dir = mkdtempSync(join(tmpdir(), 'relayctl-sea-'));
}, 600_000);
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const checkArgs = () => ['check', `--kubeconfig=${lab.kubeconfigPath}`, '--kubecontext', 'mgmt', '-n', ns];

/** What check prints for this namespace's one server replica, up and ready. */
function expectServerUp(out: string): void {
  expect(out).toContain('🟢 Mgmt server\n  🟢 replica mgmt-server-0: running (Lease renewed');
  expect(out).toMatch(/http:\/\/127\.0\.0\.1:\d+\/readyz answers ready \(HTTP 200\)/);
}

describe('relayctl as a single executable', () => {
  it('runs alone in an empty folder with an empty environment: version, help, register, check', async () => {
    const exe = join(dir, 'relayctl');
    copyFileSync(join(sea, 'relayctl-linux-x64'), exe);
    const runExe = (args: string[]) => runProgram(exe, args, { env: {}, cwd: dir });

    expect(await runExe(['--version'])).toEqual({
      code: 0,
      out: `relayctl ${RELAYCTL_VERSION} (Node.js v${nodeVersion}, linux/x64, single executable)\n`,
      err: '',
    });
    const help = await runExe(['--help']);
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toContain('Usage:\n  relayctl COMMAND [flags]');

    const empty = await runExe(checkArgs());
    expect(empty.err).toBe('');
    expectServerUp(empty.out);
    expect(empty.out).toContain('🟡 no workload clusters are registered; run relayctl register');
    expect(empty.code).toBe(0);

    const agentNs = unique('rctl-sea-agent');
    const reg = await runExe([
      ...['register', 'cluster-1', `--kubeconfig=${lab.kubeconfigPath}`, '--kubecontext', 'mgmt', '-n', ns],
      ...['--remote-context', 'cluster-1', '--remote-namespace', agentNs, '--server', 'relay.example:9900'],
      ...['--mgmt-cluster', 'mgmt'],
    ]);
    expect(reg.err).toContain(`✔ created KubernetesCluster ${ns}/cluster-1`);
    expect(reg.code).toBe(0);
    const registered = await runExe(checkArgs());
    expectServerUp(registered.out);
    expect(registered.out).toContain('🔴 Mgmt server connectivity to workload agents');
    expect(registered.out).toMatch(/\ncluster-1 \| true +\| - /);
    expect(registered.code).toBe(1);

    // Renamed for kubectl (a plugin manager installs it so), it names itself kubectl relay.
    symlinkSync(exe, join(dir, 'kubectl-relay'));
    const plugin = await runProgram(join(dir, 'kubectl-relay'), ['check', '--bogus'], { env: {}, cwd: dir });
    expect(plugin).toEqual({
      code: 2,
      out: '',
      err: 'kubectl relay: error: unknown flag --bogus (see kubectl relay check --help)\n',
    });
  });

  it('for arm64 is an aarch64 ELF executable with relayctl injected', () => {
    const image = readFileSync(join(sea, 'relayctl-linux-arm64'));
    expect(image.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // \x7fELF
    expect(image[4]).toBe(2); // ELFCLASS64
    expect(image[5]).toBe(1); // little-endian, so e_machine reads as such
    expect(image.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(image.readUInt16LE(18)).toBe(0xb7); // EM_AARCH64
    // postject flipped the fuse, so node looks for the blob, and the blob holds the bundle.
    expect(image.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(image.includes('relayctl: operate Kuberelay, the multicluster config-distribution relay.')).toBe(
      true,
    );
  });

  it.skipIf(qemu === undefined)('for arm64 runs under qemu-aarch64 where it is installed', async () => {
    const r = await runProgram(qemu ?? '', [join(sea, 'relayctl-linux-arm64'), '--version'], {
      env: {},
      cwd: dir,
    });
    expect(r).toEqual({
      code: 0,
      out: `relayctl ${RELAYCTL_VERSION} (Node.js v${nodeVersion}, linux/arm64, single executable)\n`,
      err: '',
    });
  });
});

describe('bin/relayctl and bin/kubectl-relay', () => {
  // Only the cache (where ./dev put Node 24) and a PATH: no node of the runner's unless asked.
  const env = (path: string) => ({ PATH: path, HOME: dir, KUBERELAY_CACHE_DIR: cacheDir() });
  const withNode = `${dirname(process.execPath)}${delimiter}/usr/bin${delimiter}/bin`;

  it('run from another folder and through symlinks, with Node 24 from PATH or from the cache', async () => {
    const links = join(dir, 'links');
    mkdirSync(links);
    symlinkSync(join(bin, 'relayctl'), join(links, 'relayctl'));
    symlinkSync(join(bin, 'kubectl-relay'), join(links, 'kubectl-relay'));
    for (const [file, program] of [
      [join(bin, 'relayctl'), 'relayctl'],
      [join(links, 'relayctl'), 'relayctl'],
      [join(bin, 'kubectl-relay'), 'kubectl relay'],
      [join(links, 'kubectl-relay'), 'kubectl relay'],
    ] as const) {
      const version = await runProgram(file, ['--version'], { env: env(withNode), cwd: dir });
      expect(version).toEqual({
        code: 0,
        out: `${program} ${RELAYCTL_VERSION} (Node.js ${process.version}, linux/${process.arch})\n`,
        err: '',
      });
    }
    const help = await runProgram(join(links, 'kubectl-relay'), ['check', '--help'], {
      env: env(withNode),
      cwd: dir,
    });
    expect(help.out).toContain('Usage:\n  kubectl relay check');
    const cached = join(cacheDir(), 'node', nodeVersion ?? '', 'node_modules', `node-linux-${process.arch}`);
    if (existsSync(cached)) {
      // No node >= 24 on this PATH unless the system has one: either way relayctl runs.
      const r = await runProgram(join(links, 'relayctl'), checkArgs(), {
        env: env('/usr/bin:/bin'),
        cwd: dir,
      });
      expectServerUp(r.out);
    }
  });

  it.skipIf(kubectl === undefined)('kubectl relay check runs the plugin from PATH', async () => {
    const path = `${bin}${delimiter}${dirname(kubectl ?? '')}${delimiter}${dirname(process.execPath)}`;
    const r = await runProgram(kubectl ?? '', ['relay', ...checkArgs(), '-o', 'json'], {
      env: env(path),
      cwd: dir,
    });
    expect(r.err).toBe('');
    const report = JSON.parse(r.out) as { namespace: string; server: { health: string } };
    expect(report).toMatchObject({ namespace: ns, server: { health: 'ok' } });
  });
});
