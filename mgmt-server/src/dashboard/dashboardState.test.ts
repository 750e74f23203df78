import { createManualClock } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { DashboardState } from './dashboardState.js';
import { RecentLog } from './recentActivity.js';

function setup() {
  const clock = createManualClock({ start: 1_000 });
  let gathered = 0;
  const state = new DashboardState({
    cache: { state: undefined, get: () => undefined },
    reporter: { agent: () => undefined },
    view: {
      sources: () => {
        gathered += 1;
        return [];
      },
      clusterStatuses: () => [],
    },
    serverInstance: 'mgmt-0/a',
    recent: { events: new RecentLog(), rejected: new RecentLog() },
    clock,
    signal: new AbortController().signal,
    minNotifyIntervalMs: 500,
  });
  const heard: { at: number; generation: number }[] = [];
  state.onChange((generation) => heard.push({ at: clock.now(), generation }));
  return { clock, state, heard, gathered: () => gathered };
}

describe('DashboardState', () => {
  it('coalesces a burst of changes into at most one notification per interval', async () => {
    const { clock, state, heard } = setup();
    state.changed();
    await clock.advance(0);
    expect(heard).toEqual([{ at: 1_000, generation: 1 }]);
    for (let i = 0; i < 100; i += 1) {
      state.changed();
      await clock.advance(1);
    }
    // 100 changes in 100 ms: nothing more until the interval since the last one is over ...
    expect(heard).toHaveLength(1);
    await clock.advance(400);
    // ... then one notification carrying the latest generation.
    expect(heard).toEqual([
      { at: 1_000, generation: 1 },
      { at: 1_500, generation: 101 },
    ]);
    // No change, no notification.
    await clock.advance(5_000);
    expect(heard).toHaveLength(2);
  });

  it('tells of heartbeats only every 5 s, and of a real change after one within the interval', async () => {
    const { clock, state, heard } = setup();
    state.changed('heartbeat');
    await clock.advance(0);
    expect(heard.map((h) => h.at)).toEqual([1_000]);
    for (let i = 0; i < 40; i += 1) {
      state.changed('heartbeat');
      await clock.advance(100);
    }
    // 40 heartbeats over 4 s: not yet told (due at 6,000).
    expect(heard.map((h) => h.at)).toEqual([1_000]);
    // An Ack arrives: told at once (the 500 ms since the last notification are long over).
    state.changed('data');
    await clock.advance(0);
    expect(heard.map((h) => h.at)).toEqual([1_000, 5_000]);
    state.changed('heartbeat');
    await clock.advance(4_999);
    expect(heard).toHaveLength(2);
    await clock.advance(1);
    expect(heard.map((h) => h.at)).toEqual([1_000, 5_000, 10_000]);
  });

  it('spaces notifications by what building a view costs', async () => {
    const { clock, state, heard } = setup();
    state.changed();
    await clock.advance(0);
    // A view took 200 ms to build: the next notification waits ten times that.
    state.recordCost(200);
    state.changed();
    await clock.advance(1_999);
    expect(heard).toHaveLength(1);
    await clock.advance(1);
    expect(heard.map((h) => h.at)).toEqual([1_000, 3_000]);
  });

  it('gathers the input once per change, however many pages ask', () => {
    const { state, gathered } = setup();
    state.input();
    state.input();
    expect(gathered()).toBe(1);
    state.changed();
    state.input();
    state.input();
    expect(gathered()).toBe(2);
  });
});
