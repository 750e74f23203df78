import { status } from '@grpc/grpc-js';
import { StreamEndCode } from '../stream/streamError.js';

/**
 * The gRPC status an agent stream ends with, per end code (design.md "Protocol"). The only place
 * typed errors become gRPC codes (STYLE principle 4).
 */
export const GRPC_STATUS_FOR: Readonly<Record<StreamEndCode, status>> = Object.freeze({
  [StreamEndCode.Unauthenticated]: status.UNAUTHENTICATED,
  [StreamEndCode.PermissionDenied]: status.PERMISSION_DENIED,
  [StreamEndCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [StreamEndCode.Replaced]: status.FAILED_PRECONDITION,
  // A deregistered cluster is a cluster that is not registered: the agent must not retry blindly.
  [StreamEndCode.Deregistered]: status.PERMISSION_DENIED,
  [StreamEndCode.ShuttingDown]: status.UNAVAILABLE,
  // The peer looks dead; if it is not, it reconnects as after any transport failure.
  [StreamEndCode.PeerSilent]: status.UNAVAILABLE,
  [StreamEndCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [StreamEndCode.Internal]: status.INTERNAL,
});

/** `UNAUTHENTICATED`, ... : the name relayctl and the rejected-agents record show. */
export function grpcStatusName(code: StreamEndCode): string {
  return status[GRPC_STATUS_FOR[code]];
}
