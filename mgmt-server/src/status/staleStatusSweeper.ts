import {
  type Clock,
  createBackoff,
  KUBERNETES_CLUSTER,
  type KubernetesClusterStatus,
  type Logger,
  RegistrationLabel,
  retryLoop,
  SERVER_LEASE_PREFIX,
  SERVER_LEASE_RENEW_SECONDS,
} from '@kuberelay/shared';
import { ContentType, isConflict, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';

/** A server Lease as the sweeper reads it. */
export interface LeaseFacts {
  readonly name: string;
  readonly holderIdentity: string | undefined;
  /** ms since the epoch; undefined when never renewed. */
  readonly renewedAt: number | undefined;
}

/** A registered cluster as the sweeper reads it. */
export interface ClusterFacts {
  readonly name: string;
  readonly resourceVersion: string;
  readonly status: KubernetesClusterStatus | undefined;
}

export interface StaleStatusInput {
  readonly clusters: readonly ClusterFacts[];
  readonly leases: readonly LeaseFacts[];
  readonly now: number;
  /** This process's `<pod>/<start id>`. */
  readonly self: string;
  /** Clusters whose agent holds a stream to this process now: their status is ours to write. */
  readonly heldHere: (cluster: string) => boolean;
  /** A Lease not renewed for this long is a dead replica's (relayctl uses the same bound). */
  readonly staleAfterMs: number;
}

/**
 * The clusters whose status says "connected" to a server process that is not alive: a replica
 * whose Lease went stale, or an earlier process of a pod that was restarted under the same name
 * (its instance differs from this one's). Pure: the sweeper lists, this decides.
 *
 * A status without `serverInstance` comes from a server older than instances: it is judged by
 * its pod's Lease alone.
 */
export function staleConnections(input: StaleStatusInput): ClusterFacts[] {
  const live = new Set<string>();
  const livePods = new Set<string>();
  for (const lease of input.leases) {
    if (lease.renewedAt === undefined || input.now - lease.renewedAt > input.staleAfterMs) continue;
    if (lease.holderIdentity !== undefined) live.add(lease.holderIdentity);
    livePods.add(lease.name.slice(SERVER_LEASE_PREFIX.length));
  }
  const selfPod = podOf(input.self);
  return input.clusters.filter(({ name, status }) => {
    if (status?.connected !== true || input.heldHere(name)) return false;
    const instance = status.serverInstance;
    if (instance) {
      // Our own pod's earlier process: whatever its Lease says, the Lease is ours now.
      if (podOf(instance) === selfPod) return instance !== input.self;
      return !live.has(instance);
    }
    const pod = status.connectedPod ?? '';
    return !livePods.has(pod.slice(pod.lastIndexOf('/') + 1));
  });
}

const podOf = (instance: string): string => instance.slice(0, instance.lastIndexOf('/'));

export interface StaleStatusSweeperOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  /** The registered clusters as the server already watches them (ManagementView). */
  readonly clusters: () => readonly ClusterFacts[];
  readonly self: string;
  readonly heldHere: (cluster: string) => boolean;
  /** Resolves once the server's view is complete: nothing is swept before. */
  readonly ready: Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Default: every Lease renewal interval (10 s). */
  readonly intervalMs?: number;
}

const STALE_AFTER_MS = 3 * SERVER_LEASE_RENEW_SECONDS * 1000;

/**
 * Marks disconnected the clusters whose status a dead server process left saying "connected"
 * (docs/design.md "Status"). Only the replica holding a stream writes a cluster's status, so
 * without this a cluster whose agent and server both died would read "connected, up to date"
 * forever. Every replica sweeps; the patch is conditional on the resourceVersion it judged, so a
 * status that changed meanwhile (an agent reconnected) is never overwritten.
 */
export class StaleStatusSweeper {
  readonly #o: StaleStatusSweeperOptions;

  constructor(options: StaleStatusSweeperOptions) {
    this.#o = options;
  }

  async run(): Promise<void> {
    const { signal, clock, logger } = this.#o;
    // Nothing is judged before the view is complete; a stop before that ends the wait.
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const ready = await Promise.race([
      this.#o.ready.then(
        () => true,
        () => false,
      ),
      aborted.then(() => false),
    ]);
    if (!ready || signal.aborted) return;
    const intervalMs = this.#o.intervalMs ?? SERVER_LEASE_RENEW_SECONDS * 1000;
    await retryLoop({
      signal,
      clock,
      backoff: createBackoff({ minMs: 1_000, maxMs: intervalMs }),
      resetAfterMs: intervalMs,
      run: async ({ signal: runSignal }) => {
        for (;;) {
          await this.sweep(runSignal);
          await clock.sleep(intervalMs, runSignal);
        }
      },
      onError: (error, { delayMs }) =>
        logger.warn({ err: error, retryInMs: delayMs }, 'sweeping stale cluster statuses failed'),
    });
  }

  /** One pass; returns the clusters marked disconnected. */
  async sweep(signal: AbortSignal): Promise<string[]> {
    const { rest, namespace } = this.#o;
    const leases = await rest.request<{ items: LeaseItem[] }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases?labelSelector=${encodeURIComponent(`${RegistrationLabel.component}=kuberelay-mgmt-server`)}`,
      signal,
    });
    const stale = staleConnections({
      leases: leases.items.map((l) => ({
        name: l.metadata.name,
        holderIdentity: l.spec?.holderIdentity,
        renewedAt: parseTime(l.spec?.renewTime ?? l.spec?.acquireTime),
      })),
      // A stale watch cache is harmless: the patch is conditional on the resourceVersion read.
      clusters: this.#o.clusters(),
      now: this.#o.clock.now(),
      self: this.#o.self,
      heldHere: this.#o.heldHere,
      staleAfterMs: STALE_AFTER_MS,
    });
    const marked: string[] = [];
    for (const cluster of stale) {
      if (await this.#markDisconnected(cluster, signal)) marked.push(cluster.name);
    }
    return marked;
  }

  async #markDisconnected(cluster: ClusterFacts, signal: AbortSignal): Promise<boolean> {
    const was = cluster.status?.serverInstance || cluster.status?.connectedPod || 'an unknown server';
    const now = new Date(this.#o.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const message = `the server process ${was} that held the agent's stream is gone`;
    try {
      await this.#o.rest.request({
        method: 'PATCH',
        path: resourcePath({
          ...KUBERNETES_CLUSTER,
          namespace: this.#o.namespace,
          name: cluster.name,
          subresource: 'status',
        }),
        contentType: ContentType.mergePatch,
        body: {
          metadata: { resourceVersion: cluster.resourceVersion },
          status: {
            // As the holder's own disconnect write would have said (buildClusterStatus).
            connected: false,
            connectedPod: '',
            serverInstance: '',
            connectedSince: '',
            agentReplicas: 0,
            conditions: [
              { type: 'Connected', status: 'False', reason: 'ServerGone', message, lastTransitionTime: now },
              { type: 'UpToDate', status: 'Unknown', reason: 'ServerGone', message, lastTransitionTime: now },
            ],
          },
        },
        signal,
      });
    } catch (error) {
      // Changed meanwhile (an agent reconnected somewhere) or deregistered: nothing to correct.
      if (isConflict(error) || isNotFound(error)) return false;
      throw error;
    }
    this.#o.logger.info(
      { cluster: cluster.name, was },
      'marked a cluster disconnected: its server process is gone',
    );
    return true;
  }
}

interface LeaseItem {
  readonly metadata: { readonly name: string };
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly renewTime?: string;
    readonly acquireTime?: string;
  };
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
