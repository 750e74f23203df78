import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../copy/immutable.js';
import { canonicalJson, contentHash, hashText } from './contentHash.js';

describe('canonicalJson', () => {
  it.each([
    { value: { b: 1, a: [true, null, 'x'] }, json: '{"a":[true,null,"x"],"b":1}' },
    { value: { z: { y: 1, x: 2 } }, json: '{"z":{"x":2,"y":1}}' },
    { value: { a: undefined, b: () => 1, c: 1 }, json: '{"c":1}' },
    { value: [undefined, Number.NaN, Number.POSITIVE_INFINITY, 1.5], json: '[null,null,null,1.5]' },
    { value: { d: new Date(0) }, json: '{"d":"1970-01-01T00:00:00.000Z"}' },
    { value: { é: 1, Z: 2, a: 3, '': 4 }, json: '{"":4,"Z":2,"a":3,"é":1}' },
    { value: 'quote"d', json: '"quote\\"d"' },
    { value: undefined, json: 'null' },
  ])('$json', ({ value, json }) => {
    expect(canonicalJson(value)).toBe(json);
  });

  it('refuses BigInt like JSON.stringify', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow('canonicalJson: a BigInt has no JSON form');
  });

  it('equals JSON.stringify of the same value with sorted keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(dict));
      }),
    );
  });
});

describe('contentHash', () => {
  it('is the truncated sha256 of the canonical JSON', () => {
    const full = createHash('sha256').update('{"a":1}').digest('hex');
    expect(hashText('{"a":1}')).toBe(full.slice(0, 32));
    expect(contentHash({ a: 1 })).toBe(full.slice(0, 32));
  });

  it.each([
    { a: { x: 1, y: [1, 2] }, b: { y: [1, 2], x: 1 }, equal: true },
    { a: { x: 1 }, b: { x: 2 }, equal: false },
    { a: { x: [1, 2] }, b: { x: [2, 1] }, equal: false },
  ])('equal content ⇔ equal hash: $a vs $b', ({ a, b, equal }) => {
    expect(contentHash(a) === contentHash(b)).toBe(equal);
  });

  it('memoizes frozen objects only', () => {
    const frozen = deepFreeze({ a: { b: 1 } });
    expect(contentHash(frozen)).toBe(contentHash({ a: { b: 1 } }));
    const mutable: { a: number } = { a: 1 };
    const first = contentHash(mutable);
    mutable.a = 2;
    expect(contentHash(mutable)).not.toBe(first);
    expect(contentHash(mutable)).toBe(contentHash({ a: 2 }));
  });
});
