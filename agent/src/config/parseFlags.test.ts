import { DEFAULT_KINDS } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { parseFlags } from './parseFlags.js';

describe('parseFlags', () => {
  it('applies defaults', () => {
    expect(parseFlags(['--cluster', 'c1'], { POD_NAME: 'agent-0' })).toEqual({
      ok: true,
      value: {
        help: false,
        flags: {
          kubeconfig: undefined,
          context: undefined,
          cluster: 'c1',
          server: undefined,
          tokenFile: undefined,
          mgmtCluster: undefined,
          credentialsSecret: 'kuberelay-agent-credentials',
          namespace: 'gloo-mesh',
          stateFile: '/var/lib/kuberelay/state.json',
          httpListen: ':9092',
          podName: 'agent-0',
          logLevel: 'info',
          kinds: DEFAULT_KINDS,
        },
      },
    });
  });

  it.each([['-h'], ['--help']])('%s asks for help', (flag) => {
    expect(parseFlags([flag])).toEqual({ ok: true, value: { help: true } });
  });

  it.each([
    { argv: ['--bogus'], message: "Unknown option '--bogus'" },
    { argv: ['extra'], message: 'Unexpected argument' },
    { argv: ['--server', 'nohostport'], message: '--server "nohostport" must be host:port' },
    { argv: ['--log-level', 'loud'], message: '--log-level "loud" must be one of' },
    { argv: ['--cluster', ''], message: '--cluster must not be empty' },
    { argv: ['--kinds', 'Widget.example.com/v1'], message: 'is not a default kind' },
  ])('rejects $argv', ({ argv, message }) => {
    const result = parseFlags(argv);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0].code).toBe('InvalidConfig');
      expect(result.errors[0].message).toContain(message);
    }
  });

  it('reports every bad flag at once', () => {
    const result = parseFlags(['--server', 'x', '--log-level', 'y']);
    expect(result.ok ? 0 : result.errors.length).toBe(2);
  });
});
