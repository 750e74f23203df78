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
