import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/errorCode.js';
import { DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { agentRbac } from './agentRbac.js';
import { type AccessRequest, allows } from './rbacTestSupport.testkit.js';

const NS = 'gloo-mesh';
const GW = 'gateway.networking.k8s.io';
const everywhere = agentRbac({ kinds: DEFAULT_KINDS, namespace: NS });
const onlyHttpbin = agentRbac({
  kinds: DEFAULT_KINDS,
  namespace: NS,
  writableNamespaces: ['httpbin', 'edge'],
});

type Row = [string, AccessRequest, boolean, boolean];

describe('agentRbac: what the agent may do (without / with writableNamespaces [httpbin, edge])', () => {
  it.each<Row>([
    // Copies: read everywhere (label-selected informers), write as configured.
    ['watch Gateways cluster-wide', { verb: 'watch', group: GW, resource: 'gateways' }, true, true],
    [
      'get a Gateway anywhere',
      { verb: 'get', group: GW, resource: 'gateways', namespace: 'x', name: 'g' },
      true,
      true,
    ],
    [
      'create a Gateway in httpbin',
      { verb: 'create', group: GW, resource: 'gateways', namespace: 'httpbin' },
      true,
      true,
    ],
    [
      'update an Upstream in edge',
      { verb: 'update', group: 'gloo.solo.io', resource: 'upstreams', namespace: 'edge', name: 'u' },
      true,
      true,
    ],
    [
      'delete an HTTPRoute in httpbin',
      { verb: 'delete', group: GW, resource: 'httproutes', namespace: 'httpbin', name: 'r' },
      true,
      true,
    ],
    [
      'create a Gateway in gloo-system',
      { verb: 'create', group: GW, resource: 'gateways', namespace: 'gloo-system' },
      true,
      false,
    ],
    [
      'delete a RouteOption in default',
      { verb: 'delete', group: 'gateway.solo.io', resource: 'routeoptions', namespace: 'default', name: 'o' },
      true,
      false,
    ],
    ['create a GatewayClass', { verb: 'create', group: GW, resource: 'gatewayclasses' }, true, false],
    ['watch GatewayClasses', { verb: 'watch', group: GW, resource: 'gatewayclasses' }, true, true],
    [
      'patch a Gateway (never used)',
      { verb: 'patch', group: GW, resource: 'gateways', namespace: 'httpbin', name: 'g' },
      false,
      false,
    ],
    // Namespaces and CRDs: read only.
    ['watch Namespaces', { verb: 'watch', group: '', resource: 'namespaces' }, true, true],
    ['get a Namespace', { verb: 'get', group: '', resource: 'namespaces', name: 'httpbin' }, true, true],
    ['create a Namespace', { verb: 'create', group: '', resource: 'namespaces' }, false, false],
    [
      'watch CRDs',
      { verb: 'watch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      true,
      true,
    ],
    [
      'delete a CRD',
      { verb: 'delete', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', name: 'c' },
      false,
      false,
    ],
    // Its credentials Secret and no other.
    [
      'get its credentials',
      { verb: 'get', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-agent-credentials' },
      true,
      true,
    ],
    [
      'update its credentials',
      { verb: 'update', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-agent-credentials' },
      true,
      true,
    ],
    [
      'patch its credentials (never used)',
      { verb: 'patch', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-agent-credentials' },
      false,
      false,
    ],
    [
      'delete its credentials',
      { verb: 'delete', group: '', resource: 'secrets', namespace: NS, name: 'kuberelay-agent-credentials' },
      false,
      false,
    ],
    [
      'get another Secret of its namespace',
      { verb: 'get', group: '', resource: 'secrets', namespace: NS, name: 'other' },
      false,
      false,
    ],
    ['list Secrets', { verb: 'list', group: '', resource: 'secrets', namespace: NS }, false, false],
    ['create a Secret', { verb: 'create', group: '', resource: 'secrets', namespace: NS }, false, false],
    [
      'get its credentials name elsewhere',
      {
        verb: 'get',
        group: '',
        resource: 'secrets',
        namespace: 'httpbin',
        name: 'kuberelay-agent-credentials',
      },
      false,
      false,
    ],
    // Nothing of the relay's management objects, no Events; Leases only in its own namespace.
    [
      'create a KubernetesCluster',
      { verb: 'create', group: 'admin.gloo.solo.io', resource: 'kubernetesclusters', namespace: NS },
      false,
      false,
    ],
    ...(['get', 'list', 'create', 'update', 'patch', 'delete'] as const).map(
      (verb): Row => [
        `${verb} a Lease in its namespace (leader election, presence)`,
        { verb, group: 'coordination.k8s.io', resource: 'leases', namespace: NS },
        true,
        true,
      ],
    ),
    [
      'watch Leases (it never watches them)',
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', namespace: NS },
      false,
      false,
    ],
    [
      'create a Lease in another namespace',
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' },
      false,
      false,
    ],
    [
      'update a Lease cluster-wide',
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' },
      false,
      false,
    ],
    ['create an Event', { verb: 'create', group: '', resource: 'events', namespace: NS }, false, false],
  ])('%s', (_what, request, withoutLimit, withLimit) => {
    expect(allows(everywhere, request)).toBe(withoutLimit);
    expect(allows(onlyHttpbin, request)).toBe(withLimit);
  });
});

describe('agentRbac: objects', () => {
  it('without writableNamespaces: one ClusterRole and a Role for its credentials', () => {
    expect(everywhere.objects.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
      ['ClusterRole', 'kuberelay-agent', undefined],
      ['ClusterRoleBinding', 'kuberelay-agent', undefined],
      ['Role', 'kuberelay-agent', NS],
      ['RoleBinding', 'kuberelay-agent', NS],
    ]);
  });

  it('with writableNamespaces: a Role per writable namespace (repeats once)', () => {
    const b = agentRbac({ kinds: DEFAULT_KINDS, namespace: NS, writableNamespaces: ['a', 'b', 'a'] });
    expect(b.objects.map((o) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([
      ['ClusterRole', 'kuberelay-agent', undefined],
      ['ClusterRoleBinding', 'kuberelay-agent', undefined],
      ['Role', 'kuberelay-agent-copies', 'a'],
      ['RoleBinding', 'kuberelay-agent-copies', 'a'],
      ['Role', 'kuberelay-agent-copies', 'b'],
      ['RoleBinding', 'kuberelay-agent-copies', 'b'],
      ['Role', 'kuberelay-agent', NS],
      ['RoleBinding', 'kuberelay-agent', NS],
    ]);
  });

  it('follows the kinds list and the credentials Secret name', () => {
    const upstreamOnly = DEFAULT_KINDS.filter((k) => k.kind === 'Upstream');
    const b = agentRbac({ kinds: upstreamOnly, namespace: 'relay', credentialsSecret: 'creds' });
    expect(allows(b, { verb: 'create', group: 'gloo.solo.io', resource: 'upstreams', namespace: 'x' })).toBe(
      true,
    );
    expect(allows(b, { verb: 'create', group: GW, resource: 'gateways', namespace: 'x' })).toBe(false);
    expect(
      allows(b, { verb: 'get', group: '', resource: 'secrets', namespace: 'relay', name: 'creds' }),
    ).toBe(true);
    expect(
      allows(b, {
        verb: 'get',
        group: '',
        resource: 'secrets',
        namespace: 'relay',
        name: 'kuberelay-agent-credentials',
      }),
    ).toBe(false);
  });

  it('explains every rule and never limits create by name', () => {
    for (const b of [everywhere, onlyHttpbin]) {
      for (const o of b.objects) {
        if (o.kind !== 'ClusterRole' && o.kind !== 'Role') continue;
        for (const rule of o.rules) {
          expect(b.reasons.get(rule)?.length ?? 0).toBeGreaterThan(40);
          if (rule.resourceNames !== undefined) expect(rule.verbs).not.toContain('create');
        }
      }
    }
  });

  it.each([
    { writableNamespaces: [], message: /writableNamespaces is empty/ },
    { writableNamespaces: ['ok', 'Bad'], message: /writable namespace "Bad"/ },
  ])('refuses $message', ({ writableNamespaces, message }) => {
    const build = () => agentRbac({ kinds: DEFAULT_KINDS, namespace: NS, writableNamespaces });
    expect(build).toThrow(message);
    expect(build).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
  });
});
