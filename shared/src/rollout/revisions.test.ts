import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import {
  decodeRevisions,
  encodeRevisions,
  REVISION_LIMITS,
  type RecordedRevision,
  recordComplete,
  restoreRevision,
  revisionContent,
  revisionKey,
  undoTarget,
} from './revisions.js';
import { rolloutRevision } from './rollout.js';

// What `relayctl rollout undo` goes back to (docs/spec.md D10.5): the content of a revision, the
// record the server keeps (stable and previous), and a source put back to a recorded revision.

const KEY = 'gloo.solo.io/Upstream/gloo-mesh/u';
const source = (
  port: number,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name: 'u',
    namespace: 'gloo-mesh',
    resourceVersion: '7',
    labels,
    annotations: {
      'gloo.solo.io/distribute-to': '*/httpbin',
      'kuberelay.dev/rollout': 'a; b',
      ...annotations,
    },
  },
  spec: { kube: { servicePort: port } },
  status: { statuses: {} },
});
const recorded = (o: KubeObject, at = '2026-12-04T10:00:00Z'): RecordedRevision => ({
  revision: rolloutRevision(o),
  content: revisionContent(o),
  at,
});

describe('rollout revisions', () => {
  it('a revision is what the copies carry: no status, no distribute-to, no kuberelay.dev/ annotation', () => {
    const content = revisionContent(source(8000, { team: 'edge', 'kuberelay.dev/rollout-resume': 'x' }));
    expect(content).toEqual({
      fields: { spec: { kube: { servicePort: 8000 } } },
      labels: {},
      annotations: { team: 'edge' },
    });
  });

  it('stable is the last revision every wave applied, previous the one before; undo picks by where the source is', () => {
    const v1 = source(8000);
    const v2 = source(9000);
    const first = recordComplete(undefined, KEY, recorded(v1));
    expect(recordComplete(first, KEY, recorded(v1))).toBe(first);
    const second = recordComplete(first, KEY, recorded(v2));
    expect([second.stable.revision, second.previous?.revision]).toEqual([
      rolloutRevision(v2),
      rolloutRevision(v1),
    ]);
    // v3 is rolling out: back to v2, the last complete. v2 is complete: back to v1.
    expect(undoTarget(second, rolloutRevision(source(7000)))?.revision).toBe(rolloutRevision(v2));
    expect(undoTarget(second, rolloutRevision(v2))?.revision).toBe(rolloutRevision(v1));
    expect(undoTarget(first, rolloutRevision(v1))).toBeUndefined();
  });

  it('restores the content and keeps what selects and steers the source, but the resume', () => {
    const v1 = source(8000, { team: 'edge' }, { tier: 'gold' });
    const now = source(
      9000,
      { 'kuberelay.dev/rollout-resume': 'abc', 'kuberelay.dev/rollout-soak': '1m' },
      { tier: 'silver' },
    );
    const restored = restoreRevision(now, revisionContent(v1));
    expect(rolloutRevision(restored)).toBe(rolloutRevision(v1));
    expect(restored.metadata).toEqual({
      name: 'u',
      namespace: 'gloo-mesh',
      resourceVersion: '7',
      labels: { tier: 'gold' },
      annotations: {
        team: 'edge',
        'gloo.solo.io/distribute-to': '*/httpbin',
        'kuberelay.dev/rollout': 'a; b',
        'kuberelay.dev/rollout-soak': '1m',
      },
    });
    expect(restored).not.toHaveProperty('status');
  });

  it('reads back what it writes, skips what does not read, and stays within its limits', () => {
    const record = recordComplete(undefined, KEY, recorded(source(8000)));
    const data = encodeRevisions(new Map([[revisionKey(KEY), record]]));
    expect(decodeRevisions(data).get(revisionKey(KEY))).toEqual(record);
    expect(
      decodeRevisions({ ...data, 'r-bad': '{', [revisionKey('other')]: data[revisionKey(KEY)] ?? '' }).size,
    ).toBe(1);
    // A record too large is never kept; the oldest go first when the whole is too large.
    const huge = recordComplete(
      undefined,
      'big',
      recorded(source(1, { blob: 'x'.repeat(REVISION_LIMITS.recordBytes) })),
    );
    expect(encodeRevisions(new Map([[revisionKey('big'), huge]]))).toEqual({});
    const many = new Map(
      Array.from({ length: 12 }, (_, i) => {
        const key = `k${i}`;
        const at = `2026-12-0${1 + (i % 9)}T00:00:${String(i).padStart(2, '0')}Z`;
        const big = source(i, { blob: 'y'.repeat(100 * 1024) });
        return [revisionKey(key), recordComplete(undefined, key, recorded(big, at))] as const;
      }),
    );
    const kept = encodeRevisions(many);
    expect(Object.values(kept).join('').length).toBeLessThanOrEqual(REVISION_LIMITS.totalBytes);
    expect(Object.keys(kept).length).toBeGreaterThan(0);
    expect(Object.keys(kept).length).toBeLessThan(12);
  });
});
