import { describe, expect, it } from 'vitest';
import { renderSourceStatuses } from './statusReport.js';
import { source, statusOf, UPSTREAM } from './statusReport.testkit.js';

// relayctl status's text output per source: its table, problems and events, cut to readable
// lines when an annotation or its errors are huge.

describe('renderSourceStatuses', () => {
  it('prints a table per source, its problems and its events', () => {
    const now = new Date('2026-01-01T00:10:00Z');
    const statuses = statusOf([source(UPSTREAM, 'web', '*/httpbin'), source(UPSTREAM, 'bad', 'a/b/c')], {
      events: [
        {
          metadata: { name: 'e' },
          involvedObject: { kind: 'Upstream', name: 'web', namespace: 'gloo-mesh' },
          type: 'Warning',
          reason: 'CopyConflict',
          message: 'cluster-2: Upstream httpbin/web exists',
          count: 2,
          lastTimestamp: '2026-01-01T00:08:00Z',
        },
      ],
    });
    expect(renderSourceStatuses(statuses, { now })).toBe(
      [
        '🔴 Upstream gloo-mesh/bad  distribute-to: "a/b/c"',
        '   🔴 InvalidAnnotation: distribute-to entry "a/b/c": more than one "/" (expected cluster or cluster/namespace)',
        '   🔴 not distributed as asked; copies that exist are kept as they are',
        '',
        '🔴 Upstream gloo-mesh/web  distribute-to: "*/httpbin"',
        '   CLUSTER    NAMESPACE  RESULT         REASON',
        '   cluster-1  httpbin    applied',
        '   cluster-2  httpbin    conflict       Conflict: Upstream httpbin/web exists and is not managed by the relay',
        "   cluster-3  httpbin    not-connected  the cluster's agent is not connected",
        '   cluster-2  old-ns     applied        no longer selected',
        '   Warning CopyConflict (x2, 2m ago): cluster-2: Upstream httpbin/web exists',
        '',
        '2 sources: 0 🟢  0 🟡  2 🔴',
        '',
      ].join('\n'),
    );
  });

  it('cuts a hostile annotation and a flood of errors down to readable lines, with counts', () => {
    const value = Array.from({ length: 300 }, (_, i) => `gone-${i}`).join(',');
    const bad = Array.from({ length: 30 }, (_, i) => `c${i}/a/b`).join(',');
    const lines = renderSourceStatuses(
      statusOf([source(UPSTREAM, 'wide', value), source(UPSTREAM, 'bad', bad)]),
      {
        now: new Date(),
      },
    ).split('\n');
    expect(lines).toContainEqual(
      expect.stringContaining(`… (${JSON.stringify(value).length - 240} more characters)`),
    );
    expect(Math.max(...lines.map((line) => [...line].length))).toBeLessThan(340);
    expect(lines.filter((line) => line.includes('InvalidAnnotation'))).toHaveLength(20);
    expect(lines).toContain('   … and 10 more errors (relayctl status -o json lists them all)');
  });
});
