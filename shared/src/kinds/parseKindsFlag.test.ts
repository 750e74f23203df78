import { describe, expect, it } from 'vitest';
import type { RelayError } from '../errors/relayError.js';
import { DEFAULT_KINDS } from './kindInfo.js';
import { parseKindsFlag } from './parseKindsFlag.js';

function messages(errors: readonly RelayError[]): string[] {
  return errors.map((e) => e.message);
}

describe('parseKindsFlag', () => {
  it.each([
    {
      name: 'default kinds take plural and scope from docs/spec.md §6',
      value: 'Gateway.gateway.networking.k8s.io/v1,Upstream.gloo.solo.io/v1',
      expected: [
        {
          group: 'gateway.networking.k8s.io',
          version: 'v1',
          kind: 'Gateway',
          plural: 'gateways',
          namespaced: true,
        },
        { group: 'gloo.solo.io', version: 'v1', kind: 'Upstream', plural: 'upstreams', namespaced: true },
      ],
    },
    {
      name: 'cluster-scoped default keeps its scope',
      value: ' GatewayClass.gateway.networking.k8s.io/v1 ',
      expected: [
        {
          group: 'gateway.networking.k8s.io',
          version: 'v1',
          kind: 'GatewayClass',
          plural: 'gatewayclasses',
          namespaced: false,
        },
      ],
    },
    {
      name: 'a default kind at another version keeps plural and scope',
      value: 'Gateway.gateway.networking.k8s.io/v1beta1',
      expected: [
        {
          group: 'gateway.networking.k8s.io',
          version: 'v1beta1',
          kind: 'Gateway',
          plural: 'gateways',
          namespaced: true,
        },
      ],
    },
    {
      name: 'unknown kinds with plural and scope; empty entries skipped',
      value: 'Foo.example.com/v1alpha1:foos:Cluster,, ConfigMap/v1:configmaps:Namespaced,',
      expected: [
        { group: 'example.com', version: 'v1alpha1', kind: 'Foo', plural: 'foos', namespaced: false },
        { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
      ],
    },
    {
      name: 'explicit plural and scope override the defaults',
      value: 'Upstream.gloo.solo.io/v1:ups:Cluster',
      expected: [
        { group: 'gloo.solo.io', version: 'v1', kind: 'Upstream', plural: 'ups', namespaced: false },
      ],
    },
  ])('accepts: $name', ({ value, expected }) => {
    expect(parseKindsFlag(value)).toEqual({ ok: true, value: expected });
  });

  it('accepts the whole default set written out', () => {
    const value = DEFAULT_KINDS.map((k) => `${k.kind}.${k.group}/${k.version}`).join(',');
    expect(parseKindsFlag(value)).toEqual({ ok: true, value: DEFAULT_KINDS });
  });

  it.each([
    { name: 'empty', value: ' , ', errors: ['the list of kinds is empty'] },
    {
      name: 'unknown kind without plural',
      value: 'Foo.example.com/v1',
      errors: [
        'kinds entry "Foo.example.com/v1": Foo.example.com is not a default kind: give its plural and scope, e.g. Foo.example.com/v1:foos:Namespaced',
      ],
    },
    {
      name: 'plural without scope',
      value: 'Foo.example.com/v1:foos',
      errors: [
        'kinds entry "Foo.example.com/v1:foos": expected Kind.group/version or Kind.group/version:plural:Namespaced|Cluster',
      ],
    },
    {
      name: 'missing version',
      value: 'Gateway.gateway.networking.k8s.io',
      errors: [
        'kinds entry "Gateway.gateway.networking.k8s.io": expected exactly one "/" between Kind.group and version',
      ],
    },
    {
      name: 'lower-case kind',
      value: 'gateway.gateway.networking.k8s.io/v1',
      errors: [
        'kinds entry "gateway.gateway.networking.k8s.io/v1": "gateway" is not a kind name (an upper-case letter, then letters and digits)',
      ],
    },
    {
      name: 'bad group',
      value: 'Foo.Example_com/v1:foos:Cluster',
      errors: [
        'kinds entry "Foo.Example_com/v1:foos:Cluster": "Example_com" is not an API group (a DNS subdomain such as example.com)',
      ],
    },
    {
      name: 'bad version',
      value: 'Foo.example.com/1:foos:Cluster',
      errors: [
        'kinds entry "Foo.example.com/1:foos:Cluster": "1" is not an API version such as v1, v1beta1 or v1alpha2',
      ],
    },
    {
      name: 'bad plural',
      value: 'Foo.example.com/v1:Foos:Cluster',
      errors: [
        'kinds entry "Foo.example.com/v1:Foos:Cluster": "Foos" is not a resource plural (lower case, such as gateways)',
      ],
    },
    {
      name: 'bad scope',
      value: 'Foo.example.com/v1:foos:namespaced',
      errors: [
        'kinds entry "Foo.example.com/v1:foos:namespaced": scope "namespaced" must be Namespaced or Cluster',
      ],
    },
    {
      name: 'duplicates, and every bad entry is reported',
      value: 'Gateway.gateway.networking.k8s.io/v1, Gateway.gateway.networking.k8s.io/v1beta1, X/v1',
      errors: [
        'kinds entry "Gateway.gateway.networking.k8s.io/v1beta1": kind Gateway.gateway.networking.k8s.io is listed more than once',
        'kinds entry "X/v1": X is not a default kind: give its plural and scope, e.g. X/v1:xs:Namespaced',
      ],
    },
  ])('rejects: $name', ({ value, errors }) => {
    const result = parseKindsFlag(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(messages(result.errors)).toEqual(errors);
      expect(result.errors.every((e) => e.code === 'InvalidConfig')).toBe(true);
    }
  });
});
