import { describe, expect, it } from 'vitest';
import { aliveReplicas } from './aliveReplicas.js';
import { type LeaseObject, microTime } from './leaseApi.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const SELF = 'kuberelay-agent-a';
const lease = (name: string, renewedMsAgo: number | undefined, seconds = 15): LeaseObject => ({
  metadata: { name },
  spec: {
    leaseDurationSeconds: seconds,
    ...(renewedMsAgo === undefined ? {} : { renewTime: microTime(NOW - renewedMsAgo) }),
  },
});
const options = { now: NOW, self: SELF, forgetAfterMs: 3_600_000 };

describe('aliveReplicas', () => {
  it.each<[string, LeaseObject[], number, string[]]>([
    ['none listed: this replica alone', [], 1, []],
    ['only our own, fresh', [lease(SELF, 1_000)], 1, []],
    ['ours and another renewed 14.9 s ago (15 s Leases)', [lease(SELF, 0), lease('b', 14_900)], 2, []],
    ['another renewed exactly 15 s ago: gone', [lease(SELF, 0), lease('b', 15_000)], 1, []],
    ["the other's own duration counts", [lease('b', 20_000, 30)], 2, []],
    ['three alive', [lease(SELF, 0), lease('b', 1), lease('c', 2)], 3, []],
    ['ours stale in the list (a slow renewal): still counted, we run', [lease(SELF, 60_000)], 1, []],
    ['no renewTime: not counted, not forgotten', [lease('b', undefined)], 1, []],
    [
      'dead for over an hour: forgotten (deleted by the leader)',
      [lease('b', 15_000 + 3_600_000), lease('c', 20_000)],
      1,
      ['b'],
    ],
  ])('%s', (_what, leases, alive, forgotten) => {
    const result = aliveReplicas(leases, options);
    expect(result.alive).toBe(alive);
    expect(result.forget.map((l) => l.metadata.name)).toEqual(forgotten);
  });
});
