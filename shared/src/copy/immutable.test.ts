import { describe, expect, it } from 'vitest';
import { deepFreeze, setIn } from './immutable.js';
import { formatPath, isJsonObject } from './kubeObject.js';

describe('setIn', () => {
  const root = deepFreeze({
    spec: { refs: [{ name: 'a' }, { name: 'b' }], other: { x: 1 } },
    meta: { n: 1 },
  });

  it('replaces the value at the path and copies only the path', () => {
    const next = setIn(root, ['spec', 'refs', 1, 'namespace'], 'ns') as typeof root;
    expect(next).toEqual({
      spec: { refs: [{ name: 'a' }, { name: 'b', namespace: 'ns' }], other: { x: 1 } },
      meta: { n: 1 },
    });
    expect(next.meta).toBe(root.meta);
    expect(next.spec.other).toBe(root.spec.other);
    expect(next.spec.refs[0]).toBe(root.spec.refs[0]);
    expect(root.spec.refs[1]).toEqual({ name: 'b' });
    expect(Object.isFrozen(next.spec.refs)).toBe(true);
  });

  it('returns the value for an empty path', () => {
    expect(setIn(root, [], 5)).toBe(5);
  });

  it.each([
    { path: ['spec', 0], message: 'setIn: expected an array at [0]' },
    { path: ['spec', 'refs', 'x', 'y'], message: 'setIn: expected an object at .x' },
  ])('throws for a path that does not fit the tree: $path', ({ path, message }) => {
    expect(() => setIn(root, path, 1)).toThrow(message);
  });
});

describe('deepFreeze', () => {
  it('freezes every level and returns the same tree', () => {
    const tree = { a: [{ b: 1 }], c: { d: 'x' } };
    expect(deepFreeze(tree)).toBe(tree);
    expect([tree, tree.a, tree.a[0], tree.c].every((node) => Object.isFrozen(node))).toBe(true);
  });
});

describe('kubeObject helpers', () => {
  it.each([
    { path: ['spec', 'rules', 0, 'backendRefs', 1], text: 'spec.rules[0].backendRefs[1]' },
    { path: ['spec'], text: 'spec' },
    { path: [], text: '' },
  ])('formatPath → $text', ({ path, text }) => {
    expect(formatPath(path)).toBe(text);
  });

  it.each([
    { value: {}, expected: true },
    { value: [], expected: false },
    { value: null, expected: false },
    { value: 'x', expected: false },
  ])('isJsonObject($value) is $expected', ({ value, expected }) => {
    expect(isJsonObject(value)).toBe(expected);
  });
});
