import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nameProgram, programName, RELAYCTL_VERSION } from './invocation.js';
import { runRelayctl } from './main.js';
import { recordingIo } from './testIo.testkit.js';

const plugin = { program: 'kubectl relay', runtime: 'Node.js v24.0.0, linux/x64' };

async function run(argv: string[], invocation = plugin) {
  const io = recordingIo({ env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
  const code = await runRelayctl(argv, io, invocation);
  return { code, out: io.out(), err: io.err() };
}

describe('relayctl --version', () => {
  it('is the version of mgmt-server/package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(RELAYCTL_VERSION).toBe(pkg.version);
  });

  it.each([[['--version']], [['--version', '--debug']]])(
    '%j prints the program, version and runtime',
    async (argv) => {
      const r = await run(argv, { program: 'relayctl', runtime: 'Node.js v24.0.0, linux/x64' });
      expect(r).toEqual({
        code: 0,
        out: `relayctl ${RELAYCTL_VERSION} (Node.js v24.0.0, linux/x64)\n`,
        err: '',
      });
    },
  );

  it('is a flag of relayctl alone, not of a command', async () => {
    const r = await run(['check', '--version']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('kubectl relay: error: unknown flag --version (see kubectl relay check --help)\n');
  });
});

describe('as the kubectl plugin', () => {
  it.each([
    ['/usr/local/bin/kubectl-relay', 'kubectl relay'],
    ['kubectl-relay', 'kubectl relay'],
    ['/repo/bin/relayctl', 'relayctl'],
    ['/repo/mgmt-server/bin/relayctl.js', 'relayctl'],
    ['/tmp/relayctl-linux-x64', 'relayctl'],
    [undefined, 'relayctl'],
  ])('started as %s it is named %s', (invokedAs, name) => {
    expect(programName(invokedAs)).toBe(name);
  });

  it('help names kubectl relay', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toContain('Usage:\n  kubectl relay COMMAND [flags]');
    expect(top.out).toContain('Run kubectl relay COMMAND --help');
    expect(top.out).not.toMatch(/\brelayctl\b/);
    const check = await run(['check', '--help']);
    expect(check.out).toContain('Usage:\n  kubectl relay check');
  });

  it('errors name kubectl relay; a longer word is kept', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^kubectl relay: error: unknown command "frobnicate" .*\(see kubectl relay --help\)\n$/,
    );
    expect(nameProgram('relayctls', plugin)).toBe('relayctls');
  });
});
