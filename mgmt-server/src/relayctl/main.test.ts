import { describe, expect, it } from 'vitest';
import { COMMANDS, runRelayctl } from './main.js';
import { recordingIo } from './testIo.testkit.js';

async function run(argv: string[], env: Record<string, string> = { KUBECONFIG: '/nonexistent/kubeconfig' }) {
  const io = recordingIo({ env });
  const code = await runRelayctl(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('relayctl help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the command list', async (...argv) => {
    const r = await run(argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    for (const c of COMMANDS) expect(r.out).toContain(`  ${c.name} `);
    expect(r.out).toContain('--kubecontext NAME');
  });

  it('without a command prints the usage on stderr and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('Usage:\n  relayctl COMMAND [flags]');
  });

  it.each(COMMANDS.map((c) => [c.name]))('%s --help shows its usage and the global flags', async (name) => {
    for (const argv of [
      [name, '--help'],
      ['help', name],
      [name, '--bogus', '-h'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`relayctl ${name}`);
      expect(r.out).toContain('Global flags:');
    }
  });
});

describe('relayctl command-line errors', () => {
  it.each([
    {
      argv: ['frobnicate'],
      err: 'relayctl: error: unknown command "frobnicate" (commands: register, deregister, rotate-ca, check, status, plan, explain, rollout) (see relayctl --help)\n',
    },
    { argv: ['help', 'nope'], err: 'relayctl: error: unknown command "nope" (see relayctl --help)\n' },
    {
      argv: ['check', '--bogus'],
      err: 'relayctl: error: unknown flag --bogus (see relayctl check --help)\n',
    },
    {
      argv: ['check', 'extra'],
      err: 'relayctl: error: unexpected argument "extra" (see relayctl check --help)\n',
    },
    {
      argv: ['check', '-o', 'yaml'],
      err: 'relayctl: error: --output must be table or json, not "yaml" (see relayctl check --help)\n',
    },
    {
      argv: ['register'],
      err: 'relayctl: error: missing argument <cluster> (see relayctl register --help)\n',
    },
    {
      argv: ['register', 'Not_A_Label'],
      err: 'relayctl: error: cluster name "Not_A_Label" is not a valid DNS label: it must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (see relayctl register --help)\n',
    },
    {
      argv: ['register', 'qa', '--server', 'nope'],
      err: 'relayctl: error: --server must be HOST:PORT, not "nope" (see relayctl register --help)\n',
    },
    {
      argv: ['status', 'httproute'],
      err: 'relayctl: error: expected KIND/NAME, e.g. httproute/my-route, not "httproute" (see relayctl status --help)\n',
    },
    { argv: ['--bogus'], err: 'relayctl: error: unknown flag --bogus (see relayctl --help)\n' },
  ])('$argv → exit 2', async ({ argv, err }) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(err);
  });

  it('a missing kubeconfig is one line, exit 1, and a stack only with --debug', async () => {
    const r = await run(['check']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'relayctl: error: no kubeconfig found at /nonexistent/kubeconfig (use --kubeconfig or set KUBECONFIG)\n',
    );
    const d = await run(['check', '--debug']);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^relayctl: error: CliError: no kubeconfig found.*\n\s+at /s);
  });
});
