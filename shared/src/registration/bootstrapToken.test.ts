import { describe, expect, it } from 'vitest';
import {
  checkBootstrapToken,
  generateBootstrapToken,
  hashBootstrapToken,
  isWellFormedBootstrapToken,
  MAX_BOOTSTRAP_TOKEN_TTL_MS,
  parseTokenTtl,
} from './bootstrapToken.js';

const token = generateBootstrapToken();
const record = { cluster: 'qa', sha256: hashBootstrapToken(token), expiresAt: 1_000, clusterUid: 'u' };

describe('bootstrap tokens', () => {
  it('are random and well formed', () => {
    expect(token).toMatch(/^krb_/);
    expect(isWellFormedBootstrapToken(token)).toBe(true);
    expect(generateBootstrapToken()).not.toBe(token);
  });

  it.each([
    { name: 'valid', t: token, r: record, now: 999, expected: { ok: true, record } },
    {
      name: 'expired',
      t: token,
      r: record,
      now: 1_000,
      expected: { ok: false, problem: 'expired', expiresAt: 1_000 },
    },
    // A used token's record is deleted: reuse looks like no record.
    { name: 'reused', t: token, r: undefined, now: 0, expected: { ok: false, problem: 'unknown' } },
    {
      name: 'another token',
      t: generateBootstrapToken(),
      r: record,
      now: 0,
      expected: { ok: false, problem: 'mismatch' },
    },
    { name: 'malformed', t: 'krb_short', r: record, now: 0, expected: { ok: false, problem: 'malformed' } },
    {
      name: 'agent token',
      t: `krt_${token.slice(4)}`,
      r: record,
      now: 0,
      expected: { ok: false, problem: 'malformed' },
    },
  ])('checkBootstrapToken: $name', ({ t, r, now, expected }) => {
    expect(checkBootstrapToken({ token: t, record: r, now })).toEqual(expected);
  });

  it.each([
    ['24h', 86_400_000],
    ['30d', MAX_BOOTSTRAP_TOKEN_TTL_MS],
    ['90m', 5_400_000],
  ])('parses --token-ttl %s', (value, ms) => {
    expect(parseTokenTtl(value)).toEqual({ ok: true, ms });
  });

  it.each(['31d', '0h', '1w', '', '-1h'])('refuses --token-ttl %j', (value) => {
    expect(parseTokenTtl(value).ok).toBe(false);
  });
});
