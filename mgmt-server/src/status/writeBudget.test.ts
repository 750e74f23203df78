import { describe, expect, it } from 'vitest';
import { WriteBudget } from './writeBudget.js';

describe('WriteBudget', () => {
  it.each([
    { name: 'no budget never waits', perSecond: 0, burst: undefined, at: [0, 0, 0], waits: [0, 0, 0] },
    {
      name: 'a burst at once, then one per slot',
      perSecond: 10,
      burst: 3,
      at: [0, 0, 0, 0, 0],
      waits: [0, 0, 0, 100, 200],
    },
    {
      name: 'slots free again as time passes',
      perSecond: 10,
      burst: 1,
      at: [0, 0, 250, 250],
      waits: [0, 100, 0, 100],
    },
    {
      name: 'the default burst is one second of writes',
      perSecond: 2,
      burst: undefined,
      at: [0, 0, 0],
      waits: [0, 0, 500],
    },
  ])('$name', ({ perSecond, burst, at, waits }) => {
    const budget = new WriteBudget({ perSecond, ...(burst === undefined ? {} : { burst }) });
    expect(at.map((now) => budget.reserve(now))).toEqual(waits);
  });

  it('keeps 1,000 simultaneous writes within the rate', () => {
    const budget = new WriteBudget({ perSecond: 200 });
    const waits = Array.from({ length: 1_000 }, () => budget.reserve(0));
    // 200 at once (the burst), then 5 ms apart: the last one 4 s later.
    expect(waits.filter((w) => w === 0)).toHaveLength(200);
    expect(Math.max(...waits)).toBeCloseTo(4_000, 6);
  });
});
