import { describe, expect, it } from 'vitest';
import { orphanedCopies, renderOrphanedCopies } from './statusReport.js';
import { cluster, copy } from './statusReport.testkit.js';

// Copies whose source is gone and that the agents could not delete, found and printed from the
// clusters' statuses alone.

describe('orphaned copies', () => {
  it('lists what agents could not delete, by cluster, from the clusters status alone', () => {
    const orphan = (key: string) => ({
      key,
      outcome: 'Failed' as const,
      code: 'PruneFailed',
      message: 'HTTP 403',
    });
    const found = orphanedCopies([
      cluster('b', { copies: [orphan('gloo.solo.io/Upstream/x/old'), copy('k', 'Applied')] }),
      cluster('a', { copies: [orphan('gloo.solo.io/Upstream/y/old')] }),
    ]);
    expect(found).toEqual([
      { cluster: 'a', key: 'gloo.solo.io/Upstream/y/old', message: 'HTTP 403' },
      { cluster: 'b', key: 'gloo.solo.io/Upstream/x/old', message: 'HTTP 403' },
    ]);
    expect(renderOrphanedCopies(found)).toBe(
      [
        '🔴 Orphaned copies: 2 copies whose sources are gone, not deleted yet (the agents retry)',
        '   CLUSTER  COPY                         REASON',
        '   a        gloo.solo.io/Upstream/y/old  HTTP 403',
        '   b        gloo.solo.io/Upstream/x/old  HTTP 403',
        '',
      ].join('\n'),
    );
    expect(renderOrphanedCopies([])).toBe('');
  });
});
