import { describe, expect, it } from 'vitest';
import { DEFAULT_KINDS, groupKindOf } from './kindInfo.js';
import { undistributableKinds } from './neighbourKinds.js';

describe('undistributableKinds', () => {
  it.each([
    {
      name: 'the default --kinds: neighbours only',
      kinds: DEFAULT_KINDS,
      includes: ['ReferenceGrant.gateway.networking.k8s.io', 'VirtualService.gateway.solo.io'],
      excludes: DEFAULT_KINDS.map(groupKindOf),
    },
    {
      name: 'ReferenceGrant added to --kinds is no longer reported',
      kinds: [...DEFAULT_KINDS, { group: 'gateway.networking.k8s.io', kind: 'ReferenceGrant' }],
      includes: ['GRPCRoute.gateway.networking.k8s.io'],
      excludes: ['ReferenceGrant.gateway.networking.k8s.io'],
    },
    {
      name: 'a default kind left out of --kinds is not watched (no read rights on it)',
      kinds: DEFAULT_KINDS.filter((k) => k.kind !== 'Upstream'),
      includes: ['UpstreamGroup.gloo.solo.io'],
      excludes: ['Upstream.gloo.solo.io'],
    },
  ])('$name', ({ kinds, includes, excludes }) => {
    const reported = undistributableKinds(kinds).map(groupKindOf);
    for (const kind of includes) expect(reported).toContain(kind);
    for (const kind of excludes) expect(reported).not.toContain(kind);
  });
});
