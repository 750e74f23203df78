import { DEFAULT_CLASS_MAPPING, DEFAULT_KINDS } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { defaultServerSans, parseClassMapping, parseFeatureGates, parseFlags } from './parseFlags.js';

const environment = { env: { POD_NAME: 'mgmt-server-abc' }, hostname: 'host-1' };
const parse = (...argv: string[]) => parseFlags(argv, environment);

describe('parseFlags', () => {
  it('applies the defaults around the one required flag', () => {
    const result = parse('--cluster-name', 'mgmt');
    expect(result).toEqual({
      ok: true,
      value: {
        help: false,
        config: {
          kubeconfig: undefined,
          context: undefined,
          clusterName: 'mgmt',
          namespace: 'gloo-mesh',
          grpcListen: { host: '0.0.0.0', port: 9900 },
          httpListen: { host: '0.0.0.0', port: 9091 },
          dashboardListen: undefined,
          podName: 'mgmt-server-abc',
          kinds: DEFAULT_KINDS,
          classMapping: DEFAULT_CLASS_MAPPING,
          distributionEnabled: true,
          heartbeatSeconds: 5,
          logLevel: 'info',
          caValidityMs: 365 * 86_400_000,
          serverSans: defaultServerSans('gloo-mesh', undefined),
          serverCertValidityMs: 30 * 86_400_000,
          agentCertValidityMs: 7 * 86_400_000,
          limits: {
            maxStreamsPerCluster: 2,
            streamMessagesPerSecond: 50,
            streamMessageBurst: 200,
            maxRefusalsPerMinute: 60,
            maxConnectionsPerAddress: 256,
            statusWritesPerSecond: 200,
            maxConnections: 10_000,
          },
        },
      },
    });
  });

  it('reads every flag', () => {
    const result = parse(
      '--cluster-name=mgmt',
      '--namespace=relay',
      '--kubeconfig=/k',
      '--context=c',
      '--grpc-listen=127.0.0.1:0',
      '--http-listen=[::1]:9',
      '--dashboard-listen=127.0.0.1:9092',
      '--pod-name=p',
      '--kinds=Gateway.gateway.networking.k8s.io/v1',
      '--gateway-class-mapping=a=b, c=d',
      '--feature-gates=ConfigDistribution=false',
      '--heartbeat-seconds=2',
      '--log-level=debug',
    );
    expect(result.ok && !result.value.help && result.value.config).toMatchObject({
      namespace: 'relay',
      kubeconfig: '/k',
      context: 'c',
      grpcListen: { host: '127.0.0.1', port: 0 },
      httpListen: { host: '::1', port: 9 },
      dashboardListen: { host: '127.0.0.1', port: 9092 },
      podName: 'p',
      kinds: [expect.objectContaining({ kind: 'Gateway' })],
      classMapping: { a: 'b', c: 'd' },
      distributionEnabled: false,
      heartbeatSeconds: 2,
      logLevel: 'debug',
    });
  });

  it('falls back to the host name without POD_NAME', () => {
    const result = parseFlags(['--cluster-name=mgmt'], { env: {}, hostname: 'host-1' });
    expect(result.ok && !result.value.help && result.value.config.podName).toBe('host-1');
  });

  it.each([['-h'], ['--help'], ['--cluster-name=x', '--help']])('%s asks for help', (...argv) => {
    expect(parse(...argv)).toEqual({ ok: true, value: { help: true } });
  });

  it.each([
    { argv: [], problem: '--cluster-name is required' },
    { argv: ['--cluster-name=Mgmt'], problem: 'not a DNS label' },
    { argv: ['--cluster-name=m', '--grpc-listen=9900'], problem: '--grpc-listen "9900"' },
    { argv: ['--cluster-name=m', '--http-listen=:70000'], problem: '--http-listen' },
    { argv: ['--cluster-name=m', '--dashboard-listen=localhost'], problem: '--dashboard-listen' },
    { argv: ['--cluster-name=m', '--kinds=Nope/v1'], problem: 'not a default kind' },
    { argv: ['--cluster-name=m', '--feature-gates=Foo=true'], problem: 'unknown gate "Foo"' },
    {
      argv: ['--cluster-name=m', '--feature-gates=ConfigDistribution=no'],
      problem: 'ConfigDistribution=true or',
    },
    { argv: ['--cluster-name=m', '--heartbeat-seconds=0'], problem: '--heartbeat-seconds "0"' },
    { argv: ['--cluster-name=m', '--log-level=loud'], problem: '--log-level "loud"' },
    { argv: ['--cluster-name=m', '--bogus'], problem: "Unknown option '--bogus'" },
    { argv: ['--cluster-name=m', 'extra'], problem: 'positional' },
  ])('refuses $argv', ({ argv, problem }) => {
    const result = parse(...argv);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.message).join('\n')).toContain(problem);
    expect(result.ok ? undefined : result.errors[0].code).toBe('InvalidConfig');
  });

  it('reports every bad flag at once', () => {
    const result = parse('--log-level=x', '--heartbeat-seconds=x');
    expect(result.ok ? 0 : result.errors.length).toBe(3);
  });
});

describe('parseClassMapping', () => {
  it.each([
    { value: '', expected: {} },
    {
      value: 'gloo-gateway-distribute=gloo-gateway',
      expected: { 'gloo-gateway-distribute': 'gloo-gateway' },
    },
    { value: ' a = b ,, c=d ', expected: { a: 'b', c: 'd' } },
  ])('parses "$value"', ({ value, expected }) => {
    expect(parseClassMapping(value)).toEqual({ ok: true, value: expected });
  });

  it.each(['a', 'a=b=c', 'a=B', 'a=b,a=c'])('refuses "%s"', (value) => {
    expect(parseClassMapping(value).ok).toBe(false);
  });
});

describe('parseFeatureGates', () => {
  it('parses the known gate', () => {
    const result = parseFeatureGates('ConfigDistribution=true');
    expect(result.ok && result.value.get('ConfigDistribution')).toBe(true);
  });

  it('reads the mutual TLS flags', () => {
    const result = parse(
      '--cluster-name=mgmt',
      '--ca-validity=730d',
      '--server-san=relay.example.com',
      '--server-san=10.0.0.7',
      '--server-cert-validity=12h',
      '--agent-cert-validity=90m',
    );
    expect(result.ok && !result.value.help && result.value.config).toMatchObject({
      caValidityMs: 730 * 86_400_000,
      serverSans: ['relay.example.com', '10.0.0.7'],
      serverCertValidityMs: 12 * 3_600_000,
      agentCertValidityMs: 90 * 60_000,
    });
  });

  it('defaults the server SANs to loopback, the Service names and POD_IP', () => {
    const result = parseFlags(['--cluster-name=mgmt', '--namespace=relay'], {
      env: { POD_IP: '10.1.2.3' },
      hostname: 'h',
    });
    expect(result.ok && !result.value.help && result.value.config.serverSans).toEqual([
      'localhost',
      '127.0.0.1',
      'kuberelay-mgmt-server',
      'kuberelay-mgmt-server.relay',
      'kuberelay-mgmt-server.relay.svc',
      'kuberelay-mgmt-server.relay.svc.cluster.local',
      '10.1.2.3',
    ]);
  });

  it('adds --extra-server-san to the defaults, and reads the address agents dial', () => {
    const result = parseFlags(
      [
        '--cluster-name=mgmt',
        '--extra-server-san=relay.example.com',
        '--agent-address=relay.example.com:443',
      ],
      { env: {}, hostname: 'h' },
    );
    const config = result.ok && !result.value.help ? result.value.config : undefined;
    expect(config?.serverSans.slice(0, 2)).toEqual(['localhost', '127.0.0.1']);
    expect(config?.serverSans.at(-1)).toBe('relay.example.com');
    expect(config?.agentAddress).toBe('relay.example.com:443');
    expect(parse('--cluster-name=mgmt').ok && parse('--cluster-name=mgmt')).toMatchObject({
      value: { config: { agentAddress: undefined } },
    });
  });

  it.each([
    { argv: ['--extra-server-san=a b'], flag: 'extra-server-san', message: 'neither a DNS name' },
    { argv: ['--agent-address=relay.example.com'], flag: 'agent-address', message: 'not HOST:PORT' },
    { argv: ['--ca-validity=1y'], flag: 'ca-validity', message: 'must be a duration' },
    { argv: ['--agent-cert-validity=5m'], flag: 'agent-cert-validity', message: 'shorter than the minimum' },
    {
      argv: ['--max-streams-per-cluster=-1'],
      flag: 'max-streams-per-cluster',
      message: 'whole number from 0 (off)',
    },
    {
      argv: ['--stream-messages-per-second=1.5'],
      flag: 'stream-messages-per-second',
      message: 'whole number from 0 (off)',
    },
    {
      argv: ['--ca-validity=10d', '--server-cert-validity=30d'],
      flag: 'server-cert-validity',
      message: 'longer than --ca-validity',
    },
    { argv: ['--server-san=not a name'], flag: 'server-san', message: 'neither a DNS name' },
  ])('refuses $argv', ({ argv, flag, message }) => {
    const result = parse('--cluster-name=mgmt', ...argv);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0].details.flag).toBe(flag);
    expect(result.errors[0].message).toContain(message);
  });
});
