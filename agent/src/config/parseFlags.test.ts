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
          caFile: undefined,
          certFile: undefined,
          keyFile: undefined,
          bootstrapTokenFile: undefined,
          renewFraction: 0.66,
          mgmtCluster: undefined,
          credentialsSecret: 'kuberelay-agent-credentials',
          namespace: 'gloo-mesh',
          stateFile: '/var/lib/kuberelay/state.json',
          httpListen: ':9092',
          podName: 'agent-0',
          logLevel: 'info',
          kinds: DEFAULT_KINDS,
          resyncIntervalMs: 300_000,
          leaderElection: {
            leaseName: 'kuberelay-agent',
            timings: { leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 },
          },
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
    { argv: ['--renew-fraction', '1'], message: '--renew-fraction "1" must be a number between 0 and 1' },
    { argv: ['--renew-fraction', 'half'], message: '--renew-fraction "half" must be a number' },
    { argv: ['--cert-file', 'c.pem'], message: '--cert-file and --key-file go together' },
    { argv: ['--cert-file', 'c.pem', '--key-file', 'k.pem'], message: 'need --ca-file' },
    { argv: ['--resync-interval', '500ms'], message: '--resync-interval "500ms" must be a duration' },
    { argv: ['--resync-interval', '0s'], message: 'of at least 1s' },
    { argv: ['--leader-elect', 'yes'], message: '--leader-elect "yes" must be true or false' },
    { argv: ['--leader-elect-lease', 'Bad_Name'], message: 'must be a Kubernetes object name' },
    {
      argv: ['--leader-elect-lease-duration', 'ten'],
      message: '--leader-elect-lease-duration "ten" must be a positive duration',
    },
    {
      argv: ['--leader-elect-renew-deadline', '12s'],
      message:
        '--leader-elect-lease-duration (10s) must be longer than --leader-elect-renew-deadline (12s): a leader must stop writing before a standby may take over',
    },
    {
      argv: ['--leader-elect-retry-period', '7s'],
      message: '--leader-elect-renew-deadline (7s) must be longer than --leader-elect-retry-period (7s)',
    },
    { argv: ['--leader-elect-lease-duration', '10500ms'], message: 'must be whole seconds' },
  ])('rejects $argv', ({ argv, message }) => {
    const result = parseFlags(argv);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0].code).toBe('InvalidConfig');
      expect(result.errors[0].message).toContain(message);
    }
  });

  it('reads the credential file flags and the renew fraction', () => {
    const result = parseFlags([
      '--ca-file',
      'ca.pem',
      '--cert-file',
      'tls.crt',
      '--key-file',
      'tls.key',
      '--bootstrap-token-file',
      'token',
      '--renew-fraction',
      '0.5',
    ]);
    expect(result.ok && !result.value.help ? result.value.flags : undefined).toMatchObject({
      caFile: 'ca.pem',
      certFile: 'tls.crt',
      keyFile: 'tls.key',
      bootstrapTokenFile: 'token',
      renewFraction: 0.5,
    });
  });

  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
  ])('reads --resync-interval %s', (value, ms) => {
    const result = parseFlags(['--resync-interval', value]);
    expect(result.ok && !result.value.help ? result.value.flags.resyncIntervalMs : undefined).toBe(ms);
  });

  it.each<[string[], unknown]>([
    [['--leader-elect=false'], undefined],
    [
      [
        '--leader-elect-lease=relay-b',
        '--leader-elect-lease-duration=15s',
        '--leader-elect-renew-deadline=10s',
        '--leader-elect-retry-period=1500ms',
      ],
      {
        leaseName: 'relay-b',
        timings: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 1_500 },
      },
    ],
  ])('reads leader election %j', (argv, expected) => {
    const result = parseFlags(argv);
    expect(result.ok && !result.value.help ? result.value.flags.leaderElection : 'error').toEqual(expected);
  });

  it('reports every bad flag at once', () => {
    const result = parseFlags(['--server', 'x', '--log-level', 'y']);
    expect(result.ok ? 0 : result.errors.length).toBe(2);
  });
});
