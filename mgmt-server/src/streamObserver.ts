import type { Clock, DesiredState } from '@kuberelay/shared';
import { grpcStatusName } from './grpc/statusCodes.js';
import type { ServerMetrics } from './metrics/serverMetrics.js';
import type { ClusterStatusReporter } from './status/clusterStatusReporter.js';
import type { RejectedAgentsRecorder } from './status/rejectedAgents.js';
import type { StreamEvent } from './stream/streamEvents.js';

// Where the events of agent streams go: cluster status, metrics and the rejected-agents record.
// One subsystem of the composition root (startMgmtServer.ts), wired here so that file stays a
// list of parts.

export interface StreamObserverOptions {
  readonly reporter: ClusterStatusReporter;
  readonly metrics: ServerMetrics;
  readonly rejected: RejectedAgentsRecorder;
  readonly clock: Clock;
}

export interface StreamObserver {
  /** Takes every event of every agent stream. */
  readonly observe: (event: StreamEvent) => void;
  /** Forgets what was measured for clusters no longer in the desired state. */
  readonly forgetGone: (state: DesiredState) => void;
}

export function createStreamObserver(options: StreamObserverOptions): StreamObserver {
  const { reporter, metrics, rejected, clock } = options;
  const lastMeasured = new Map<string, number>();
  const observe = (event: StreamEvent) => {
    reporter.observe(event);
    switch (event.type) {
      case 'rejected':
        metrics.rejectedStreams.inc({ code: event.code });
        rejected.record({
          claimedCluster: event.claimedCluster,
          reason: event.reason,
          code: grpcStatusName(event.code),
          peer: event.peer,
        });
        break;
      case 'sent':
        metrics.versionsSent.inc({ cluster: event.cluster });
        break;
      case 'acked': {
        metrics.versionsAcked.inc({ cluster: event.cluster });
        const { changedAt, revision } = event.snapshot;
        // Measured once per content change and cluster: a reconnect acking old content is no edit.
        if (changedAt !== undefined && lastMeasured.get(event.cluster) !== revision) {
          lastMeasured.set(event.cluster, revision);
          metrics.editToAck.observe(Math.max(0, clock.now() - changedAt) / 1000);
        }
        break;
      }
      case 'nacked':
        metrics.nacks.inc({ cluster: event.cluster, reason: String(event.reason) });
        break;
      case 'disconnected':
        // A stream replaced by a newer one of this server is no drop: the cluster stayed held.
        if (event.wasCurrent) metrics.streamDisconnects.inc({ code: event.code });
        break;
      default:
        break;
    }
  };
  const forgetGone = (state: DesiredState) => {
    for (const cluster of lastMeasured.keys()) if (!state.clusters.has(cluster)) lastMeasured.delete(cluster);
  };
  return { observe, forgetGone };
}
