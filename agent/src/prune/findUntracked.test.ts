import { describe, expect, it } from 'vitest';
import { findUntracked } from './findUntracked.js';

const entry = (key: string) => ({ key });

describe('findUntracked', () => {
  it.each([
    { name: 'nothing held', inventory: [], desired: ['a'], untracked: [] },
    { name: 'all still wanted', inventory: ['a', 'b'], desired: ['b', 'a', 'c'], untracked: [] },
    { name: 'everything gone', inventory: ['b', 'a'], desired: [], untracked: ['a', 'b'] },
    { name: 'some gone, key order', inventory: ['c', 'a', 'b'], desired: ['b'], untracked: ['a', 'c'] },
  ])('$name', ({ inventory, desired, untracked }) => {
    const held = new Map(inventory.map((key) => [key, entry(key)]));
    expect(findUntracked(held, new Set(desired)).map((e) => e.key)).toEqual(untracked);
  });
});
