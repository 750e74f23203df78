import type { Result } from '@kuberelay/shared';

/**
 * What a caller presented, independent of gRPC: the client certificate of its TLS connection and
 * the peer address (for records and logs only).
 */
export interface AuthRequest {
  readonly peer: string;
  /**
   * DER of the client certificate the TLS layer accepted, if any. The TLS layer checked it against
   * the relay CA bundle; authenticators verify it again themselves (EKU, dates at their clock).
   */
  readonly peerCertificate?: Uint8Array;
}

/** Who the credentials say the caller is. */
export interface Identity {
  readonly cluster: string;
  /**
   * The KubernetesCluster uid the certificate was issued for: renewals keep it, so a renewed
   * certificate dies with the registration it came from.
   */
  readonly uid: string;
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
