import { compareStrings } from '../util/compare.js';
import { hashText } from './contentHash.js';
import type { DesiredCopy } from './desiredState.js';

/** What a digest covers of each copy; an agent can digest what it holds without full copies. */
export type DigestEntry = Pick<DesiredCopy, 'key' | 'hash' | 'overwrite'>;

/**
 * A content-derived version of one cluster's desired set: the hash of its sorted
 * `key hash overwrite` lines. Equal sets give equal digests on every server replica and across
 * restarts, so an agent that reconnects with the digest it holds needs nothing sent ("snapshot did
 * not change, no reply"). The overwrite flag is included because it changes what the agent does.
 * The empty set has a digest too (the hash of the empty string).
 */
export function stateDigest(copies: ReadonlyMap<string, DigestEntry>): string {
  const lines = [...copies.values()]
    .map((copy) => `${copy.key}\t${copy.hash}\t${copy.overwrite ? 'overwrite' : '-'}\n`)
    .sort(compareStrings);
  return hashText(lines.join(''));
}
