import type { CopyResult, NackReason } from '@kuberelay/proto';
import type { ClusterSnapshot } from '../snapshot/snapshotCache.js';
import type { StreamEndCode } from './streamError.js';

/**
 * What a stream tells the rest of the server (status, metrics, Events, the rejected-agents record).
 * Observers must not throw and must not block: they record and return.
 */
export type StreamEvent =
  | {
      readonly type: 'rejected';
      /** The cluster the agent claimed in its Hello, if it sent one. */
      readonly claimedCluster: string | undefined;
      readonly code: StreamEndCode;
      readonly reason: string;
      readonly peer: string;
    }
  | {
      readonly type: 'connected';
      readonly streamId: string;
      readonly cluster: string;
      readonly agentVersion: string;
      readonly agentPod: string;
      /** Agent replicas alive that the agent's leader counted; undefined: not said (one replica). */
      readonly agentReplicas: number | undefined;
      readonly peer: string;
    }
  | {
      readonly type: 'sent';
      readonly cluster: string;
      readonly version: number;
      readonly replace: boolean;
      readonly snapshot: ClusterSnapshot;
    }
  | {
      readonly type: 'acked';
      readonly cluster: string;
      readonly version: number;
      readonly snapshot: ClusterSnapshot;
      readonly results: readonly CopyResult[];
    }
  | {
      readonly type: 'nacked';
      readonly cluster: string;
      readonly version: number;
      readonly reason: NackReason;
      readonly message: string;
    }
  | {
      readonly type: 'reported';
      readonly cluster: string;
      readonly version: number;
      readonly results: readonly CopyResult[];
    }
  | {
      readonly type: 'heartbeat';
      readonly cluster: string;
      /** As on 'connected'; undefined keeps the last count. */
      readonly agentReplicas: number | undefined;
    }
  | {
      readonly type: 'disconnected';
      readonly streamId: string;
      readonly cluster: string;
      /** False when a newer stream of this server already holds the cluster. */
      readonly wasCurrent: boolean;
      readonly code: StreamEndCode | 'Closed';
    };

export type StreamObserver = (event: StreamEvent) => void;
