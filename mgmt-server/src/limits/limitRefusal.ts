/**
 * Why a limiter refused. Stable codes (logs, metrics, the rejected-agents record). The gRPC status
 * is chosen at the server edge; every one of these is meant to become RESOURCE_EXHAUSTED, which
 * agents treat as "retry later with backoff", never as "your credentials are wrong".
 */
export const LimitCode = {
  /** The identity already holds the most concurrent streams allowed. */
  TooManyStreams: 'TooManyStreams',
  /** A stream sent more messages than its token bucket allows. */
  MessageRateExceeded: 'MessageRateExceeded',
  /** The peer address was refused too often in the last minute; cut off before authenticating. */
  TooManyRefusals: 'TooManyRefusals',
} as const;
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** A refusal. `message` is safe to send to the peer and to log: it never names a credential. */
export interface LimitRefusal {
  readonly code: LimitCode;
  readonly message: string;
  /** When trying again can succeed, if the limiter can tell (milliseconds from now). */
  readonly retryAfterMs?: number;
}
