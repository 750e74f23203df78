import { describe, expect, it } from 'vitest';
import { DEFAULT_KINDS, type KindInfo } from '../kinds/kindInfo.js';
import type { KubeObject } from './kubeObject.js';
import { validateSource } from './validateSource.js';

function kind(name: string): KindInfo {
  const info = DEFAULT_KINDS.find((k) => k.kind === name);
  if (info === undefined) {
    throw new Error(`no default kind ${name}`);
  }
  return info;
}

function route(rules: unknown[], name = 'httpbin-mydomain'): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'gloo-mesh' },
    spec: { parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-mesh' }], rules },
  };
}

const UPSTREAM_REF = { name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' };

describe('validateSource', () => {
  it.each([
    { name: 'the reference HTTPRoute', source: route([{ backendRefs: [UPSTREAM_REF] }]) },
    { name: 'a route without rules', source: route([]) },
    {
      name: 'a rule without backends (redirect only)',
      source: route([{ filters: [{ type: 'RequestRedirect' }] }]),
    },
    {
      name: 'a mirror to an Upstream',
      source: route([{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: UPSTREAM_REF } }] }]),
    },
    { name: 'a 63-character name', source: route([], 'a'.repeat(63)) },
  ])('accepts $name', ({ source }) => {
    expect(validateSource(source, kind('HTTPRoute'))).toEqual([]);
  });

  it.each([
    {
      name: 'a Service backend (no kind)',
      source: route([{ backendRefs: [UPSTREAM_REF, { name: 'httpbin', port: 8000 }] }]),
      errors: [
        [
          'NonUpstreamBackend',
          'backend spec.rules[0].backendRefs[1] ("httpbin") is of kind Service (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
      ],
    },
    {
      name: 'an Upstream without group',
      source: route([{ backendRefs: [{ name: 'httpbin', kind: 'Upstream' }] }]),
      errors: [
        [
          'NonUpstreamBackend',
          'backend spec.rules[0].backendRefs[0] ("httpbin") is of kind Upstream (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
      ],
    },
    {
      name: 'every bad backend, including mirrors',
      source: route([
        { backendRefs: [{ name: 'a', kind: 'Service', group: '' }] },
        {
          backendRefs: [
            {
              ...UPSTREAM_REF,
              filters: [{ requestMirror: { backendRef: { name: 'm', kind: 'Backend', group: 'x.io' } } }],
            },
          ],
          filters: [{ requestMirror: { backendRef: { name: 'svc' } } }],
        },
      ]),
      errors: [
        [
          'NonUpstreamBackend',
          'backend spec.rules[0].backendRefs[0] ("a") is of kind Service (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
        [
          'NonUpstreamBackend',
          'backend spec.rules[1].filters[0].requestMirror.backendRef ("svc") is of kind Service (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
        [
          'NonUpstreamBackend',
          'backend spec.rules[1].backendRefs[0].filters[0].requestMirror.backendRef ("m") is of kind Backend.x.io: a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
      ],
    },
    {
      name: 'a name longer than 63 characters, and a Service',
      source: route([{ backendRefs: [{ name: 's' }] }], 'r'.repeat(64)),
      errors: [
        [
          'InvalidName',
          `name "${'r'.repeat(64)}" cannot be used for copies: it must be no more than 63 characters (has 64)`,
        ],
        [
          'NonUpstreamBackend',
          'backend spec.rules[0].backendRefs[0] ("s") is of kind Service (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
        ],
      ],
    },
    {
      name: 'a name that is not a DNS label',
      source: route([], 'my.route'),
      errors: [
        [
          'InvalidName',
          'name "my.route" cannot be used for copies: it must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
        ],
      ],
    },
  ])('rejects $name', ({ source, errors }) => {
    expect(validateSource(source, kind('HTTPRoute')).map((e) => [e.code, e.message])).toEqual(errors);
  });

  it('does not check backends of other kinds', () => {
    const upstream: KubeObject = {
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'httpbin', namespace: 'gloo-mesh' },
      spec: { rules: [{ backendRefs: [{ name: 'svc' }] }] },
    };
    expect(validateSource(upstream, kind('Upstream'))).toEqual([]);
  });

  it.each([
    {
      name: 'namespaced kind without namespace',
      source: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', metadata: { name: 'u' } },
      info: kind('Upstream'),
      codes: ['InvalidObject'],
    },
    {
      name: 'cluster-scoped kind without namespace',
      source: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'c' } },
      info: kind('GatewayClass'),
      codes: [],
    },
  ])('$name', ({ source, info, codes }) => {
    expect(validateSource(source, info).map((e) => e.code)).toEqual(codes);
  });
});
