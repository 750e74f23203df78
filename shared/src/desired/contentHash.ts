import { createHash } from 'node:crypto';
import { compareStrings } from '../util/compare.js';

/**
 * JSON with object keys sorted by code unit at every level, and otherwise JSON.stringify's rules
 * (toJSON is honoured; undefined, functions and symbols are dropped from objects and become null
 * in arrays; non-finite numbers become null). Two values that mean the same JSON give the same
 * string whatever their key order, so the hash of a copy only changes when its content does.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value === null) {
    return 'null';
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: a BigInt has no JSON form');
    case 'object':
      return writeObject(value);
    default:
      return undefined;
  }
}

function writeObject(value: object): string | undefined {
  if ('toJSON' in value && typeof value.toJSON === 'function') {
    return write(value.toJSON());
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => write(item) ?? 'null').join(',')}]`;
  }
  const fields: string[] = [];
  const entries: [string, unknown][] = Object.entries(value);
  for (const [key, field] of entries.sort(([a], [b]) => compareStrings(a, b))) {
    const written = write(field);
    if (written !== undefined) {
      fields.push(`${JSON.stringify(key)}:${written}`);
    }
  }
  return `{${fields.join(',')}}`;
}

/** Hex length of a content hash: 16 bytes of SHA-256, plenty against accidental collisions
 * among the copies of one cluster, and short enough to log and send for every copy. */
export const CONTENT_HASH_HEX_LENGTH = 32;

/** SHA-256 of `text` as hex, truncated to CONTENT_HASH_HEX_LENGTH. */
export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, CONTENT_HASH_HEX_LENGTH);
}

/**
 * Hashes of frozen objects, by identity. Safe only because a frozen tree built by this package
 * cannot change (see deepFreeze); unfrozen objects are hashed every time. A WeakMap, so it holds
 * no object alive and is invisible to callers: it only saves re-serialising a copy shared by
 * thousands of clusters or kept from a previous state.
 */
const memo = new WeakMap<object, string>();

/** Content hash of a JSON value: `hashText(canonicalJson(value))`, memoized for frozen objects. */
export function contentHash(value: unknown): string {
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) {
    return hashText(canonicalJson(value));
  }
  const known = memo.get(value);
  if (known !== undefined) {
    return known;
  }
  const hash = hashText(canonicalJson(value));
  memo.set(value, hash);
  return hash;
}
