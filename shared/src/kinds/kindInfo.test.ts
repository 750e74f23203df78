import { describe, expect, it } from 'vitest';
import {
  apiVersionOf,
  createKindRegistry,
  DEFAULT_KINDS,
  groupKindOf,
  type KindInfo,
  splitApiVersion,
} from './kindInfo.js';

describe('DEFAULT_KINDS', () => {
  it('is the docs/spec.md §6 table', () => {
    expect(
      DEFAULT_KINDS.map((k) => [k.kind, apiVersionOf(k), k.namespaced ? 'namespaced' : 'cluster']),
    ).toEqual([
      ['GatewayClass', 'gateway.networking.k8s.io/v1', 'cluster'],
      ['Gateway', 'gateway.networking.k8s.io/v1', 'namespaced'],
      ['HTTPRoute', 'gateway.networking.k8s.io/v1', 'namespaced'],
      ['GatewayParameters', 'gateway.gloo.solo.io/v1alpha1', 'namespaced'],
      ['HttpListenerOption', 'gateway.solo.io/v1', 'namespaced'],
      ['ListenerOption', 'gateway.solo.io/v1', 'namespaced'],
      ['RouteOption', 'gateway.solo.io/v1', 'namespaced'],
      ['VirtualHostOption', 'gateway.solo.io/v1', 'namespaced'],
      ['Upstream', 'gloo.solo.io/v1', 'namespaced'],
    ]);
    expect(DEFAULT_KINDS.map((k) => k.plural)).toEqual([
      'gatewayclasses',
      'gateways',
      'httproutes',
      'gatewayparameters',
      'httplisteneroptions',
      'listeneroptions',
      'routeoptions',
      'virtualhostoptions',
      'upstreams',
    ]);
  });

  it('cannot be mutated', () => {
    expect(Object.isFrozen(DEFAULT_KINDS)).toBe(true);
    expect(DEFAULT_KINDS.every((k) => Object.isFrozen(k))).toBe(true);
  });
});

describe('apiVersion helpers', () => {
  it.each([
    {
      group: 'gloo.solo.io',
      version: 'v1',
      apiVersion: 'gloo.solo.io/v1',
      groupKind: 'Upstream.gloo.solo.io',
    },
    { group: '', version: 'v1', apiVersion: 'v1', groupKind: 'Upstream' },
  ])('$apiVersion', ({ group, version, apiVersion, groupKind }) => {
    expect(apiVersionOf({ group, version })).toBe(apiVersion);
    expect(splitApiVersion(apiVersion)).toEqual({ group, version });
    expect(groupKindOf({ group, kind: 'Upstream' })).toBe(groupKind);
  });
});

describe('createKindRegistry', () => {
  const registry = createKindRegistry(DEFAULT_KINDS);

  it.each([
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', plural: 'gateways' },
    { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', plural: 'upstreams' },
    { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'Gateway', plural: undefined },
    { apiVersion: 'gloo.solo.io/v1', kind: 'Gateway', plural: undefined },
    { apiVersion: 'v1', kind: 'Service', plural: undefined },
  ])('byApiVersionKind($apiVersion, $kind)', ({ apiVersion, kind, plural }) => {
    expect(registry.byApiVersionKind(apiVersion, kind)?.plural).toBe(plural);
  });

  it.each([
    { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', plural: 'httproutes' },
    { group: 'gateway.solo.io', kind: 'RouteOption', plural: 'routeoptions' },
    { group: '', kind: 'Service', plural: undefined },
  ])('byGroupKind($group, $kind)', ({ group, kind, plural }) => {
    expect(registry.byGroupKind(group, kind)?.plural).toBe(plural);
  });

  it('keeps the first of two entries for one group and kind', () => {
    const first: KindInfo = { group: 'x.io', version: 'v1', kind: 'Foo', plural: 'foos', namespaced: true };
    const second: KindInfo = { ...first, version: 'v2', plural: 'other' };
    expect(createKindRegistry([first, second]).byGroupKind('x.io', 'Foo')).toBe(first);
  });
});
