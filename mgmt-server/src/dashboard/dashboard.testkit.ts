import { CopyOutcome, type CopyResult } from '@kuberelay/proto';
import {
  computeDesiredState,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  ErrorCode,
  type KubeObject,
  type KubernetesClusterStatus,
  objectKey,
  objectRefOf,
} from '@kuberelay/shared';
import type { DashboardAgent, DashboardCluster, DashboardInput } from './dashboardInput.js';

// Inputs for the dashboard's pure views, made the way the server makes them: the desired state is
// the real engine's (computeDesiredState) over real source objects, so copies, keys and hashes are
// what a running server holds; only the agents' results are written by hand.

export const NOW = Date.parse('2026-12-04T12:00:00.000Z');
export const HERE = 'mgmt-server-0/abc';

export const upstream = (name: string, distributeTo: string, port = 8000): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': distributeTo } },
  spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: port } },
});

export const keyOf = (source: KubeObject) => objectKey(objectRefOf(source));

export function desired(sources: readonly KubeObject[], clusters: readonly string[]): DesiredState {
  return computeDesiredState({
    sources,
    clusters,
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
  });
}

/** How an agent answered, per source name (the copy's own hash unless `stale`). */
export type Answer = {
  outcome: CopyOutcome;
  code?: string;
  message?: string;
  stale?: boolean;
  /** Drift repairs the agent reported, and when the last one was (ms). */
  repairs?: { count: number; lastAt: number };
};

export interface ClusterSpec {
  /** `here` (this replica holds the stream), `gone` (held here, then lost), `elsewhere`, `never`. */
  readonly stream: 'here' | 'gone' | 'elsewhere' | 'never';
  /** Per source name; sources not named are Applied. */
  readonly answers?: Readonly<Record<string, Answer>>;
  /** Keys of copies no longer desired that the agent could not delete. */
  readonly orphans?: readonly string[];
  /** Status written by another replica (for `elsewhere`). */
  readonly status?: KubernetesClusterStatus;
  readonly acked?: 'current' | 'old';
}

export const applied: Answer = { outcome: CopyOutcome.COPY_OUTCOME_APPLIED };

export function input(
  sources: readonly KubeObject[],
  clusters: Readonly<Record<string, ClusterSpec>>,
  recent: Pick<DashboardInput, 'events' | 'rejected'> = { events: () => [], rejected: () => [] },
): DashboardInput {
  const state = desired(sources, Object.keys(clusters));
  const out: DashboardCluster[] = [];
  for (const [name, copies] of state.clusters) {
    const spec = clusters[name] ?? { stream: 'never' };
    // Any string: what matters is whether the agent acknowledged this one.
    const digest = `digest-of-${name}`;
    const results = new Map<string, CopyResult>();
    for (const copy of copies.values()) {
      const answer = spec.answers?.[copy.source.name] ?? applied;
      results.set(copy.key, {
        key: copy.key,
        hash: answer.stale === true ? 'older' : copy.hash,
        outcome: answer.outcome,
        code: answer.code ?? '',
        message: answer.message ?? '',
        ...(answer.repairs === undefined
          ? {}
          : { repairs: answer.repairs.count, lastRepairMs: answer.repairs.lastAt }),
      });
    }
    for (const key of spec.orphans ?? []) {
      results.set(key, {
        key,
        hash: 'gone',
        outcome: CopyOutcome.COPY_OUTCOME_FAILED,
        code: ErrorCode.PruneFailed,
        message: 'delete refused: forbidden',
      });
    }
    const agent: DashboardAgent | undefined =
      spec.stream === 'here' || spec.stream === 'gone'
        ? {
            connected: spec.stream === 'here',
            agentVersion: '0.1.0',
            agentPod: `agent-${name}-0`,
            connectedAt: NOW - 60_000,
            agentReplicas: 2,
            lastHeartbeatAt: NOW - 2_000,
            sentVersion: 3,
            ackedVersion: spec.acked === 'old' ? 2 : 3,
            ackedDigest: spec.acked === 'old' ? 'older' : digest,
            // The reporter drops a lost stream's results.
            results: spec.stream === 'here' ? results : new Map(),
            lastRejected: undefined,
            behindSince: spec.acked === 'old' ? NOW - 30_000 : undefined,
          }
        : undefined;
    out.push({
      name,
      snapshot: { copies, digest },
      agent,
      status:
        spec.status ??
        (spec.stream === 'here'
          ? { connected: true, connectedPod: 'gloo-mesh/mgmt-server-0', serverInstance: HERE }
          : undefined),
    });
  }
  return {
    now: NOW,
    serverInstance: HERE,
    clusters: out,
    sources: sources
      .map((s) => ({
        ref: objectRefOf(s),
        key: keyOf(s),
        distributeTo: s.metadata.annotations?.['gloo.solo.io/distribute-to'] ?? '',
        controls: Object.fromEntries(
          Object.entries(s.metadata.annotations ?? {}).filter(([k]) => k.startsWith('kuberelay.dev/')),
        ),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : 1)),
    reports: state.reports,
    rollout: () => undefined,
    ...recent,
  };
}
