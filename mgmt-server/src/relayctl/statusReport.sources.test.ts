import { describe, expect, it } from 'vitest';
import type { EventObject } from './kubeResources.js';
import {
  CLASS,
  cluster,
  copy,
  ROUTE,
  source,
  statusOf,
  UPSTREAM,
  up,
  upstreamUri,
} from './statusReport.testkit.js';

// relayctl status per source: each target's result from the clusters' reports (also truncated or
// stale ones), the source's errors, warnings and Warning Events, and the order of sources.

const rows = (s: ReturnType<typeof statusOf>[number]) =>
  s.targets.map(
    (t) =>
      `${t.cluster} ${t.namespace ?? '-'} ${t.result}${t.selected ? '' : ' (unselected)'}${t.code ? ` ${t.code}` : ''}`,
  );

describe('buildSourceStatuses', () => {
  it.each([
    {
      name: 'applied, conflict, not connected and an unselected leftover',
      object: source(UPSTREAM, 'web', '*/httpbin'),
      health: 'error',
      rows: [
        'cluster-1 httpbin applied',
        'cluster-2 httpbin conflict Conflict',
        'cluster-3 httpbin not-connected',
        'cluster-2 old-ns applied (unselected)',
      ],
      errors: [],
      warnings: [],
    },
    {
      name: 'failed',
      object: source(UPSTREAM, 'failing', 'cluster-1/httpbin'),
      health: 'error',
      rows: ['cluster-1 httpbin failed NamespaceNotFound'],
      errors: [],
      warnings: [],
    },
    {
      name: 'pending when the agent has not reported it, and unregistered names',
      object: source(UPSTREAM, 'new', 'cluster-1, prod-eu'),
      health: 'warning',
      rows: ['cluster-1 gloo-mesh pending'],
      errors: [],
      warnings: ['UnregisteredCluster: names clusters that are not registered: prod-eu'],
    },
    {
      name: 'empty value: nowhere, fine',
      object: source(UPSTREAM, 'nowhere', ''),
      health: 'ok',
      rows: [],
      errors: [],
      warnings: [],
    },
    {
      name: 'invalid annotation: errors, existing copies shown as kept',
      object: source(UPSTREAM, 'web', 'a/b/c, cluster-1/Bad_NS'),
      health: 'error',
      rows: [
        'cluster-1 httpbin applied (unselected)',
        'cluster-2 httpbin conflict (unselected) Conflict',
        'cluster-2 old-ns applied (unselected)',
      ],
      errors: [
        'InvalidAnnotation: distribute-to entry "a/b/c": more than one "/" (expected cluster or cluster/namespace)',
        'InvalidAnnotation: distribute-to entry "cluster-1/Bad_NS": namespace "Bad_NS" is not a valid namespace name: it must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
      ],
      warnings: [],
    },
    {
      name: 'namespace on a cluster-scoped kind',
      object: source(CLASS, 'gloo-gateway-distribute', '*/x'),
      health: 'error',
      rows: [],
      errors: [
        'NamespaceOnClusterScoped: distribute-to entry "*/x": the kind is cluster-scoped, so a namespace ("x") cannot be given',
      ],
      warnings: [],
    },
    {
      name: 'a cluster-scoped source has no target namespace',
      object: source(CLASS, 'gloo-gateway-distribute', 'cluster-1'),
      health: 'warning',
      rows: ['cluster-1 - pending'],
      errors: [],
      warnings: [],
    },
    {
      name: 'an HTTPRoute with a Service backend is not distributed',
      object: {
        ...source(ROUTE, 'route', 'cluster-1/httpbin'),
        spec: { rules: [{ backendRefs: [{ name: 'httpbin', port: 8000 }] }] },
      },
      health: 'error',
      rows: [],
      errors: [
        'NonUpstreamBackend: backend spec.rules[0].backendRefs[0] ("httpbin") is of kind Service (core API group): a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)',
      ],
      warnings: [],
    },
  ])('$name', ({ object, health, rows: expected, errors, warnings }) => {
    const [s] = statusOf([object]);
    expect(s && rows(s)).toEqual(expected);
    expect(s?.health).toBe(health);
    expect(s?.errors.map((e) => `${e.code}: ${e.message}`)).toEqual(errors);
    expect(s?.warnings.map((e) => `${e.code}: ${e.message}`)).toEqual(warnings);
    expect(s?.valid).toBe(errors.length === 0);
  });

  it('does not take another source’s copy at the same key for its own', () => {
    const [s] = statusOf([source(UPSTREAM, 'web', 'cluster-1/httpbin', 'other-ns')]);
    expect(s?.targets).toEqual([
      {
        cluster: 'cluster-1',
        namespace: 'httpbin',
        result: 'pending',
        code: null,
        message: `the copy at this place comes from another source (${upstreamUri('web')}); see this source's events`,
        selected: true,
      },
    ]);
  });

  it('shows an unlisted copy as applied when every failure and warning of the cluster is listed', () => {
    // Over 500 copies, status lists failures, conflicts, pending and warned copies first.
    const truncated = [
      cluster('big', {
        connected: true,
        counts: { applied: 899, failed: 1, conflict: 0, pending: 0, warnings: 0 },
        copies: [copy(up('z', 'x'), 'Failed', { source: upstreamUri('z'), code: 'ApplyFailed' })],
      }),
    ];
    const [s] = statusOf([source(UPSTREAM, 'b', 'big/x')], { clusters: truncated });
    expect(s?.targets.map((t) => [t.result, t.message])).toEqual([['applied', null]]);
    expect(s?.health).toBe('ok');
  });

  it('says unknown when the status lists only part of the copies and not all of its problems', () => {
    const truncated = [
      cluster('big', {
        connected: true,
        counts: { applied: 898, failed: 2, conflict: 0, pending: 0 },
        copies: [copy(up('a', 'x'), 'Failed', { source: upstreamUri('a'), code: 'ApplyFailed' })],
      }),
    ];
    const [s] = statusOf([source(UPSTREAM, 'b', 'big/x')], { clusters: truncated });
    expect(s?.targets.map((t) => [t.result, t.message])).toEqual([
      [
        'unknown',
        "not among the 1 of 900 copies the cluster's status lists (failures are listed first, so it is most likely applied)",
      ],
    ]);
  });

  it('shows an applied copy with a warning as applied, with its reason, and the source as a warning', () => {
    const warned = [
      cluster('old', {
        connected: true,
        counts: { applied: 1, failed: 0, conflict: 0, pending: 0, warnings: 1 },
        copies: [
          copy(up('a', 'x'), 'Applied', {
            source: upstreamUri('a'),
            code: 'FieldsPrunedByWorkloadSchema',
            message: "the workload cluster's schema dropped spec.sslConfig",
          }),
        ],
      }),
    ];
    const [s] = statusOf([source(UPSTREAM, 'a', 'old/x')], { clusters: warned });
    expect(s?.health).toBe('warning');
    expect(s?.targets.map((t) => [t.result, t.code, t.message])).toEqual([
      ['applied', 'FieldsPrunedByWorkloadSchema', "the workload cluster's schema dropped spec.sslConfig"],
    ]);
  });

  it('keeps the last report of a disconnected cluster, saying so', () => {
    const stale = [
      cluster('c', {
        connected: false,
        copies: [
          copy(up('a', 'x'), 'Failed', { source: upstreamUri('a'), code: 'ApplyFailed', message: 'boom' }),
        ],
      }),
    ];
    const [s] = statusOf([source(UPSTREAM, 'a', 'c/x')], { clusters: stale });
    expect(s?.targets.map((t) => [t.result, t.code, t.message])).toEqual([
      ['failed', 'ApplyFailed', 'boom (last report; the agent is not connected)'],
    ]);
  });

  it('joins the source’s Warning Events, most recent first, at most 5', () => {
    const event = (i: number, over: Partial<EventObject> = {}): EventObject => ({
      metadata: { name: `e${i}`, namespace: 'gloo-mesh' },
      involvedObject: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        name: 'web',
        namespace: 'gloo-mesh',
        uid: 'uid-web',
      },
      type: 'Warning',
      reason: 'CopyFailed',
      message: `m${i}`,
      count: i,
      lastTimestamp: `2026-01-01T00:0${i}:00Z`,
      ...over,
    });
    const events = [
      ...[1, 2, 3, 4, 5, 6].map((i) => event(i)),
      event(7, { type: 'Normal' }),
      event(8, { involvedObject: { kind: 'Upstream', name: 'web', namespace: 'other' } }),
      event(9, {
        involvedObject: { kind: 'Upstream', name: 'web', namespace: 'gloo-mesh', uid: 'an-older-web' },
      }),
      event(0, { lastTimestamp: null, series: { count: 12, lastObservedTime: '2026-01-01T00:09:30Z' } }),
    ];
    const [s] = statusOf([source(UPSTREAM, 'web', 'cluster-1/httpbin')], { events });
    expect(s?.events.map((e) => `${e.message} x${e.count} ${e.lastSeen}`)).toEqual([
      'm0 x12 2026-01-01T00:09:30Z',
      'm6 x6 2026-01-01T00:06:00Z',
      'm5 x5 2026-01-01T00:05:00Z',
      'm4 x4 2026-01-01T00:04:00Z',
      'm3 x3 2026-01-01T00:03:00Z',
    ]);
  });

  it('orders sources by kind (docs/spec.md §6 order), namespace and name', () => {
    const statuses = statusOf([
      source(UPSTREAM, 'b', ''),
      source(ROUTE, 'r', ''),
      source(UPSTREAM, 'a', '', 'z'),
      source(UPSTREAM, 'a', ''),
      source(CLASS, 'c', ''),
    ]);
    expect(statuses.map((s) => `${s.kind} ${s.namespace}/${s.name}`)).toEqual([
      'GatewayClass null/c',
      'HTTPRoute gloo-mesh/r',
      'Upstream gloo-mesh/a',
      'Upstream gloo-mesh/b',
      'Upstream z/a',
    ]);
  });
});
