/**
 * A token bucket as an immutable value and pure functions over it, so every limiter in this
 * folder is table-tested without timers. `burst` tokens at most; `ratePerSecond` tokens come back
 * per second of clock time.
 */
export interface BucketSettings {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Tokens left at time `at` (milliseconds since the epoch, from the caller's Clock). */
export interface BucketState {
  readonly tokens: number;
  readonly at: number;
}

/** A full bucket: a new stream or peer starts with its whole burst. */
export function fullBucket(settings: BucketSettings, now: number): BucketState {
  return { tokens: settings.burst, at: now };
}

/**
 * The bucket at `now`. A clock that steps backwards (wall-clock corrections) refills nothing and
 * moves `at` back, so a later forward step is not counted twice.
 */
export function refill(state: BucketState, settings: BucketSettings, now: number): BucketState {
  const elapsedMs = Math.max(0, now - state.at);
  const tokens = Math.min(settings.burst, state.tokens + (elapsedMs / 1000) * settings.ratePerSecond);
  return { tokens, at: now };
}

/** Takes one token if there is one. The returned state is the bucket after the attempt either way. */
export function takeToken(
  state: BucketState,
  settings: BucketSettings,
  now: number,
): { readonly taken: boolean; readonly state: BucketState } {
  const current = refill(state, settings, now);
  if (current.tokens < 1) return { taken: false, state: current };
  return { taken: true, state: { tokens: current.tokens - 1, at: now } };
}

/** Milliseconds until one token is available again (0 when there is one now). */
export function msUntilToken(state: BucketState, settings: BucketSettings): number {
  if (state.tokens >= 1) return 0;
  if (settings.ratePerSecond <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil(((1 - state.tokens) / settings.ratePerSecond) * 1000);
}
