import { describe, expect, it } from 'vitest';
import { type CrdLike, crdServes } from './crdServes.js';

const kind = { group: 'gloo.solo.io', version: 'v1', kind: 'Upstream', plural: 'upstreams' };

const crd = (change: (c: Record<string, unknown>) => void = () => {}): CrdLike => {
  const c: Record<string, unknown> = {
    metadata: { name: 'upstreams.gloo.solo.io' },
    spec: {
      group: 'gloo.solo.io',
      names: { kind: 'Upstream', plural: 'upstreams' },
      versions: [{ name: 'v1', served: true, storage: true }],
    },
    status: { conditions: [{ type: 'Established', status: 'True' }] },
  };
  change(c);
  return c as CrdLike;
};

describe('crdServes', () => {
  it.each([
    { name: 'an established CRD serving the version', crd: crd(), serves: true },
    { name: 'not established yet', crd: crd((c) => (c.status = { conditions: [] })), serves: false },
    {
      name: 'being deleted',
      crd: crd(
        (c) => (c.metadata = { name: 'upstreams.gloo.solo.io', deletionTimestamp: '2026-01-01T00:00:00Z' }),
      ),
      serves: false,
    },
    {
      name: 'another version only',
      crd: crd((c) => ((c.spec as { versions: unknown }).versions = [{ name: 'v2', served: true }])),
      serves: false,
    },
    {
      name: 'the version not served',
      crd: crd((c) => ((c.spec as { versions: unknown }).versions = [{ name: 'v1', served: false }])),
      serves: false,
    },
    {
      name: 'another kind',
      crd: crd((c) => ((c.spec as { names: unknown }).names = { kind: 'Other' })),
      serves: false,
    },
    {
      name: 'versions that are not a list',
      crd: crd((c) => ((c.spec as { versions: unknown }).versions = 'v1')),
      serves: false,
    },
    { name: 'an empty object', crd: {}, serves: false },
  ])('$name: $serves', ({ crd, serves }) => {
    expect(crdServes(crd, kind)).toBe(serves);
  });
});
