import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { createManualClock } from './manualClock.js';

describe('systemClock', () => {
  it('reads the real time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('rejects at once with the reason when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(systemClock.sleep(60_000, controller.signal)).rejects.toThrow('stop');
  });

  it('rejects promptly when aborted during a long sleep', async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(3_600_000, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(sleeping).rejects.toThrow('shutdown');
  });

  it('resolves a zero sleep', async () => {
    await expect(systemClock.sleep(0)).resolves.toBeUndefined();
  });
});

describe('createManualClock', () => {
  it('starts where told and moves only on advance', async () => {
    const clock = createManualClock({ start: 1000 });
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('wakes sleepers in deadline order, at their deadline', async () => {
    const clock = createManualClock();
    const woke: string[] = [];
    const track = (name: string, ms: number) =>
      clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`));
    void track('late', 300);
    void track('early', 100);
    void track('tie', 100);
    await clock.advance(99);
    expect(woke).toEqual([]);
    expect(clock.pendingSleeps()).toBe(3);
    await clock.advance(500);
    expect(woke).toEqual(['early@100', 'tie@100', 'late@300']);
    expect(clock.pendingSleeps()).toBe(0);
    expect(clock.now()).toBe(599);
  });

  it('wakes sleeps started during an advance when they fall due within it', async () => {
    const clock = createManualClock();
    const times: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i += 1) {
        await clock.sleep(100);
        times.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(1000);
    await done;
    expect(times).toEqual([100, 200, 300]);
  });

  it('rejects an aborted sleep with the reason and forgets it', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    controller.abort(new Error('bye'));
    await expect(sleeping).rejects.toThrow('bye');
    expect(clock.pendingSleeps()).toBe(0);
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(clock.sleep(5, aborted)).rejects.toThrow('already');
  });
});
