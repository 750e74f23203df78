import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASS_MAPPING } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { createKindRegistry, DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { policyToken } from '../policy/copyPolicy.js';
import { rolloutRevision } from '../rollout/rollout.js';
import { computeDesiredState } from './computeDesiredState.js';
import { CopySet } from './copySet.js';
import type { DesiredState } from './desiredState.js';
import { DesiredStateEngine, type RolloutAdmission } from './desiredStateEngine.js';
import { sourceKeyOf as keyOf } from './planSource.js';

// The incremental engine against the whole-state computation: after any sequence of edits,
// deletions, relists, cluster-set changes, pauses and rollout admissions, the engine's state
// equals computeDesiredState of the same inputs from the previous state, and `changed` names
// exactly the copies that differ.

const OPTIONS = { mgmtCluster: 'mgmt', classMapping: DEFAULT_CLASS_MAPPING, kinds: DEFAULT_KINDS };
const CLUSTER_POOL = ['qa', 'canary', 'prod-eu', 'prod-us', 'dev'];
const REGISTRY = createKindRegistry(DEFAULT_KINDS);
const sourceKeyOf = (source: KubeObject) => keyOf(source, REGISTRY);

/** Source identities: two Gateways and two Upstreams of one name in two namespaces collide when
 * both land in one namespace; the routes refer to them. */
const SLOTS = [
  { kind: 'Gateway', name: 'gw', namespace: 'a' },
  { kind: 'Gateway', name: 'gw', namespace: 'b' },
  { kind: 'Upstream', name: 'up', namespace: 'a' },
  { kind: 'Upstream', name: 'up', namespace: 'b' },
  { kind: 'HTTPRoute', name: 'r', namespace: 'a' },
  { kind: 'HTTPRoute', name: 'r2', namespace: 'b' },
] as const;

const ANNOTATIONS = [
  '*/t1',
  'prod-*/t1',
  'qa/t2',
  '*/t1,*/t2',
  'qa,canary',
  'nope/t1',
  '*,!qa/t1',
  'bad//value',
];

let version = 0;

/** Rollout waves a source may carry (docs/spec.md D10.5); index 0: none. */
const ROLLOUTS = [undefined, 'qa; *', 'prod-*; canary'];

/**
 * `paused`: kuberelay.dev/paused, which holds what landed (docs/spec.md D10.1); `rollout`: an
 * index into ROLLOUTS.
 */
function sourceOf(
  slot: number,
  annotation: number,
  variant: number,
  paused = false,
  rollout = 0,
): KubeObject {
  const { kind, name, namespace } = SLOTS[slot] ?? SLOTS[0];
  version += 1;
  const metadata = {
    name,
    namespace,
    uid: `uid-${slot}`,
    resourceVersion: String(version),
    annotations: {
      'gloo.solo.io/distribute-to': ANNOTATIONS[annotation] ?? '*/t1',
      ...(paused ? { 'kuberelay.dev/paused': 'true' } : {}),
      ...(ROLLOUTS[rollout] === undefined ? {} : { 'kuberelay.dev/rollout': ROLLOUTS[rollout] }),
    },
  };
  if (kind === 'Gateway') {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind,
      metadata,
      spec: {
        gatewayClassName: 'gloo-gateway-distribute',
        listeners: [{ name: 'http', port: 8080 + variant, protocol: 'HTTP' }],
      },
    };
  }
  if (kind === 'Upstream') {
    return {
      apiVersion: 'gloo.solo.io/v1',
      kind,
      metadata,
      spec: { kube: { serviceName: 'svc', servicePort: 8000 + variant } },
    };
  }
  // variant 3: a Service backend, which makes the route an invalid source (its copies are held).
  const backend =
    variant === 3
      ? { name: 'svc', port: 80 }
      : { name: 'up', namespace: variant === 1 ? 'b' : 'a', kind: 'Upstream', group: 'gloo.solo.io' };
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    metadata,
    spec: {
      parentRefs: [{ name: 'gw', namespace: variant === 2 ? 'b' : 'a' }],
      rules: [{ backendRefs: [backend] }],
    },
  };
}

type Op =
  | {
      readonly type: 'set';
      readonly slot: number;
      readonly annotation: number;
      readonly variant: number;
      readonly paused: boolean;
      readonly rollout: number;
    }
  | { readonly type: 'delete'; readonly slot: number }
  /** The rollout of a slot's source reached `admitted` waves (for its current revision). */
  | { readonly type: 'admit'; readonly slot: number; readonly admitted: number }
  | { readonly type: 'clusters'; readonly clusters: readonly string[] }
  | { readonly type: 'relist' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('set' as const),
      slot: fc.nat(SLOTS.length - 1),
      annotation: fc.nat(ANNOTATIONS.length - 1),
      variant: fc.nat(3),
      paused: fc.boolean(),
      rollout: fc.nat(ROLLOUTS.length - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('admit' as const),
      slot: fc.nat(SLOTS.length - 1),
      admitted: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('delete' as const), slot: fc.nat(SLOTS.length - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('clusters' as const), clusters: fc.subarray(CLUSTER_POOL) }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'relist' as const }) },
);

/** A state as plain data (DesiredCopy identity aside), in iteration order. */
function plain(state: DesiredState) {
  return {
    clusters: [...state.clusters].map(([cluster, copies]) => [
      cluster,
      [...copies].map(([key, c]) => [key, c.source, c.object, c.hash, c.overwrite, policyToken(c.policy)]),
    ]),
    reports: [...state.reports],
    invalid: [...state.invalidSources].sort(),
  };
}

describe('DesiredStateEngine', () => {
  it('after any sequence of changes equals computing the state from the previous one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        (steps) => {
          const engine = new DesiredStateEngine(OPTIONS);
          const sources = new Map<number, KubeObject>();
          let clusters: readonly string[] = ['qa', 'prod-eu'];
          let previous: DesiredState | undefined;
          let rollouts = new Map<string, RolloutAdmission>();
          for (const step of steps) {
            for (const change of step) {
              if (change.type === 'set')
                sources.set(
                  change.slot,
                  sourceOf(change.slot, change.annotation, change.variant, change.paused, change.rollout),
                );
              else if (change.type === 'delete') sources.delete(change.slot);
              else if (change.type === 'admit') {
                const source = sources.get(change.slot);
                if (source !== undefined) {
                  rollouts = new Map(rollouts);
                  rollouts.set(sourceKeyOf(source), {
                    revision: rolloutRevision(source),
                    admitted: change.admitted,
                  });
                }
              } else if (change.type === 'clusters') clusters = change.clusters;
              // A relist hands out new objects at the same uid and resourceVersion.
              else for (const [slot, source] of sources) sources.set(slot, structuredClone(source));
            }
            const input = { sources: [...sources.values()], clusters, rollouts };
            const { state, changed } = engine.update(input);
            const whole = computeDesiredState({ ...OPTIONS, ...input, previous });
            expect(plain(state)).toEqual(plain(whole));
            for (const [cluster, copies] of state.clusters) {
              const before = previous?.clusters.get(cluster);
              const differs = [...new Set([...copies.keys(), ...(before?.keys() ?? [])])].filter(
                (key) => copies.get(key) !== before?.get(key),
              );
              // A cluster new to the state has every copy "changed"; otherwise exactly what differs.
              if (before !== undefined)
                expect([...(changed.get(cluster) ?? [])].sort()).toEqual(differs.sort());
            }
            previous = state;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reuses every DesiredCopy and reports nothing changed when nothing did', () => {
    const engine = new DesiredStateEngine(OPTIONS);
    const input = {
      sources: [sourceOf(0, 0, 0), sourceOf(2, 3, 0), sourceOf(4, 0, 0)],
      clusters: CLUSTER_POOL,
    };
    const first = engine.update(input).state;
    const again = engine.update({ ...input, sources: input.sources.map((s) => structuredClone(s)) });
    expect(again.changed.size).toBe(0);
    for (const [cluster, copies] of first.clusters) expect(again.state.clusters.get(cluster)).toBe(copies);
  });

  it('rebuilds a route when the Gateway it refers to starts landing beside it', () => {
    const engine = new DesiredStateEngine(OPTIONS);
    const route = sourceOf(4, 0, 0); // */t1, parentRef gw in a
    const before = engine.update({ sources: [route], clusters: ['qa'] });
    const routeKey = 'gateway.networking.k8s.io/HTTPRoute/t1/r';
    const lonely = before.state.clusters.get('qa')?.get(routeKey);
    const after = engine.update({ sources: [route, sourceOf(0, 0, 0)], clusters: ['qa'] });
    const rewritten = after.state.clusters.get('qa')?.get(routeKey);
    expect(after.changed.get('qa')).toContain(routeKey);
    expect(rewritten?.hash).not.toBe(lonely?.hash);
    expect(JSON.stringify(rewritten?.object)).toContain('"namespace":"t1"');
  });

  it('publishes CopySets, so digests and diffs follow from what changed', () => {
    const engine = new DesiredStateEngine(OPTIONS);
    const { state } = engine.update({ sources: [sourceOf(0, 0, 0)], clusters: ['qa'] });
    expect(state.clusters.get('qa')).toBeInstanceOf(CopySet);
  });
});
