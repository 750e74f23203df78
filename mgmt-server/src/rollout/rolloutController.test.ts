import { CopyOutcome, type CopyResult } from '@kuberelay/proto';
import {
  computeDesiredState,
  createManualClock,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  type KubeObject,
  type KubernetesClusterStatus,
  type RolloutAdmission,
} from '@kuberelay/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RolloutController } from './rolloutController.js';

// The controller over the real desired-state computation (docs/spec.md D10.5): the loop from
// "what the agents report" to "how far the revision may go" to "what each cluster is sent".
// Results come from this replica's streams for some clusters and from another replica's status
// for the others; time is a manual clock, so the soak is exact.

const CLUSTERS = ['canary', 'prod-1', 'prod-2'];
const KEY = 'gloo.solo.io/Upstream/httpbin/u';
const settle = () => new Promise((resolve) => setImmediate(resolve));

function source(port: number): KubeObject {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name: 'u',
      namespace: 'gloo-mesh',
      resourceVersion: String(port),
      annotations: {
        'gloo.solo.io/distribute-to': '*/httpbin',
        'kuberelay.dev/rollout': 'canary; prod-*',
        'kuberelay.dev/rollout-soak': '60s',
      },
    },
    spec: { kube: { serviceName: 'u', serviceNamespace: 'httpbin', servicePort: port } },
  };
}

function harness() {
  const clock = createManualClock({ start: 1_000_000 });
  const abort = new AbortController();
  let sources = [source(8000)];
  let admissions: ReadonlyMap<string, RolloutAdmission> = new Map();
  let state: DesiredState | undefined;
  function compute(): DesiredState {
    return computeDesiredState({
      sources,
      clusters: CLUSTERS,
      mgmtCluster: 'mgmt',
      classMapping: DEFAULT_CLASS_MAPPING,
      kinds: DEFAULT_KINDS,
      previous: state,
      rollouts: admissions,
    });
  }
  state = compute();
  // canary's stream is here; prod-1 and prod-2 are held by another replica (their statuses).
  const results = new Map<string, CopyResult>();
  const statuses = new Map<string, KubernetesClusterStatus>();
  const events: string[] = [];
  const controller = new RolloutController({
    kinds: DEFAULT_KINDS,
    sources: () => sources,
    clusterStatuses: () => CLUSTERS.map((name) => ({ name, status: statuses.get(name) })),
    desired: () => state,
    holds: (cluster) => cluster === 'canary',
    copyResult: (cluster) => results.get(cluster),
    onAdmissions: (next) => {
      admissions = next;
      state = compute();
      controller.notify();
    },
    record: ({ reason, message }) => events.push(`${reason}: ${message.replace(/^revision \w+: /, '')}`),
    clock,
    logger: pino({ level: 'silent' }),
    signal: abort.signal,
  });
  const hashIn = (cluster: string) => state?.clusters.get(cluster)?.get(KEY)?.hash ?? '';
  const port = (cluster: string) =>
    (state?.clusters.get(cluster)?.get(KEY)?.object.spec as { kube?: { servicePort?: number } } | undefined)
      ?.kube?.servicePort;
  const held = (cluster: string) => state?.clusters.get(cluster)?.get(KEY)?.policy.paused === true;
  return {
    clock,
    events,
    controller,
    view: () => CLUSTERS.map((c) => `${c} ${port(c)}${held(c) ? ' held' : ''}`),
    edit: (port: number) => {
      sources = [source(port)];
      state = compute();
      controller.notify();
    },
    /** The canary's agent reports through this replica's stream. */
    canaryReports: (outcome: CopyOutcome, message = '') =>
      results.set('canary', { key: KEY, hash: hashIn('canary'), outcome, code: '', message }),
    /** The other replica writes a prod cluster's status. */
    prodStatus: (cluster: string, outcome: 'Applied' | 'Failed', connected = true) =>
      statuses.set(cluster, {
        connected,
        copies: [{ key: KEY, hash: hashIn(cluster), outcome, message: 'refused' }],
      }),
    stop: () => abort.abort(),
  };
}

describe('RolloutController', () => {
  it('moves wave by wave on what the clusters report, after the soak, and records each step once', async () => {
    const h = harness();
    for (const c of ['prod-1', 'prod-2']) h.prodStatus(c, 'Applied');
    h.canaryReports(CopyOutcome.COPY_OUTCOME_APPLIED);
    h.controller.notify();
    await settle();
    // v1 everywhere first (the prod statuses say Applied at v1's hash once admitted).
    await h.clock.advance(60_000);
    for (const c of ['prod-1', 'prod-2']) h.prodStatus(c, 'Applied');
    h.controller.notify();
    await settle();
    expect(h.view()).toEqual(['canary 8000', 'prod-1 8000', 'prod-2 8000']);

    h.events.length = 0;
    h.edit(9000);
    await settle();
    expect(h.view()).toEqual(['canary 9000', 'prod-1 8000 held', 'prod-2 8000 held']);
    h.canaryReports(CopyOutcome.COPY_OUTCOME_APPLIED);
    h.controller.notify();
    await settle();
    expect(h.events.at(-1)).toMatch(/^RolloutSoaking: wave 1 of 2 applied it; soaking until /);
    await h.clock.advance(59_000);
    expect(h.view()).toEqual(['canary 9000', 'prod-1 8000 held', 'prod-2 8000 held']);
    await h.clock.advance(1_000);
    expect(h.view()).toEqual(['canary 9000', 'prod-1 9000', 'prod-2 9000']);
    // The prod statuses the other replica wrote still say Applied, at v1's hash: no proof for v2.
    h.controller.notify();
    await settle();
    expect(h.events.at(-1)).toBe('RolloutProgressing: wave 2 of 2: waiting for prod-1, prod-2 to apply it');
    h.prodStatus('prod-1', 'Applied');
    h.prodStatus('prod-2', 'Failed');
    h.controller.notify();
    await settle();
    expect(h.events.at(-1)).toBe(
      'RolloutHalted: wave 2 of 2: prod-2 failed: refused; nothing goes further until the source is fixed, or relayctl rollout resume',
    );
    const recorded = h.events.length;
    h.controller.notify();
    await settle();
    expect(h.events.length).toBe(recorded);
    h.stop();
  });

  it('holds for a disconnected cluster of the current wave', async () => {
    const h = harness();
    h.canaryReports(CopyOutcome.COPY_OUTCOME_APPLIED);
    h.controller.notify();
    await settle();
    await h.clock.advance(60_000);
    h.prodStatus('prod-1', 'Applied', false);
    h.prodStatus('prod-2', 'Applied');
    h.controller.notify();
    await settle();
    expect(h.events.at(-1)).toBe('RolloutHolding: wave 2 of 2: prod-1 is not connected');
    h.stop();
  });
});
