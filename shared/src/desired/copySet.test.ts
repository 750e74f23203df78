import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../policy/copyPolicy.js';
import { compareStrings } from '../util/compare.js';
import { CopySet } from './copySet.js';
import type { DesiredCopy } from './desiredState.js';
import { diffCopies } from './diffCopies.js';
import { DigestFormat, stateDigest } from './stateDigest.js';

const copy = (key: string, hash: string, overwrite = false): DesiredCopy =>
  Object.freeze({
    key,
    cluster: 'c',
    source: { group: '', kind: 'ConfigMap', namespace: 'n', name: key },
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: key } },
    hash,
    overwrite,
    policy: DEFAULT_POLICY,
  });

/** A random sequence of set/remove changes over a small key space (so keys come and go). */
const changes = fc.array(
  fc.array(fc.tuple(fc.nat(40), fc.option(fc.nat(3), { nil: undefined }), fc.boolean()), { maxLength: 30 }),
  { minLength: 1, maxLength: 40 },
);

describe('CopySet', () => {
  it('behaves like a sorted Map with the same digest, whatever the changes', () => {
    fc.assert(
      fc.property(changes, (steps) => {
        let set = CopySet.empty;
        const model = new Map<string, DesiredCopy>();
        for (const step of steps) {
          const batch = new Map<string, DesiredCopy | undefined>();
          for (const [k, h, overwrite] of step) {
            const key = `k${String(k).padStart(2, '0')}`;
            batch.set(key, h === undefined ? undefined : copy(key, `h${h}`, overwrite));
          }
          const previous = set;
          set = set.with(batch);
          for (const [key, value] of batch) {
            if (value === undefined) model.delete(key);
            else model.set(key, value);
          }
          const sorted = [...model].sort(([a], [b]) => compareStrings(a, b));
          expect([...set]).toEqual(sorted);
          expect([...set.keys()]).toEqual(sorted.map(([key]) => key));
          expect(set.size).toBe(model.size);
          for (const [key, value] of model) expect(set.get(key)).toBe(value);
          expect(set.has('absent')).toBe(false);
          expect(stateDigest(set)).toBe(stateDigest(new Map(model)));
          expect(stateDigest(set, DigestFormat.sortedLines)).toBe(
            stateDigest(new Map(model), DigestFormat.sortedLines),
          );
          // The diff from the structure equals the diff of plain maps.
          expect(diffCopies(previous, set)).toEqual(diffCopies(new Map(previous), new Map(set)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('returns itself for changes that change nothing, and shares its base with small changes', () => {
    const a = CopySet.of([copy('a', 'h1'), copy('b', 'h1')]);
    expect(a.with(new Map([['a', a.get('a')]]))).toBe(a);
    expect(a.with(new Map([['zz', undefined]]))).toBe(a);
    const b = a.with(new Map([['b', copy('b', 'h2')]]));
    expect(b.changedKeys(a)).toEqual(new Set(['b']));
    expect(CopySet.of([...b.values()]).changedKeys(a)).toBeUndefined();
  });
});
