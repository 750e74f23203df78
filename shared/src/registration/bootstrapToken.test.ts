import { describe, expect, it } from 'vitest';
import { bootstrapRecordOf, issueBootstrapToken } from './bootstrapSecret.js';
import {
  checkBootstrapToken,
  generateBootstrapToken,
  hashBootstrapToken,
  isWellFormedBootstrapToken,
  MAX_BOOTSTRAP_TOKEN_TTL_MS,
  parseTokenTtl,
  redactToken,
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

describe('issueBootstrapToken', () => {
  const base = {
    cluster: 'qa',
    namespace: 'gloo-mesh',
    clusterUid: 'uid-1',
    issuedAt: new Date('2026-01-01T00:00:00Z'),
  };

  it('returns the token once and a Secret that holds only its hash, the expiry and the cluster uid', () => {
    const { token, expiresAt, secret } = issueBootstrapToken({ ...base, ttlMs: 3_600_000 });
    expect(isWellFormedBootstrapToken(token)).toBe(true);
    expect(expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(JSON.stringify(secret)).not.toContain(token);
    expect(bootstrapRecordOf(secret, 'qa')).toEqual({
      cluster: 'qa',
      sha256: hashBootstrapToken(token),
      expiresAt: expiresAt.getTime(),
      clusterUid: 'uid-1',
    });
  });

  it.each([0, -1, 31 * 24 * 3_600_000])('refuses a lifetime of %s ms', (ttlMs) => {
    expect(() => issueBootstrapToken({ ...base, ttlMs })).toThrow(
      expect.objectContaining({ code: 'InvalidConfig' }),
    );
  });
});

describe('redactToken', () => {
  it('keeps only a short prefix', () => {
    const t = generateBootstrapToken();
    expect(redactToken(t)).toBe(`${t.slice(0, 8)}…(redacted)`);
    expect(redactToken(t)).not.toContain(t.slice(8, 20));
    expect(redactToken('short')).toBe('(redacted)');
  });
});
