import { DEFAULT_KINDS, formatKindsAnnotation, isHostPort, type KindInfo } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import type { LeaseObject } from './kubeResources.js';
import { discoverFromLeases, discoverKinds, readyzUrl, serverReplicas } from './serverLeases.js';

const now = new Date('2026-01-01T00:10:00Z');
const lease = (
  pod: string,
  renewTime: string | undefined,
  annotations: Record<string, string> = {},
): LeaseObject => ({
  metadata: { name: `kuberelay-mgmt-server-${pod}`, annotations },
  spec: { holderIdentity: pod, leaseDurationSeconds: 30, ...(renewTime ? { renewTime } : {}) },
});

describe('serverReplicas', () => {
  it('keeps only server Leases, sorted, with freshness and addresses', () => {
    const replicas = serverReplicas(
      [
        lease('b', '2026-01-01T00:09:50.000000Z', { 'kuberelay.dev/grpc-address': 'relay:9900' }),
        { metadata: { name: 'some-other-lease' }, spec: { renewTime: '2026-01-01T00:10:00Z' } },
        lease('a', '2026-01-01T00:09:00.000000Z', {
          'kuberelay.dev/http-address': '10.0.0.1:8080',
          'kuberelay.dev/mgmt-cluster': ' mgmt ',
        }),
        lease('c', undefined),
      ],
      now,
    );
    expect(
      replicas.map((r) => [r.pod, r.fresh, r.ageMs, r.grpcAddress, r.httpAddress, r.mgmtCluster]),
    ).toEqual([
      ['a', false, 60_000, undefined, '10.0.0.1:8080', 'mgmt'],
      ['b', true, 10_000, 'relay:9900', undefined, undefined],
      ['c', false, undefined, undefined, undefined, undefined],
    ]);
  });

  it.each([
    { age: '2026-01-01T00:09:30Z', fresh: true },
    { age: '2026-01-01T00:09:29Z', fresh: false },
  ])('renewed at $age is fresh: $fresh (30 s = 3 × 10 s)', ({ age, fresh }) => {
    expect(serverReplicas([lease('x', age)], now)[0]?.fresh).toBe(fresh);
  });
});

describe('discoverFromLeases', () => {
  const grpc = (v: string) => ({ 'kuberelay.dev/grpc-address': v });
  const fresh = '2026-01-01T00:09:55Z';
  const stale = '2026-01-01T00:00:00Z';
  it.each([
    { name: 'no Lease', leases: [], result: { ok: false, problem: 'no management server Lease exists' } },
    {
      name: 'one Lease',
      leases: [lease('a', fresh, grpc('relay:9900'))],
      result: { ok: true, value: 'relay:9900', from: 'Lease kuberelay-mgmt-server-a' },
    },
    {
      name: 'replicas agreeing',
      leases: [lease('a', fresh, grpc('relay:9900')), lease('b', fresh, grpc('relay:9900'))],
      result: {
        ok: true,
        value: 'relay:9900',
        from: 'Lease kuberelay-mgmt-server-a, kuberelay-mgmt-server-b',
      },
    },
    {
      name: 'a stale Lease is ignored next to a fresh one',
      leases: [lease('a', fresh, grpc('relay:9900')), lease('old', stale, grpc('old:9900'))],
      result: { ok: true, value: 'relay:9900', from: 'Lease kuberelay-mgmt-server-a' },
    },
    {
      name: 'only stale Leases are used',
      leases: [lease('old', stale, grpc('old:9900'))],
      result: { ok: true, value: 'old:9900', from: 'Lease kuberelay-mgmt-server-old' },
    },
    {
      name: 'replicas disagreeing',
      leases: [lease('a', fresh, grpc('10.0.0.1:9900')), lease('b', fresh, grpc('10.0.0.2:9900'))],
      result: {
        ok: false,
        problem: 'the server Leases do not agree on the gRPC address (10.0.0.1:9900, 10.0.0.2:9900)',
      },
    },
    {
      name: 'no annotation',
      leases: [lease('a', fresh)],
      result: { ok: false, problem: 'no management server Lease announces its gRPC address' },
    },
  ])('$name', ({ leases, result }) => {
    expect(discoverFromLeases(serverReplicas(leases, now), (r) => r.grpcAddress, 'gRPC address')).toEqual(
      result,
    );
  });
});

describe('isHostPort', () => {
  it.each([
    { v: 'relay.gloo-mesh.svc:9900', ok: true },
    { v: '10.0.0.1:9900', ok: true },
    { v: '[::1]:9900', ok: true },
    { v: 'relay', ok: false },
    { v: 'relay:0', ok: false },
    { v: 'relay:70000', ok: false },
    { v: 'http://relay:9900', ok: false },
  ])('$v → $ok', ({ v, ok }) => {
    expect(isHostPort(v)).toBe(ok);
  });
});

describe('readyzUrl', () => {
  it.each([
    { a: '10.0.0.1:8080', url: 'http://10.0.0.1:8080/readyz' },
    { a: 'https://relay:8443/', url: 'https://relay:8443/readyz' },
  ])('$a', ({ a, url }) => {
    expect(readyzUrl(a)).toBe(url);
  });
});

describe('discoverKinds', () => {
  const GRANT: KindInfo = {
    group: 'gateway.networking.k8s.io',
    version: 'v1beta1',
    kind: 'ReferenceGrant',
    plural: 'referencegrants',
    namespaced: true,
  };
  const [GATEWAY_CLASS] = DEFAULT_KINDS;
  const kindsOf = (kinds: readonly KindInfo[]) => ({ 'kuberelay.dev/kinds': formatKindsAnnotation(kinds) });
  const fresh = '2026-01-01T00:09:55Z';
  const stale = '2026-01-01T00:00:00Z';
  const defaultNote =
    'no management server Lease announces its kinds (annotation kuberelay.dev/kinds); showing the default kinds';
  it.each([
    { name: 'no Lease', leases: [], kinds: DEFAULT_KINDS, from: 'default', note: defaultNote },
    {
      name: 'a Lease without the annotation (older server)',
      leases: [lease('a', fresh)],
      kinds: DEFAULT_KINDS,
      from: 'default',
      note: defaultNote,
    },
    {
      name: 'an unreadable annotation',
      leases: [lease('a', fresh, { 'kuberelay.dev/kinds': 'Gateway' })],
      kinds: DEFAULT_KINDS,
      from: 'default',
      note: defaultNote,
    },
    {
      name: 'a server with an added kind',
      leases: [lease('a', fresh, kindsOf([...DEFAULT_KINDS, GRANT]))],
      kinds: [...DEFAULT_KINDS, GRANT],
      from: 'Lease kuberelay-mgmt-server-a',
      note: undefined,
    },
    {
      name: 'a fresh Lease wins over a stale one',
      leases: [lease('a', stale, kindsOf([GRANT])), lease('b', fresh, kindsOf(DEFAULT_KINDS))],
      kinds: DEFAULT_KINDS,
      from: 'Lease kuberelay-mgmt-server-b',
      note: undefined,
    },
    {
      name: 'only stale Leases still say what the server distributes',
      leases: [lease('a', stale, kindsOf([GRANT]))],
      kinds: [GRANT],
      from: 'Lease kuberelay-mgmt-server-a',
      note: undefined,
    },
    {
      name: 'replicas that disagree give the union',
      leases: [
        lease('a', fresh, kindsOf([GRANT])),
        lease('b', fresh, kindsOf(GATEWAY_CLASS ? [GATEWAY_CLASS, GRANT] : [])),
      ],
      kinds: [GRANT, GATEWAY_CLASS],
      from: 'Lease kuberelay-mgmt-server-a, kuberelay-mgmt-server-b',
      note: 'the server replicas announce different kinds; showing the sources of all of them',
    },
  ])('$name', ({ leases, kinds, from, note }) => {
    expect(discoverKinds(serverReplicas(leases, now))).toEqual({ kinds, from, note });
  });
});
