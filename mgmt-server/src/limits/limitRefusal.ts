/**
 * Why a limiter refused. Stable codes (logs, metrics, the rejected-agents record). The gRPC status
 * is chosen at the server edge; every stream refusal is meant to become RESOURCE_EXHAUSTED, which
 * agents treat as "retry later with backoff", never as "your credentials are wrong". Connection
 * refusals have no status: the socket is closed before TLS, and the agent's dial backs off.
 */
export const LimitCode = {
  /** The identity already holds the most concurrent streams allowed. */
  TooManyStreams: 'TooManyStreams',
  /** A stream sent more messages than its token bucket allows. */
  MessageRateExceeded: 'MessageRateExceeded',
  /** The peer address was refused too often in the last minute; cut off before authenticating. */
  TooManyRefusals: 'TooManyRefusals',
  /** The server holds the most TCP connections allowed in all; closed before TLS. */
  TooManyConnections: 'TooManyConnections',
  /** The peer address holds the most TCP connections allowed per address; closed before TLS. */
  TooManyConnectionsFromAddress: 'TooManyConnectionsFromAddress',
} as const;
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** A refusal. `message` is safe to send to the peer and to log: it never names a credential. */
export interface LimitRefusal {
  readonly code: LimitCode;
  readonly message: string;
  /** When trying again can succeed, if the limiter can tell (milliseconds from now). */
  readonly retryAfterMs?: number;
}
