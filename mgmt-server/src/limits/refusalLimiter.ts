import type { Clock } from '@kuberelay/shared';
import { LimitCode, type LimitRefusal } from './limitRefusal.js';
import { peerAddress } from './peerAddress.js';
import { type BucketSettings, type BucketState, fullBucket, msUntilToken, refill } from './tokenBucket.js';

/**
 * A misconfigured agent retries with backoff (1 s doubling to 60 s), so it is refused a few times
 * a minute at most; a credential-guessing flood is refused hundreds of times a second.
 */
export const DEFAULT_MAX_REFUSALS_PER_MINUTE = 60;
/** Bounds memory under a flood from many addresses (each entry is a few dozen bytes). */
export const DEFAULT_MAX_TRACKED_PEERS = 10_000;

export interface RefusalLimiterOptions {
  /** Refusals a peer address may collect per minute before it is cut off; 0 disables. */
  readonly maxRefusalsPerMinute?: number;
  readonly maxTrackedPeers?: number;
  readonly clock: Pick<Clock, 'now'>;
}

/**
 * Cuts off a peer address that keeps getting refused (bad or unknown credentials, a deregistered
 * cluster, malformed first messages), so a flood costs the server one map lookup per attempt:
 * no certificate verification, no 2 s wait for a Hello, no rejected-agents record write.
 *
 * Keyed by address, not by connection (see peerAddress). Caveat: behind a proxy or load balancer
 * that does not preserve client addresses every agent shares one key, and one noisy agent can get
 * the others cut off; set the limit to 0 there.
 */
export interface RefusalLimiter {
  /** Before authenticating: a refusal means end the call at once with it. */
  check(peer: string): LimitRefusal | undefined;
  /** After the server refused `peer` for any reason other than this limiter itself. */
  recordRefusal(peer: string): void;
  /** Addresses currently tracked (for metrics and tests). */
  tracked(): number;
}

/**
 * A token bucket per address holding `maxRefusalsPerMinute` tokens that refill over a minute:
 * each refusal takes one; an address with none left is refused until one comes back. Addresses
 * whose bucket is full again are forgotten; past `maxTrackedPeers` the least recently refused is.
 */
export function createRefusalLimiter(options: RefusalLimiterOptions): RefusalLimiter {
  const max = options.maxRefusalsPerMinute ?? DEFAULT_MAX_REFUSALS_PER_MINUTE;
  const maxTracked = options.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS;
  const settings: BucketSettings = { ratePerSecond: max / 60, burst: max };
  const clock = options.clock;
  /** Insertion order is recency order (entries are re-inserted on every refusal). */
  const buckets = new Map<string, BucketState>();

  const current = (address: string, now: number): BucketState | undefined => {
    const state = buckets.get(address);
    if (state === undefined) return undefined;
    const next = refill(state, settings, now);
    if (next.tokens >= settings.burst) {
      buckets.delete(address);
      return undefined;
    }
    return next;
  };

  return {
    check: (peer) => {
      if (max <= 0) return undefined;
      const address = peerAddress(peer);
      const state = current(address, clock.now());
      if (state === undefined || state.tokens >= 1) return undefined;
      return {
        code: LimitCode.TooManyRefusals,
        message: `too many refused attempts from ${address} (more than ${max} a minute); try again later`,
        retryAfterMs: msUntilToken(state, settings),
      };
    },
    recordRefusal: (peer) => {
      if (max <= 0) return;
      const address = peerAddress(peer);
      const now = clock.now();
      const state = current(address, now) ?? fullBucket(settings, now);
      buckets.delete(address);
      buckets.set(address, { tokens: Math.max(0, state.tokens - 1), at: now });
      while (buckets.size > maxTracked) {
        const oldest = buckets.keys().next();
        if (oldest.done) break;
        buckets.delete(oldest.value);
      }
    },
    tracked: () => buckets.size,
  };
}
