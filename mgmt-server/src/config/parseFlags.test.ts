import { DEFAULT_CLASS_MAPPING, DEFAULT_KINDS } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { parseClassMapping, parseFeatureGates, parseFlags } from './parseFlags.js';

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
          podName: 'mgmt-server-abc',
          kinds: DEFAULT_KINDS,
          classMapping: DEFAULT_CLASS_MAPPING,
          distributionEnabled: true,
          heartbeatSeconds: 5,
          logLevel: 'info',
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
});
