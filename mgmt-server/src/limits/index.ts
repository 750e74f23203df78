// Hardening limits of the relay's gRPC edge (docs/security.md "Limits"). Pure, clock-injected.
export {
  type ConnectionAdmission,
  type ConnectionLease,
  type ConnectionLimiter,
  type ConnectionLimiterOptions,
  createConnectionLimiter,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
} from './connectionLimiter.js';
export { LimitCode, type LimitRefusal } from './limitRefusal.js';
export { peerAddress } from './peerAddress.js';
export {
  createRefusalLimiter,
  DEFAULT_MAX_REFUSALS_PER_MINUTE,
  DEFAULT_MAX_TRACKED_PEERS,
  type RefusalLimiter,
  type RefusalLimiterOptions,
} from './refusalLimiter.js';
export {
  type Admission,
  createStreamLimiter,
  DEFAULT_MAX_STREAMS_PER_IDENTITY,
  DEFAULT_MESSAGE_BURST,
  DEFAULT_MESSAGES_PER_SECOND,
  type StreamLease,
  type StreamLimiter,
  type StreamLimiterOptions,
} from './streamLimiter.js';
export {
  type BucketSettings,
  type BucketState,
  fullBucket,
  msUntilToken,
  refill,
  takeToken,
} from './tokenBucket.js';

import type { Clock } from '@kuberelay/shared';
import { type ConnectionLimiter, createConnectionLimiter } from './connectionLimiter.js';
import { createRefusalLimiter, type RefusalLimiter } from './refusalLimiter.js';
import { createStreamLimiter, type StreamLimiter } from './streamLimiter.js';

/** The limits the gRPC edge enforces, shared by every stream and Bootstrap call of one server. */
export interface RelayLimits {
  readonly streams: StreamLimiter;
  readonly refusals: RefusalLimiter;
  /** TCP connections per address and in all, counted before TLS. */
  readonly connections: ConnectionLimiter;
}

/** The settings of RelayLimits (MgmtServerOptions.limits); each default is its limiter's. */
export interface RelayLimitSettings {
  readonly maxStreamsPerCluster?: number | undefined;
  readonly streamMessagesPerSecond?: number | undefined;
  readonly streamMessageBurst?: number | undefined;
  readonly maxRefusalsPerMinute?: number | undefined;
  readonly maxConnectionsPerAddress?: number | undefined;
  readonly maxConnections?: number | undefined;
}

export function createRelayLimits(settings: RelayLimitSettings | undefined, clock: Clock): RelayLimits {
  return {
    streams: createStreamLimiter({
      maxStreamsPerIdentity: settings?.maxStreamsPerCluster,
      messagesPerSecond: settings?.streamMessagesPerSecond,
      burst: settings?.streamMessageBurst,
      clock,
    }),
    refusals: createRefusalLimiter({ maxRefusalsPerMinute: settings?.maxRefusalsPerMinute, clock }),
    connections: createConnectionLimiter({
      maxPerAddress: settings?.maxConnectionsPerAddress,
      maxTotal: settings?.maxConnections,
    }),
  };
}
