import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';

export interface BackoffOptions {
  /** Ceiling of the first delay, ms. Default 100. */
  readonly minMs?: number;
  /** Largest ceiling, ms. Default 30 000. */
  readonly maxMs?: number;
  /** Growth of the ceiling per attempt. Default 2. */
  readonly factor?: number;
  /** Uniform in [0, 1). Default Math.random; tests inject a fixed sequence. */
  readonly random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt n (from 0) waits a uniformly random whole number
 * of ms in [0, min(maxMs, minMs × factorⁿ)). Full jitter spreads the reconnects of thousands of
 * agents after a server restart instead of having them arrive in waves.
 */
export interface Backoff {
  /** The delay before the next attempt; advances the attempt count. */
  next(): number;
  /** Back to the first attempt, after a success. */
  reset(): void;
  /** Delays handed out since the last reset. */
  readonly attempts: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const minMs = options.minMs ?? 100;
  const maxMs = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  if (!(minMs > 0) || !(maxMs >= minMs) || !(factor >= 1)) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `invalid backoff: need 0 < minMs <= maxMs and factor >= 1 (got minMs=${minMs}, maxMs=${maxMs}, factor=${factor})`,
    });
  }
  let attempts = 0;
  return {
    next: () => {
      const ceiling = Math.min(maxMs, minMs * factor ** attempts);
      attempts += 1;
      const r = Math.min(Math.max(random(), 0), 1);
      return Math.min(Math.floor(r * ceiling), Math.ceil(ceiling) - 1);
    },
    reset: () => {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
