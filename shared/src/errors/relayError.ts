import { ErrorCode } from './errorCode.js';

/** Context that helps a person locate the problem (entry, path, cluster...). Values are strings so
 * they can go into Events, status and log lines as they are. */
export type ErrorDetails = Readonly<Record<string, string>>;

export interface RelayErrorOptions {
  readonly code: ErrorCode;
  readonly message: string;
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/**
 * The one error type of the project. Invariant: `code` is stable and machine-readable, `message`
 * is for people, `details` is always an object (possibly empty) so callers never need to guard.
 * Pure functions usually return these inside a `Result` instead of throwing them.
 */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(options: RelayErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.details = Object.freeze({ ...options.details });
  }
}

export function isRelayError(value: unknown): value is RelayError {
  return value instanceof RelayError;
}

export interface ToRelayErrorOptions {
  /** Code used when `error` is not already a RelayError. Defaults to `Internal`. */
  readonly code?: ErrorCode;
  /** Message used when `error` is not already a RelayError; defaults to the error's message. */
  readonly message?: string;
}

/**
 * Normalises anything thrown into a RelayError, keeping the original as `cause` so nothing is
 * lost. A RelayError is returned unchanged (its code is more specific than any default).
 */
export function toRelayError(error: unknown, options: ToRelayErrorOptions = {}): RelayError {
  if (error instanceof RelayError) {
    return error;
  }
  const fallback = error instanceof Error ? error.message : String(error);
  return new RelayError({
    code: options.code ?? ErrorCode.Internal,
    message: options.message ?? fallback,
    cause: error,
  });
}
