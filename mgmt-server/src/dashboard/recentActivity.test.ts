import { describe, expect, it } from 'vitest';
import { RECENT_KEYS, RECENT_PER_KEY, RecentLog } from './recentActivity.js';

describe('RecentLog', () => {
  it(`keeps the newest ${RECENT_PER_KEY} entries per key, newest first`, () => {
    const log = new RecentLog<number>();
    for (let i = 0; i < 25; i += 1) log.add('a', i);
    expect(log.get('a')).toEqual([24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
    expect(log.get('b')).toEqual([]);
  });

  it(`keeps at most ${RECENT_KEYS} keys, dropping the least recently written`, () => {
    const log = new RecentLog<number>();
    log.add('kept', 1);
    for (let i = 0; i < RECENT_KEYS; i += 1) {
      log.add(`made-up-${i}`, i);
      // Written again before it would be the oldest: it stays.
      if (i % 1_000 === 0) log.add('kept', i);
    }
    expect(log.get('made-up-0')).toEqual([]);
    expect(log.get(`made-up-${RECENT_KEYS - 1}`)).toEqual([RECENT_KEYS - 1]);
    expect(log.get('kept')[0]).toBe(1_000);
  });
});
