import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../policy/copyPolicy.js';
import type { DesiredCopy } from './desiredState.js';
import { baselineFromHave, diffCopies } from './diffCopies.js';
import { DigestFormat, stateDigest } from './stateDigest.js';

function copy(key: string, hash: string, overwrite = false): DesiredCopy {
  return {
    key,
    cluster: 'qa',
    source: { group: 'g', kind: 'K', namespace: 'n', name: key },
    object: { apiVersion: 'g/v1', kind: 'K', metadata: { name: key } },
    hash,
    overwrite,
    policy: DEFAULT_POLICY,
  };
}

function copies(...items: DesiredCopy[]): ReadonlyMap<string, DesiredCopy> {
  return new Map(items.map((c) => [c.key, c]));
}

describe('diffCopies', () => {
  const a1 = copy('a', 'h1');
  const b1 = copy('b', 'h1');
  it.each([
    { name: 'identical maps', prev: copies(a1, b1), next: copies(a1, b1), upserts: [], removes: [] },
    {
      name: 'equal hashes in other objects',
      prev: copies(a1),
      next: copies(copy('a', 'h1')),
      upserts: [],
      removes: [],
    },
    { name: 'added', prev: copies(a1), next: copies(b1, a1), upserts: ['b'], removes: [] },
    {
      name: 'changed hash',
      prev: copies(a1, b1),
      next: copies(copy('a', 'h2'), b1),
      upserts: ['a'],
      removes: [],
    },
    {
      name: 'changed overwrite only',
      prev: copies(a1),
      next: copies(copy('a', 'h1', true)),
      upserts: ['a'],
      removes: [],
    },
    {
      name: 'removed',
      prev: copies(b1, copy('c', 'x'), a1),
      next: copies(),
      upserts: [],
      removes: ['a', 'b', 'c'],
    },
    { name: 'from nothing, sorted', prev: copies(), next: copies(b1, a1), upserts: ['a', 'b'], removes: [] },
  ])('$name', ({ prev, next, upserts, removes }) => {
    const diff = diffCopies(prev, next);
    expect(diff.upserts.map((c) => c.key)).toEqual(upserts);
    expect(diff.removes).toEqual(removes);
  });

  it.each([
    { name: 'a hash the agent has', have: [{ key: 'a', hash: 'h1' }], upserts: [], removes: [] },
    // The flag is unknown from a Hello: equal until the agent's digest says otherwise.
    {
      name: 'unknown overwrite flag',
      have: [{ key: 'a', hash: 'h1' }],
      next: [copy('a', 'h1', true)],
      upserts: [],
      removes: [],
    },
    { name: 'another hash', have: [{ key: 'a', hash: 'h0' }], upserts: ['a'], removes: [] },
    {
      name: 'held but not wanted',
      have: [
        { key: 'a', hash: 'h1' },
        { key: 'z', hash: 'h' },
      ],
      upserts: [],
      removes: ['z'],
    },
  ])("against a Hello's baseline: $name", ({ have, next = [a1], upserts, removes }) => {
    const diff = diffCopies(baselineFromHave(have), copies(...next));
    expect(diff.upserts.map((c) => c.key)).toEqual(upserts);
    expect(diff.removes).toEqual(removes);
  });

  it('returns the next copies themselves', () => {
    const next = copy('a', 'h2');
    expect(diffCopies(copies(copy('a', 'h1')), copies(next)).upserts[0]).toBe(next);
  });
});

describe('stateDigest', () => {
  it.each([
    {
      name: 'insertion order does not matter',
      a: copies(copy('a', 'h1'), copy('b', 'h2')),
      b: copies(copy('b', 'h2'), copy('a', 'h1')),
      equal: true,
    },
    {
      name: 'a hash change changes it',
      a: copies(copy('a', 'h1')),
      b: copies(copy('a', 'h2')),
      equal: false,
    },
    {
      name: 'an overwrite change changes it',
      a: copies(copy('a', 'h1')),
      b: copies(copy('a', 'h1', true)),
      equal: false,
    },
    {
      name: 'a removal changes it',
      a: copies(copy('a', 'h1'), copy('b', 'h1')),
      b: copies(copy('a', 'h1')),
      equal: false,
    },
    {
      name: 'keys and hashes cannot be shifted into each other',
      a: copies(copy('ab', 'c')),
      b: copies(copy('a', 'bc')),
      equal: false,
    },
  ])('$name', ({ a, b, equal }) => {
    for (const format of [DigestFormat.sortedLines, DigestFormat.entrySum]) {
      expect(stateDigest(a, format) === stateDigest(b, format), `format ${format}`).toBe(equal);
    }
  });

  it('needs only key, hash and overwrite', () => {
    const full = copies(copy('a', 'h1', true));
    expect(stateDigest(new Map([['a', { key: 'a', hash: 'h1', overwrite: true }]]))).toBe(stateDigest(full));
  });

  it.each([
    // SHA-256 of the empty string: what every agent before issue 10 computes for nothing held.
    { format: DigestFormat.sortedLines, digest: 'e3b0c44298fc1c149afbf4c8996fb924' },
    // The first 16 bytes of SHA-256("kuberelay digest entrySum v1"): the sum's seed.
    { format: DigestFormat.entrySum, digest: '8b53d795a50ff6ebc8ec0e612c933d20' },
  ])('is a fixed value for the empty set (format $format)', ({ format, digest }) => {
    expect(stateDigest(new Map(), format)).toBe(digest);
  });

  it.each([DigestFormat.sortedLines, DigestFormat.entrySum])(
    'differs between the formats for the same set (format %s is not the other)',
    (format) => {
      const set = copies(copy('a', 'h1'), copy('b', 'h2'));
      const other = format === DigestFormat.entrySum ? DigestFormat.sortedLines : DigestFormat.entrySum;
      expect(stateDigest(set, format)).not.toBe(stateDigest(set, other));
    },
  );
});
