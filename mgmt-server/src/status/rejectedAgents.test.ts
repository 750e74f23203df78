import { describe, expect, it } from 'vitest';
import { MAX_REJECTED_KEYS, mergeRejections, readableEntries } from './rejectedAgents.js';

const attempt = (claimedCluster: string | undefined, at: string) => ({
  claimedCluster,
  reason: 'unknown token',
  code: 'UNAUTHENTICATED',
  peer: 'ipv4:10.0.0.1:5000',
  at,
});

describe('rejected agents', () => {
  it('counts on only from entries that decode completely; a hand-edited one starts again', () => {
    const stored = {
      qa: JSON.stringify({
        lastAttempt: '2025-01-01T00:00:00Z',
        reason: 'r',
        code: 'C',
        peer: 'p',
        count: 3,
      }),
      // The count was edited into a string: before validation, "x" + 1 made the count "x1".
      dev: JSON.stringify({
        lastAttempt: '2025-01-01T00:00:00Z',
        reason: 'r',
        code: 'C',
        peer: 'p',
        count: 'x',
      }),
      broken: '{not json',
    };
    const entries = mergeRejections(readableEntries(stored), [
      attempt('qa', '2025-01-01T00:00:05Z'),
      attempt('dev', '2025-01-01T00:00:05Z'),
    ]);
    expect([...entries.keys()].sort()).toEqual(['dev', 'qa']);
    expect(entries.get('qa')?.count).toBe(4);
    expect(entries.get('dev')?.count).toBe(1);
  });

  it('counts repeats and evicts the oldest beyond the limit', () => {
    let entries = mergeRejections(new Map(), [
      attempt('qa', '2025-01-01T00:00:00Z'),
      attempt('qa', '2025-01-01T00:00:01Z'),
    ]);
    expect(entries.get('qa')).toMatchObject({ count: 2, lastAttempt: '2025-01-01T00:00:01Z' });
    const many = Array.from({ length: MAX_REJECTED_KEYS }, (_, i) =>
      attempt(`c${i}`, `2025-01-02T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}Z`),
    );
    entries = mergeRejections(entries, many);
    expect(entries.size).toBe(MAX_REJECTED_KEYS);
    expect(entries.has('qa')).toBe(false);
  });
});
