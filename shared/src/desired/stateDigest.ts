import { createHash } from 'node:crypto';
import { type CopyPolicy, isDefaultPolicy, policyToken } from '../policy/copyPolicy.js';
import { compareStrings } from '../util/compare.js';
import { hashText } from './contentHash.js';
import type { DesiredCopy } from './desiredState.js';

/** What a digest covers of each copy; an agent can digest what it holds without full copies. */
export type DigestEntry = Pick<DesiredCopy, 'key' | 'hash' | 'overwrite'> & {
  /** Absent: the default policy (an agent's state file from before per-source policy (§10)). */
  readonly policy?: CopyPolicy | undefined;
};

/**
 * How a stream's digests are computed, agreed in Hello/Welcome (proto DigestFormat, same numbers).
 * - `sortedLines` (0): SHA-256 of the sorted `key hash overwrite` lines. Every version before
 *   issue 10 speaks only this one; it costs O(copies) for every change of a set.
 * - `entrySum` (1): the sum, modulo 2^128, of each entry's own hash. Order-free and additive, so
 *   the server updates a cluster's digest by the copies that changed (CopySet) instead of
 *   re-hashing 1,000 copies in each of 1,000 clusters for one edit.
 */
export const DigestFormat = { sortedLines: 0, entrySum: 1 } as const;
export type DigestFormat = (typeof DigestFormat)[keyof typeof DigestFormat];

/**
 * A content-derived version of one cluster's desired set. Equal sets give equal digests on every
 * server replica and across restarts, so an agent that reconnects with the digest it holds needs
 * nothing sent ("snapshot did not change, no reply"). The overwrite flag and the copy policy are
 * included because they change what the agent does; a default policy adds nothing to the line, so
 * digests of sets without one are what they were before policies existed. The empty set has a
 * digest too.
 */
export function stateDigest(
  copies: ReadonlyMap<string, DigestEntry>,
  format: DigestFormat = DigestFormat.entrySum,
): string {
  if (format === DigestFormat.sortedLines) return sortedLinesDigest(copies);
  if (copies instanceof DigestedMap) return copies.digest;
  let sum = EMPTY_SUM;
  for (const copy of copies.values()) sum = addEntry(sum, copy);
  return formatSum(sum);
}

function sortedLinesDigest(copies: ReadonlyMap<string, DigestEntry>): string {
  const lines = [...copies.values()].map(lineOf).sort(compareStrings);
  return hashText(lines.join(''));
}

function lineOf(copy: DigestEntry): string {
  const token = copy.policy === undefined ? '' : policyToken(copy.policy);
  const policy = token === '' ? '' : `\t${token}`;
  return `${copy.key}\t${copy.hash}\t${copy.overwrite ? 'overwrite' : '-'}${policy}\n`;
}

const MASK = (1n << 128n) - 1n;

const hash128 = (text: string): bigint =>
  BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 32)}`);

/** The entrySum of the empty set: a fixed tag rather than 0, so no digest reads as "nothing". */
export const EMPTY_SUM = hash128('kuberelay digest entrySum v1');

/**
 * Entry hashes, by entry object, or by the manifest object a DesiredCopy carries: there is one
 * DesiredCopy per cluster, but the manifest object is shared by every cluster that gets the same
 * content, so a copy sent to 1,000 clusters is hashed once. The memo records the key and hash it
 * was computed for and is used only when they match, so no entry is ever given another's hash.
 */
const byEntry = new WeakMap<object, bigint>();
const byObject = new WeakMap<object, { key: string; hash: string; plain?: bigint; overwrite?: bigint }>();

function entryHash(copy: DigestEntry): bigint {
  const object = (copy as { readonly object?: unknown }).object;
  if (typeof object !== 'object' || object === null) {
    let known = byEntry.get(copy);
    if (known === undefined) {
      known = hash128(lineOf(copy));
      byEntry.set(copy, known);
    }
    return known;
  }
  let memo = byObject.get(object);
  if (memo === undefined) {
    memo = { key: copy.key, hash: copy.hash };
    byObject.set(object, memo);
  } else if (memo.key !== copy.key || memo.hash !== copy.hash) {
    return hash128(lineOf(copy));
  }
  // Policies are rare and per source: not worth a memo slot on every manifest.
  if (copy.policy !== undefined && !isDefaultPolicy(copy.policy)) return hash128(lineOf(copy));
  const field = copy.overwrite ? 'overwrite' : 'plain';
  memo[field] ??= hash128(lineOf(copy));
  return memo[field];
}

/** `sum` with `copy` added (entrySum format). */
export function addEntry(sum: bigint, copy: DigestEntry): bigint {
  return (sum + entryHash(copy)) & MASK;
}

/** `sum` with `copy` taken out (entrySum format). */
export function removeEntry(sum: bigint, copy: DigestEntry): bigint {
  return (sum - entryHash(copy)) & MASK;
}

/** The entrySum digest as text: 32 hex digits, like every other hash the relay shows. */
export function formatSum(sum: bigint): string {
  return sum.toString(16).padStart(32, '0');
}

/**
 * A map that knows its own entrySum digest (CopySet), so stateDigest answers without a pass over
 * the copies. An abstract base rather than a duck-typed field: a plain Map can never pass for one.
 */
export abstract class DigestedMap<V extends DigestEntry> implements ReadonlyMap<string, V> {
  abstract readonly digest: string;
  abstract readonly size: number;
  abstract get(key: string): V | undefined;
  abstract has(key: string): boolean;
  abstract entries(): MapIterator<[string, V]>;

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}
