import type { Clock } from '@kuberelay/shared';
import { LimitCode, type LimitRefusal } from './limitRefusal.js';
import { type BucketSettings, type BucketState, fullBucket, msUntilToken, takeToken } from './tokenBucket.js';

/**
 * One concurrent stream plus the one that replaces it while an agent reconnects (the old stream
 * may not have noticed its peer is gone yet). A newer stream for a cluster takes over the older
 * one (FAILED_PRECONDITION), so a healthy agent never needs a third.
 */
export const DEFAULT_MAX_STREAMS_PER_IDENTITY = 2;
/**
 * Generous: an agent sends one Ack per version, Reports coalesced over 100 ms (≤ 10/s) and a
 * Heartbeat every few seconds. The limit is for a runaway or hostile peer, not for pacing.
 */
export const DEFAULT_MESSAGES_PER_SECOND = 50;
/** Room for a burst of Reports after a namespace or CRD appears and many copies change at once. */
export const DEFAULT_MESSAGE_BURST = 200;

export interface StreamLimiterOptions {
  /** Concurrent streams per identity (authenticated cluster); 0 disables the limit. */
  readonly maxStreamsPerIdentity?: number;
  /** Sustained messages per second per stream; 0 disables the rate limit. */
  readonly messagesPerSecond?: number;
  /** Messages a stream may send at once before the rate applies. */
  readonly burst?: number;
  readonly clock: Pick<Clock, 'now'>;
}

/**
 * One admitted stream. The caller must call `release()` exactly when the stream ends (a
 * `finally`); calling it again is harmless. After release, `onMessage` always refuses.
 */
export interface StreamLease {
  readonly identity: string;
  /**
   * Call for every message the peer sends, before handling it. `undefined`: go on. A refusal:
   * end the stream with it (the bucket is empty; dropping the message instead would break the
   * protocol, since Acks and Nacks must not vanish).
   */
  onMessage(): LimitRefusal | undefined;
  release(): void;
}

export type Admission =
  | { readonly ok: true; readonly lease: StreamLease }
  | { readonly ok: false; readonly refusal: LimitRefusal };

export interface StreamLimiter {
  /**
   * Admits one more stream for `identity`, which must come from verified credentials (the client
   * certificate), never from what the peer claims: otherwise anyone could use up a cluster's
   * streams.
   */
  admit(identity: string): Admission;
  /** Streams currently held by `identity` (for metrics and tests). */
  streams(identity: string): number;
}

/**
 * Per-identity concurrency and per-stream message rate. Pure apart from the injected clock; not
 * thread-safe, which is fine on Node's single thread as long as admit/onMessage/release are called
 * synchronously from the call handlers.
 */
export function createStreamLimiter(options: StreamLimiterOptions): StreamLimiter {
  const maxStreams = options.maxStreamsPerIdentity ?? DEFAULT_MAX_STREAMS_PER_IDENTITY;
  const rate: BucketSettings = {
    ratePerSecond: options.messagesPerSecond ?? DEFAULT_MESSAGES_PER_SECOND,
    burst: options.burst ?? DEFAULT_MESSAGE_BURST,
  };
  const rateLimited = rate.ratePerSecond > 0;
  const clock = options.clock;
  /** Open streams per identity; an identity with none has no entry, so memory follows live streams. */
  const open = new Map<string, number>();

  const admit = (identity: string): Admission => {
    const held = open.get(identity) ?? 0;
    if (maxStreams > 0 && held >= maxStreams) {
      return {
        ok: false,
        refusal: {
          code: LimitCode.TooManyStreams,
          message: `cluster "${identity}" already has ${held} open streams (at most ${maxStreams}); close one or wait for it to end`,
        },
      };
    }
    open.set(identity, held + 1);
    let bucket: BucketState = fullBucket(rate, clock.now());
    let released = false;
    const lease: StreamLease = {
      identity,
      onMessage: () => {
        if (released) {
          return { code: LimitCode.MessageRateExceeded, message: 'the stream has ended' };
        }
        if (!rateLimited) return undefined;
        const attempt = takeToken(bucket, rate, clock.now());
        bucket = attempt.state;
        if (attempt.taken) return undefined;
        return {
          code: LimitCode.MessageRateExceeded,
          message: `more than ${rate.ratePerSecond} messages per second (burst ${rate.burst}) on one stream`,
          retryAfterMs: msUntilToken(bucket, rate),
        };
      },
      release: () => {
        if (released) return;
        released = true;
        const now = (open.get(identity) ?? 1) - 1;
        if (now <= 0) open.delete(identity);
        else open.set(identity, now);
      },
    };
    return { ok: true, lease };
  };

  return { admit, streams: (identity) => open.get(identity) ?? 0 };
}
