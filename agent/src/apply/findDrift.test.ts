import type { KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { type Drift, driftSignature, findDrift } from './findDrift.js';

const AGENT = 'kuberelay-agent';
const SOURCE = 'gloo://mgmt/ns/default/kind/Upstream/name/u';

const desired: KubeObject = {
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name: 'u',
    namespace: 'apps',
    labels: { 'relay.solo.io/cluster': 'mgmt', team: 'a' },
    annotations: { 'gloo.solo.io/distributed-source': SOURCE },
  },
  spec: { static: { hosts: [{ addr: 'a.example.com', port: 80 }] } },
};

type Managed = { manager: string; operation?: string; subresource?: string; fieldsV1: unknown };

function live(patch: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec?: unknown;
  status?: unknown;
  managed?: Managed[];
}): KubeObject {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name: 'u',
      namespace: 'apps',
      uid: 'uid-1',
      resourceVersion: '7',
      labels: patch.labels ?? { 'relay.solo.io/cluster': 'mgmt', team: 'a' },
      annotations: patch.annotations ?? { 'gloo.solo.io/distributed-source': SOURCE },
      managedFields: (patch.managed ?? []).map((m) => ({
        operation: 'Update',
        fieldsType: 'FieldsV1',
        apiVersion: 'gloo.solo.io/v1',
        ...m,
      })),
    },
    spec: patch.spec ?? { static: { hosts: [{ addr: 'a.example.com', port: 80 }] } },
    ...(patch.status === undefined ? {} : { status: patch.status }),
  };
}

const route: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'apps' },
  spec: {
    parentRefs: [{ name: 'gw', namespace: 'gloo-system' }],
    rules: [{ backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'u' }] }],
  },
};
const defaultedRouteSpec = {
  parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', namespace: 'gloo-system' }],
  rules: [
    {
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'u', weight: 1 }],
    },
  ],
};

describe('findDrift', () => {
  it.each<{ name: string; live: KubeObject; desired?: KubeObject; drift: Drift[] }>([
    { name: 'identical: nothing to do', live: live({}), drift: [] },
    {
      name: 'status and extra labels/annotations are not drift',
      live: live({
        labels: { 'relay.solo.io/cluster': 'mgmt', team: 'a', extra: 'x' },
        annotations: { 'gloo.solo.io/distributed-source': SOURCE, 'note.example.com/x': 'y' },
        status: { statuses: { ok: true } },
      }),
      drift: [],
    },
    {
      name: 'a changed spec value',
      live: live({ spec: { static: { hosts: [{ addr: 'a.example.com', port: 81 }] } } }),
      drift: [{ path: 'spec.static.hosts[0].port', reason: 'Changed' }],
    },
    {
      name: 'an appended list entry',
      live: live({ spec: { static: { hosts: [{ addr: 'a.example.com', port: 80 }, { addr: 'b' }] } } }),
      drift: [{ path: 'spec.static.hosts', reason: 'Changed' }],
    },
    {
      name: 'a removed spec field',
      live: live({ spec: { static: {} } }),
      drift: [{ path: 'spec.static.hosts', reason: 'Missing' }],
    },
    {
      name: 'a managed label edited and another removed',
      live: live({ labels: { 'relay.solo.io/cluster': 'other' } }),
      drift: [
        { path: 'metadata.labels["relay.solo.io/cluster"]', reason: 'Changed' },
        { path: 'metadata.labels["team"]', reason: 'Missing' },
      ],
    },
    {
      name: 'the distributed-source annotation missing (an object we take over)',
      live: live({ annotations: {} }),
      drift: [{ path: 'metadata.annotations["gloo.solo.io/distributed-source"]', reason: 'Missing' }],
    },
    {
      name: 'a spec field added by another field manager',
      live: live({
        spec: { static: { hosts: [{ addr: 'a.example.com', port: 80 }] }, useHttp2: true },
        managed: [
          { manager: AGENT, fieldsV1: { 'f:spec': { '.': {}, 'f:static': { 'f:hosts': {} } } } },
          { manager: 'kubectl-edit', fieldsV1: { 'f:spec': { 'f:useHttp2': {} } } },
        ],
      }),
      drift: [{ path: 'spec.useHttp2', reason: 'AddedByOther' }],
    },
    {
      name: 'a foreign manager co-owning fields the copy sets is not drift by itself',
      live: live({
        managed: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:static': { 'f:hosts': {} } } } }],
      }),
      drift: [],
    },
    {
      name: 'a foreign status writer is ignored',
      live: live({
        status: { x: 1 },
        managed: [{ manager: 'gloo', subresource: 'status', fieldsV1: { 'f:status': { 'f:x': {} } } }],
      }),
      drift: [],
    },
    {
      name: 'server defaults (HTTPRoute) owned by us are not drift',
      desired: route,
      live: {
        ...route,
        metadata: {
          ...route.metadata,
          managedFields: [
            {
              manager: AGENT,
              operation: 'Update',
              fieldsType: 'FieldsV1',
              fieldsV1: { 'f:spec': { 'f:parentRefs': {}, 'f:rules': {} } },
            },
          ],
        },
        spec: defaultedRouteSpec,
      },
      drift: [],
    },
    {
      name: 'list-map keys: an entry added by someone else',
      desired: {
        ...route,
        spec: { listeners: [{ name: 'http', port: 80 }] },
      },
      live: {
        ...route,
        metadata: {
          ...route.metadata,
          managedFields: [
            {
              manager: 'kubectl',
              operation: 'Update',
              fieldsType: 'FieldsV1',
              fieldsV1: {
                'f:spec': {
                  'f:listeners': {
                    'k:{"name":"http"}': { 'f:port': {} },
                    'k:{"name":"https"}': { '.': {}, 'f:name': {} },
                  },
                },
              },
            },
          ],
        },
        spec: { listeners: [{ name: 'http', port: 80 }] },
      },
      drift: [{ path: 'spec.listeners.k:{"name":"https"}', reason: 'AddedByOther' }],
    },
  ])('$name', ({ live: liveObject, desired: wanted, drift }) => {
    expect(findDrift(wanted ?? desired, liveObject, { fieldManager: AGENT })).toEqual(drift);
  });

  it('gives the same signature for the same difference in any order', () => {
    const a: Drift[] = [
      { path: 'spec.a', reason: 'Changed' },
      { path: 'spec.b', reason: 'Missing' },
    ];
    expect(driftSignature(a)).toBe(driftSignature([...a].reverse()));
    expect(driftSignature(a)).not.toBe(driftSignature(a.slice(1)));
  });
});
