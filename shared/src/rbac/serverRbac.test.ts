import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/errorCode.js';
import { DEFAULT_KINDS, type KindInfo } from '../kinds/kindInfo.js';
import { userSubject } from './rbacObjects.js';
import { type AccessRequest, allows } from './rbacTestSupport.testkit.js';
import { serverRbac } from './serverRbac.js';

const NS = 'gloo-mesh';
const bundle = serverRbac({ kinds: DEFAULT_KINDS, namespace: NS });
const GW = 'gateway.networking.k8s.io';
const KC = 'admin.gloo.solo.io';

describe('serverRbac: what the management server may do', () => {
  it.each<[string, AccessRequest, boolean]>([
    // Sources: read everywhere, never write.
    ['list Gateways cluster-wide', { verb: 'list', group: GW, resource: 'gateways' }, true],
    ['watch GatewayClasses', { verb: 'watch', group: GW, resource: 'gatewayclasses' }, true],
    ['watch Upstreams', { verb: 'watch', group: 'gloo.solo.io', resource: 'upstreams' }, true],
    [
      'get a RouteOption',
      { verb: 'get', group: 'gateway.solo.io', resource: 'routeoptions', namespace: 'a' },
      true,
    ],
    ['create a Gateway', { verb: 'create', group: GW, resource: 'gateways', namespace: 'a' }, false],
    ['update a Gateway', { verb: 'update', group: GW, resource: 'gateways', namespace: NS }, false],
    ['patch an HTTPRoute', { verb: 'patch', group: GW, resource: 'httproutes', namespace: NS }, false],
    [
      'delete an Upstream',
      { verb: 'delete', group: 'gloo.solo.io', resource: 'upstreams', namespace: NS },
      false,
    ],
    [
      'watch CRDs',
      { verb: 'watch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      true,
    ],
    [
      'create a CRD',
      { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      false,
    ],
    // Events on sources in any namespace, core API only.
    [
      'create an Event anywhere',
      { verb: 'create', group: '', resource: 'events', namespace: 'httpbin' },
      true,
    ],
    [
      'patch an Event',
      { verb: 'patch', group: '', resource: 'events', namespace: 'httpbin', name: 'e' },
      true,
    ],
    [
      'delete an Event',
      { verb: 'delete', group: '', resource: 'events', namespace: 'httpbin', name: 'e' },
      false,
    ],
    [
      'create an events.k8s.io Event',
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'a' },
      false,
    ],
    // The registry: read, status patch, nothing else.
    [
      'watch KubernetesClusters in its namespace',
      { verb: 'watch', group: KC, resource: 'kubernetesclusters', namespace: NS },
      true,
    ],
    [
      'watch KubernetesClusters cluster-wide',
      { verb: 'watch', group: KC, resource: 'kubernetesclusters' },
      false,
    ],
    [
      'create a KubernetesCluster',
      { verb: 'create', group: KC, resource: 'kubernetesclusters', namespace: NS },
      false,
    ],
    [
      'delete a KubernetesCluster',
      { verb: 'delete', group: KC, resource: 'kubernetesclusters', namespace: NS, name: 'c' },
      false,
    ],
    [
      'patch a status',
      { verb: 'patch', group: KC, resource: 'kubernetesclusters/status', namespace: NS, name: 'c' },
      true,
    ],
    [
      'patch a spec',
      { verb: 'patch', group: KC, resource: 'kubernetesclusters', namespace: NS, name: 'c' },
      false,
    ],
    // Secrets: its namespace only.
    ['list Secrets in its namespace', { verb: 'list', group: '', resource: 'secrets', namespace: NS }, true],
    ['create the relay CA Secret', { verb: 'create', group: '', resource: 'secrets', namespace: NS }, true],
    [
      'delete a bootstrap Secret',
      { verb: 'delete', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-bootstrap-c' },
      true,
    ],
    [
      'update a Secret',
      { verb: 'update', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-relay-ca' },
      false,
    ],
    [
      'get a Secret elsewhere',
      { verb: 'get', group: '', resource: 'secrets', namespace: 'default', name: 's' },
      false,
    ],
    ['list Secrets cluster-wide', { verb: 'list', group: '', resource: 'secrets' }, false],
    // Its Lease and its ConfigMap.
    [
      'renew its Lease',
      { verb: 'patch', group: 'coordination.k8s.io', resource: 'leases', namespace: NS, name: 'l' },
      true,
    ],
    [
      'create a Lease elsewhere',
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' },
      false,
    ],
    [
      'update the rejected-agents ConfigMap',
      { verb: 'update', group: '', resource: 'configmaps', namespace: NS, name: 'kuberelay-rejected-agents' },
      true,
    ],
    [
      'update the rollout revisions ConfigMap',
      {
        verb: 'update',
        group: '',
        resource: 'configmaps',
        namespace: NS,
        name: 'kuberelay-rollout-revisions',
      },
      true,
    ],
    [
      'update another ConfigMap',
      { verb: 'update', group: '', resource: 'configmaps', namespace: NS, name: 'other' },
      false,
    ],
    ['list ConfigMaps', { verb: 'list', group: '', resource: 'configmaps', namespace: NS }, false],
    ['read Pods', { verb: 'list', group: '', resource: 'pods', namespace: NS }, false],
  ])('%s: %s', (_what, request, allowed) => {
    expect(allows(bundle, request)).toBe(allowed);
  });
});

describe('serverRbac: generated from the kinds list', () => {
  const custom: KindInfo = {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    namespaced: true,
  };
  it.each([
    { kinds: [custom], granted: ['widgets'], notGranted: ['gateways', 'upstreams'] },
    { kinds: [...DEFAULT_KINDS, custom], granted: ['widgets', 'gateways', 'upstreams'], notGranted: [] },
    {
      kinds: DEFAULT_KINDS.filter((k) => k.kind !== 'Upstream'),
      granted: ['gateways'],
      notGranted: ['upstreams'],
    },
  ])('grants watch on exactly the kinds listed ($granted)', ({ kinds, granted, notGranted }) => {
    const b = serverRbac({ kinds, namespace: NS });
    const groupOf = (plural: string) =>
      [...DEFAULT_KINDS, custom].find((k) => k.plural === plural)?.group ?? '';
    for (const resource of granted)
      expect(allows(b, { verb: 'watch', group: groupOf(resource), resource })).toBe(true);
    for (const resource of notGranted)
      expect(allows(b, { verb: 'watch', group: groupOf(resource), resource })).toBe(false);
  });

  it('writes one rule per API group, in the order of the kinds list', () => {
    const role = bundle.objects[0];
    expect(role?.kind).toBe('ClusterRole');
    const rules = role?.kind === 'ClusterRole' ? role.rules : [];
    expect(rules.slice(0, 4).map((r) => [r.apiGroups, r.resources])).toEqual([
      [['gateway.networking.k8s.io'], ['gatewayclasses', 'gateways', 'httproutes']],
      [['gateway.gloo.solo.io'], ['gatewayparameters']],
      [['gateway.solo.io'], ['httplisteneroptions', 'listeneroptions', 'routeoptions', 'virtualhostoptions']],
      [['gloo.solo.io'], ['upstreams']],
    ]);
  });
});

describe('serverRbac: objects', () => {
  it('binds a ClusterRole and a Role in its namespace to its ServiceAccount', () => {
    expect(bundle.objects.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
      ['ClusterRole', 'kuberelay-mgmt-server', undefined],
      ['ClusterRoleBinding', 'kuberelay-mgmt-server', undefined],
      ['Role', 'kuberelay-mgmt-server', NS],
      ['RoleBinding', 'kuberelay-mgmt-server', NS],
    ]);
    for (const o of bundle.objects) {
      if (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') {
        expect(o.subjects).toEqual([
          { kind: 'ServiceAccount', name: 'kuberelay-mgmt-server', namespace: NS },
        ]);
      }
    }
  });

  it('binds other subjects and names when asked', () => {
    const b = serverRbac({
      kinds: DEFAULT_KINDS,
      namespace: 'relay',
      subjects: [userSubject('u')],
      name: 'x',
    });
    const binding = b.objects.find((o) => o.kind === 'RoleBinding');
    expect(binding).toMatchObject({
      metadata: { name: 'x', namespace: 'relay' },
      roleRef: { kind: 'Role', name: 'x' },
      subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }],
    });
  });

  it('explains every rule, uses no wildcard, and never limits create by name', () => {
    for (const o of bundle.objects) {
      if (o.kind !== 'ClusterRole' && o.kind !== 'Role') continue;
      for (const rule of o.rules) {
        expect(bundle.reasons.get(rule)?.length ?? 0).toBeGreaterThan(40);
        expect(JSON.stringify(rule)).not.toContain('*');
        if (rule.resourceNames !== undefined) expect(rule.verbs).not.toContain('create');
      }
    }
  });

  it.each([
    { options: { kinds: [], namespace: NS }, message: /kinds list is empty/ },
    { options: { kinds: DEFAULT_KINDS, namespace: 'Not_A_Namespace' }, message: /not a namespace name/ },
    { options: { kinds: DEFAULT_KINDS, namespace: NS, subjects: [] }, message: /at least one subject/ },
  ])('refuses $message', ({ options, message }) => {
    expect(() => serverRbac(options)).toThrow(message);
    expect(() => serverRbac(options)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
  });
});
