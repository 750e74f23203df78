import { describe, expect, it } from 'vitest';
import { createConnectionLimiter } from './connectionLimiter.js';
import { LimitCode } from './limitRefusal.js';

describe('createConnectionLimiter', () => {
  it.each([
    { name: 'per address', options: { maxPerAddress: 2, maxTotal: 0 }, want: [true, true, false, true] },
    { name: 'in all', options: { maxPerAddress: 0, maxTotal: 3 }, want: [true, true, true, false] },
    { name: '0 disables both', options: { maxPerAddress: 0, maxTotal: 0 }, want: [true, true, true, true] },
  ])('limits connections $name', ({ options, want }) => {
    const limiter = createConnectionLimiter(options);
    // Three from one address, then one from another.
    const got = ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2'].map((a) => limiter.admit(a).ok);
    expect(got).toEqual(want);
  });

  it('says which limit refused', () => {
    const perAddress = createConnectionLimiter({ maxPerAddress: 1 });
    perAddress.admit('10.0.0.1');
    expect(perAddress.admit('10.0.0.1')).toMatchObject({
      ok: false,
      refusal: {
        code: LimitCode.TooManyConnectionsFromAddress,
        message: expect.stringContaining('10.0.0.1'),
      },
    });
    const total = createConnectionLimiter({ maxTotal: 1 });
    total.admit('10.0.0.1');
    expect(total.admit('10.0.0.2')).toMatchObject({
      ok: false,
      refusal: { code: LimitCode.TooManyConnections, message: expect.stringContaining('--max-connections') },
    });
  });

  it('frees a slot on release, once, and forgets an address with no connection', () => {
    const limiter = createConnectionLimiter({ maxPerAddress: 1, maxTotal: 2 });
    const first = limiter.admit('10.0.0.1');
    if (!first.ok) throw new Error('refused');
    limiter.admit('10.0.0.2');
    expect(limiter.open()).toBe(2);
    first.lease.release();
    first.lease.release();
    expect(limiter.open()).toBe(1);
    expect(limiter.open('10.0.0.1')).toBe(0);
    expect(limiter.admit('10.0.0.1').ok).toBe(true);
    expect(limiter.admit('10.0.0.3').ok).toBe(false);
  });

  it('defaults leave room for a fleet behind one NAT address', () => {
    const limiter = createConnectionLimiter();
    const got = Array.from({ length: 257 }, () => limiter.admit('10.0.0.1').ok);
    expect(got.filter(Boolean)).toHaveLength(256);
  });
});
