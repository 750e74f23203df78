import { describe, expect, it } from 'vitest';
import { type FieldPath, parseFieldPath } from './fieldPath.js';
import { keepLiveValues } from './keepLiveValues.js';

// The write side of kuberelay.dev/ignore-fields (docs/spec.md D10.3): a body the agent writes
// carries live's value at every ignored path.

describe('keepLiveValues', () => {
  const ignoredOf = (...paths: string[]): FieldPath[] =>
    paths.map((path) => {
      const parsed = parseFieldPath(path);
      if (!parsed.ok) throw new Error(`bad path in the test: ${path}`);
      return parsed.value;
    });
  it.each([
    {
      name: 'a leaf live has',
      body: { spec: { a: 1 } },
      live: { spec: { a: 2 } },
      paths: ['spec.a'],
      want: { spec: { a: 2 } },
    },
    {
      name: 'a leaf live lacks is dropped',
      body: { spec: { a: 1, b: 1 } },
      live: { spec: {} },
      paths: ['spec.a'],
      want: { spec: { b: 1 } },
    },
    {
      name: 'a map the copy lacks is built',
      body: { spec: {} },
      live: { spec: { o: { t: 5, x: 1 } } },
      paths: ['spec.o.t'],
      want: { spec: { o: { t: 5 } } },
    },
    {
      name: 'every element of a list, where both have it',
      body: { spec: { l: [{ w: 1 }, { w: 1 }, { w: 1 }] } },
      live: { spec: { l: [{ w: 5 }, { v: 0 }] } },
      paths: ['spec.l[*].w'],
      want: { spec: { l: [{ w: 5 }, {}, { w: 1 }] } },
    },
    {
      name: 'one index',
      body: { spec: { l: [1, 2] } },
      live: { spec: { l: [7, 8] } },
      paths: ['spec.l[1]'],
      want: { spec: { l: [1, 8] } },
    },
    { name: 'nothing on either side', body: { spec: {} }, live: {}, paths: ['spec.a.b'], want: { spec: {} } },
  ])('$name', ({ body, live: current, paths, want }) => {
    expect(keepLiveValues(body, current, ignoredOf(...paths))).toEqual(want);
  });
});
