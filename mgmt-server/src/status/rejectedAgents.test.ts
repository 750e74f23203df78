import { describe, expect, it } from 'vitest';
import { MAX_REJECTED_KEYS, mergeRejections, rejectedAgentKey } from './rejectedAgents.js';

const attempt = (claimedCluster: string | undefined, at: string) => ({
  claimedCluster,
  reason: 'unknown token',
  code: 'UNAUTHENTICATED',
  peer: 'ipv4:10.0.0.1:5000',
  at,
});

describe('rejected agents', () => {
  it.each([
    [undefined, '_unknown'],
    ['qa', 'qa'],
    ['we ird/name', 'we_ird_name'],
    ['..', '_unknown'],
  ])('key for %s is %s', (claimed, key) => {
    expect(rejectedAgentKey(claimed)).toBe(key);
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
