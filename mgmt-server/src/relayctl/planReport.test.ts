import { DEFAULT_CLASS_MAPPING, DEFAULT_KINDS, type KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { renderPlan } from './planRender.js';
import { computePlan, type PlanInput } from './planReport.js';

// relayctl plan's core over the reference example (deploy/examples/config-distro.yaml): what a
// new, edited, moved or broken source would do, against the agents' state or live objects.

const source = (
  kind: string,
  apiVersion: string,
  name: string,
  to: string | undefined,
  spec: object,
): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    namespace: 'gloo-mesh',
    ...(to === undefined ? {} : { annotations: { 'gloo.solo.io/distribute-to': to } }),
  },
  spec,
});
const gateway = (to: string | undefined, port = 8080) =>
  source('Gateway', 'gateway.networking.k8s.io/v1', 'distributed-gateway', to, {
    gatewayClassName: 'gloo-gateway-distribute',
    listeners: [{ protocol: 'HTTP', port, name: 'http' }],
  });
const route = (to: string) =>
  source('HTTPRoute', 'gateway.networking.k8s.io/v1', 'httpbin-mydomain', to, {
    parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-mesh' }],
  });

const GW = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
const ROUTE = 'gateway.networking.k8s.io/HTTPRoute/httpbin/httpbin-mydomain';

function plan(proposed: KubeObject[], current: KubeObject[], more: Partial<PlanInput> = {}) {
  return computePlan({
    proposed,
    current,
    clusters: [
      { name: 'cluster-1', status: undefined },
      { name: 'cluster-2', status: undefined },
    ],
    settings: { mgmtCluster: 'mgmt', classMapping: DEFAULT_CLASS_MAPPING, kinds: DEFAULT_KINDS },
    ...more,
  });
}
const actions = (p: ReturnType<typeof plan>) => p.copies.map((c) => `${c.cluster} ${c.key} ${c.action}`);

describe('computePlan', () => {
  it('a new source: created where it selects, rendered as the server renders it, unregistered names warned', () => {
    const p = plan([gateway('cluster-1/gloo-system,cluster-9/gloo-system')], []);
    expect(actions(p)).toEqual([`cluster-1 ${GW} create`]);
    expect(p.copies[0]?.after?.spec).toMatchObject({ gatewayClassName: 'gloo-gateway' });
    expect(p.copies[0]?.after?.metadata.annotations).toEqual({
      'gloo.solo.io/distributed-source': 'gloo://mgmt/ns/gloo-mesh/kind/Gateway/name/distributed-gateway',
    });
    expect(p.sources[0]).toMatchObject({
      targets: [{ cluster: 'cluster-1', namespace: 'gloo-system' }],
      errors: [],
      warnings: [expect.objectContaining({ code: 'UnregisteredCluster' })],
    });
    expect(p.problems).toBe(0);
  });

  it('a new annotation moves copies: pruned where no longer selected, created where newly selected', () => {
    const p = plan([gateway('cluster-2/gloo-system')], [gateway('cluster-1/gloo-system')]);
    expect(actions(p)).toEqual([`cluster-1 ${GW} prune`, `cluster-2 ${GW} create`]);
  });

  it('an edit updates, with the copy before and after; copies of other sources it changes are listed', () => {
    const p = plan([gateway('*/gloo-system', 9090)], [gateway('*/gloo-system'), route('*/httpbin')]);
    expect(actions(p)).toEqual([`cluster-1 ${GW} update`, `cluster-2 ${GW} update`]);
    expect(p.copies[0]?.before?.spec).toMatchObject({ listeners: [{ port: 8080 }] });
    expect(p.copies[0]?.after?.spec).toMatchObject({ listeners: [{ port: 9090 }] });
    // The Gateway moves namespace: the route's parentRefs follow it, so the route's copies change.
    const moved = plan([gateway('*/gloo-edge')], [gateway('*/gloo-system'), route('*/httpbin')]);
    expect(actions(moved)).toContain(`cluster-1 ${ROUTE} update`);
    expect(moved.copies.find((c) => c.key === ROUTE)?.after?.spec).toMatchObject({
      parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-edge' }],
    });
  });

  it('an unchanged source lists its copies as unchanged; removing the annotation prunes them', () => {
    expect(actions(plan([gateway('cluster-1/gloo-system')], [gateway('cluster-1/gloo-system')]))).toEqual([
      `cluster-1 ${GW} unchanged`,
    ]);
    expect(actions(plan([gateway(undefined)], [gateway('cluster-1/gloo-system')]))).toEqual([
      `cluster-1 ${GW} prune`,
    ]);
  });

  it('an invalid annotation is an error, and the copies it had are kept (as the server keeps them)', () => {
    const p = plan([gateway('cluster-1/Not_A_Namespace')], [gateway('*/gloo-system')]);
    expect(p.sources[0]?.errors.length).toBeGreaterThan(0);
    expect(p.problems).toBeGreaterThan(0);
    expect(actions(p)).toEqual([`cluster-1 ${GW} unchanged`, `cluster-2 ${GW} unchanged`]);
  });

  it('a conflict the agent reported, or an object the relay does not own in the live cluster, is a conflict', () => {
    const reported = plan([gateway('cluster-1/gloo-system', 9090)], [gateway('cluster-1/gloo-system')], {
      clusters: [
        {
          name: 'cluster-1',
          status: { copies: [{ key: GW, outcome: 'Conflict', code: 'Conflict', message: 'not ours' }] },
        },
      ],
    });
    expect(actions(reported)).toEqual([`cluster-1 ${GW} conflict`]);
    expect(reported.problems).toBe(1);

    const foreign: KubeObject = {
      ...gateway(undefined),
      metadata: { name: 'distributed-gateway', namespace: 'gloo-system', uid: 'u', resourceVersion: '7' },
    };
    const live = plan([gateway('cluster-1/gloo-system')], [], {
      live: new Map([['cluster-1', new Map([[GW, foreign]])]]),
    });
    expect(live.copies[0]).toMatchObject({ action: 'conflict', against: 'live' });
    expect(live.copies[0]?.before?.metadata).not.toHaveProperty('resourceVersion');
  });

  it('against live: what the API server defaulted on top is no difference; a missing object is a create', () => {
    const planned = plan([gateway('cluster-1/gloo-system')], []).copies[0]?.after;
    if (planned === undefined) throw new Error('no planned copy');
    const defaulted: KubeObject = {
      ...planned,
      metadata: { ...planned.metadata, uid: 'u', resourceVersion: '3', generation: 1 },
      spec: {
        ...(planned.spec as object),
        listeners: [
          { protocol: 'HTTP', port: 8080, name: 'http', allowedRoutes: { namespaces: { from: 'Same' } } },
        ],
      },
      status: { conditions: [] },
    } as KubeObject;
    const same = plan([gateway('cluster-1/gloo-system')], [gateway('cluster-1/gloo-system')], {
      live: new Map([['cluster-1', new Map([[GW, defaulted]])]]),
    });
    expect(actions(same)).toEqual([`cluster-1 ${GW} unchanged`]);
    const gone = plan([gateway('cluster-1/gloo-system')], [gateway('cluster-1/gloo-system')], {
      live: new Map([['cluster-1', new Map([[GW, null]])]]),
    });
    expect(actions(gone)).toEqual([`cluster-1 ${GW} create`]);
  });

  it('a paused source: nothing it would write is written; an edit under the pause changes no copy', () => {
    const pause = (o: KubeObject): KubeObject => ({
      ...o,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, 'kuberelay.dev/paused': 'true' } },
    });
    const fresh = plan([pause(gateway('cluster-1/gloo-system'))], []);
    expect(actions(fresh)).toEqual([`cluster-1 ${GW} paused`]);
    expect(fresh.copies[0]?.reason).toContain('would create it once kuberelay.dev/paused is removed');
    expect(fresh.sources[0]?.warnings.map((w) => w.code)).toContain('Paused');
    // The copy in place is held as it is (the edit waits for the resume); the newly selected
    // cluster gets the current version, paused, so nothing is created there either.
    const held = plan([pause(gateway('cluster-2/gloo-system', 9090))], [gateway('cluster-1/gloo-system')]);
    expect(actions(held)).toEqual([`cluster-1 ${GW} unchanged`, `cluster-2 ${GW} paused`]);
    expect(held.copies[0]?.after?.spec).toMatchObject({ listeners: [{ port: 8080 }] });
  });

  it('against live: a field the source ignores is no difference, another one still is', () => {
    const ignoring = (port: number): KubeObject => {
      const o = gateway('cluster-1/gloo-system', port);
      return {
        ...o,
        metadata: {
          ...o.metadata,
          annotations: { ...o.metadata.annotations, 'kuberelay.dev/ignore-fields': 'spec.listeners[*].port' },
        },
      };
    };
    const planned = plan([ignoring(8080)], []).copies[0]?.after;
    if (planned === undefined) throw new Error('no planned copy');
    const listeners = (name: string, port: number) => ({
      ...(planned.spec as object),
      listeners: [{ protocol: 'HTTP', port, name }],
    });
    const ported: KubeObject = { ...planned, spec: listeners('http', 9999) };
    const live = (o: KubeObject) => ({ live: new Map([['cluster-1', new Map([[GW, o]])]]) });
    expect(actions(plan([ignoring(8080)], [ignoring(8080)], live(ported)))).toEqual([
      `cluster-1 ${GW} unchanged`,
    ]);
    const renamed: KubeObject = { ...planned, spec: listeners('other', 9999) };
    const update = plan([ignoring(8080)], [ignoring(8080)], live(renamed));
    expect(actions(update)).toEqual([`cluster-1 ${GW} update`]);
    expect(update.copies[0]?.before?.spec).toMatchObject({ listeners: [{ name: 'other', port: 9999 }] });
  });

  it('a rollout: every wave planned as reached, each copy saying the wave it waits for', () => {
    const waved = (port: number): KubeObject => {
      const o = gateway('*/gloo-system', port);
      return {
        ...o,
        metadata: {
          ...o.metadata,
          annotations: { ...o.metadata.annotations, 'kuberelay.dev/rollout': 'cluster-1; cluster-2' },
        },
      };
    };
    const p = plan([waved(9090)], [waved(8080)]);
    expect(p.copies.map((c) => `${c.cluster} ${c.action} ${c.reason ?? ''}`)).toEqual([
      'cluster-1 update rollout wave 1 of 2: first',
      'cluster-2 update rollout wave 2 of 2: once the earlier waves applied it',
    ]);
    expect(p.copies[1]?.after?.spec).toMatchObject({ listeners: [{ port: 9090 }] });
  });

  it('renders a table, the created copy and a diff for an update', () => {
    const text = renderPlan(plan([gateway('*/gloo-system', 9090)], [gateway('cluster-1/gloo-system')]));
    expect(text).toContain('selects cluster-1 (gloo-system), cluster-2 (gloo-system)');
    expect(text).toMatch(
      /cluster-1\s+gateway\.networking\.k8s\.io\/Gateway\/gloo-system\/distributed-gateway\s+🟢 update/,
    );
    expect(text).toContain('-      port: 8080');
    expect(text).toContain('+      port: 9090');
    expect(text).toContain('created as');
    expect(text).toContain('Nothing would conflict or fail.');
  });
});

describe('computePlan leaves out', () => {
  it("other sources' copies the change does not touch, even when their agent reported a conflict", () => {
    const p = plan(
      [gateway('cluster-1/gloo-system', 9090)],
      [gateway('cluster-1/gloo-system'), route('*/httpbin')],
      {
        clusters: [
          {
            name: 'cluster-1',
            status: { copies: [{ key: ROUTE, outcome: 'Conflict', code: 'Conflict', message: 'x' }] },
          },
        ],
      },
    );
    expect(actions(p)).toEqual([`cluster-1 ${GW} update`]);
  });
});
