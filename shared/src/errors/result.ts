import type { RelayError } from './relayError.js';

/** An array with at least one element: a failed Result always says why. */
export type NonEmptyArray<T> = readonly [T, ...T[]];

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Err<E> {
  readonly ok: false;
  readonly errors: NonEmptyArray<E>;
}

/**
 * Outcome of a validation or parse. Failures carry *all* the problems found, not only the first,
 * so one bad entry never hides the others (STYLE: per-resource errors collected and returned
 * together).
 */
export type Result<T, E = RelayError> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(first: E, ...rest: readonly E[]): Err<E> {
  return { ok: false, errors: [first, ...rest] };
}

export function isNonEmpty<T>(items: readonly T[]): items is NonEmptyArray<T> {
  return items.length > 0;
}

/** `ok(value())` when `errors` is empty, else a failure with all of them. `value` is only
 * evaluated on success, so it may assume the checks that produced `errors` passed. */
export function resultFrom<T, E>(errors: readonly E[], value: () => T): Result<T, E> {
  return isNonEmpty(errors) ? { ok: false, errors } : ok(value());
}

export function mapResult<T, U, E>(result: Result<T, E>, fn: (value: T) => U): Result<U, E> {
  return result.ok ? ok(fn(result.value)) : result;
}

/** All values when every result is ok, else every error of every failed result, in order. */
export function combineResults<T, E>(results: readonly Result<T, E>[]): Result<T[], E> {
  const values: T[] = [];
  const errors: E[] = [];
  for (const result of results) {
    if (result.ok) {
      values.push(result.value);
    } else {
      errors.push(...result.errors);
    }
  }
  return resultFrom(errors, () => values);
}
