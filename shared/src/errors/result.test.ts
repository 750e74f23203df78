import { describe, expect, it } from 'vitest';
import { combineResults, err, isNonEmpty, mapResult, ok, type Result, resultFrom } from './result.js';

describe('Result helpers', () => {
  it('ok and err build the two shapes', () => {
    expect(ok(3)).toEqual({ ok: true, value: 3 });
    expect(err('a', 'b')).toEqual({ ok: false, errors: ['a', 'b'] });
  });

  it.each([
    { items: [], expected: false },
    { items: [1], expected: true },
  ])('isNonEmpty($items) is $expected', ({ items, expected }) => {
    expect(isNonEmpty(items)).toBe(expected);
  });

  it('resultFrom only evaluates the value without errors', () => {
    let calls = 0;
    const value = () => {
      calls += 1;
      return 'v';
    };
    expect(resultFrom(['e'], value)).toEqual({ ok: false, errors: ['e'] });
    expect(calls).toBe(0);
    expect(resultFrom([], value)).toEqual({ ok: true, value: 'v' });
    expect(calls).toBe(1);
  });

  it('mapResult maps values and passes failures through unchanged', () => {
    const failure: Result<number, string> = err('x');
    const success: Result<number, string> = ok(2);
    expect(mapResult(success, (n) => n * 10)).toEqual({ ok: true, value: 20 });
    expect(mapResult<number, number, string>(failure, (n) => n * 10)).toBe(failure);
  });

  it.each([
    { name: 'all ok', input: [ok(1), ok(2)], expected: { ok: true, value: [1, 2] } },
    { name: 'empty', input: [], expected: { ok: true, value: [] } },
    {
      name: 'collects every error in order',
      input: [err('a'), ok(1), err('b', 'c')],
      expected: { ok: false, errors: ['a', 'b', 'c'] },
    },
  ])('combineResults: $name', ({ input, expected }) => {
    expect(combineResults<number, string>(input)).toEqual(expected);
  });
});
