import type { ConnectRequest, ConnectResponse } from '@kuberelay/proto';
import type { BackoffOptions, Clock, Logger, Result } from '@kuberelay/shared';
import type { Authenticator, AuthRequest } from '../auth/authenticator.js';
import type { RelayLimits } from '../limits/index.js';
import type { SnapshotCache } from '../snapshot/snapshotCache.js';
import type { StreamObserver } from './streamEvents.js';
import type { StreamSessions } from './streamSessions.js';

// What runAgentStream is given: the stream's I/O behind two methods, the server's settings, and
// the services it uses. Separate from the stream's logic so callers and tests read only this.

/**
 * The gRPC stream as the state machine sees it: two methods, so tests drive it in memory.
 * `messages` ends when the agent half-closes or the call goes away; `send` resolves once the
 * message is buffered (it waits when the transport pushes back) and rejects when the call is gone.
 */
export interface AgentStreamIo {
  send(message: ConnectResponse): Promise<void>;
  readonly messages: AsyncIterable<ConnectRequest>;
}

export interface StreamSettings {
  readonly mgmtCluster: string;
  /** `<namespace>/<pod>` of this replica, sent in Welcome. */
  readonly serverPod: string;
  /** ConfigDistribution gate: off means Welcome says so and no Delta is ever sent. */
  readonly distributionEnabled: boolean;
  readonly heartbeatSeconds: number;
  /** Most bytes of content per Delta message (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Backoff between retries after a Nack other than DIGEST_MISMATCH (default 1 s … 60 s). */
  readonly retryBackoff?: BackoffOptions;
}

/** Certificate services of an mTLS server: renewal on the stream and trust-bundle pushes. */
export interface StreamCertificates {
  /** Signs `csrPem` for `cluster` (registration `uid`); errors are RelayErrors. */
  renew(request: {
    readonly cluster: string;
    readonly uid: string;
    readonly csrPem: string;
  }): Promise<Result<{ readonly certificatePem: string; readonly caBundlePem: string }>>;
  /** The CA bundle agents must trust now. */
  bundlePem(): string;
  /** Calls `listener` whenever the bundle changes; returns the unsubscribe function. */
  onBundleChange(listener: (bundlePem: string) => void): () => void;
}

export interface AgentStreamOptions {
  readonly streamId: string;
  readonly io: AgentStreamIo;
  readonly credentials: AuthRequest;
  readonly authenticator: Authenticator;
  readonly cache: SnapshotCache;
  readonly sessions: StreamSessions;
  readonly settings: StreamSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Aborting ends the stream with ShuttingDown (UNAVAILABLE). */
  readonly signal: AbortSignal;
  readonly observe?: StreamObserver;
  /** Present on an mTLS server; without it, Renew is refused. */
  readonly certificates?: StreamCertificates;
  /** Streams per cluster, message rate, refused attempts per peer (absent: unlimited). */
  readonly limits?: RelayLimits;
}
