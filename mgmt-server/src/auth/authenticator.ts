import type { Result } from '@kuberelay/shared';

/**
 * What a caller presented, independent of gRPC: request metadata (lower-case keys, every value of
 * each key, binary values excluded) and the peer address (for records and logs only).
 */
export interface AuthRequest {
  readonly metadata: Readonly<Record<string, readonly string[]>>;
  readonly peer: string;
}

/** Who the credentials say the caller is. */
export interface Identity {
  readonly cluster: string;
}

/**
 * The one place a stream's cluster is decided (docs/design.md "Identity and registration").
 * Failures carry a RelayError with code `Unauthenticated` (no, malformed or unknown credentials)
 * or `PermissionDenied`. Implementations must be synchronous and cheap: they run for every stream
 * and again on every heartbeat, so a rotated token stops working on open streams too.
 */
export interface Authenticator {
  authenticate(request: AuthRequest): Result<Identity>;
}
