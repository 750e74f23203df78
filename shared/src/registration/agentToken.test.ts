import { describe, expect, it } from 'vitest';
import {
  generateAgentToken,
  hashAgentToken,
  isWellFormedAgentToken,
  redactToken,
  tokenMatchesHash,
} from './agentToken.js';

describe('agent tokens', () => {
  it('are random, well formed, and match only their own hash', () => {
    const a = generateAgentToken();
    const b = generateAgentToken();
    expect(a).not.toBe(b);
    expect(isWellFormedAgentToken(a)).toBe(true);
    expect(hashAgentToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatchesHash(a, hashAgentToken(a))).toBe(true);
    expect(tokenMatchesHash(b, hashAgentToken(a))).toBe(false);
  });

  it.each(['', 'krt_', 'krt_short', `xyz_${'a'.repeat(43)}`, `krt_${'a'.repeat(42)}!`])(
    'rejects malformed %j',
    (t) => {
      expect(isWellFormedAgentToken(t)).toBe(false);
    },
  );

  it('never matches a malformed stored hash', () => {
    expect(tokenMatchesHash(generateAgentToken(), 'not-hex')).toBe(false);
  });

  it('redacts all but a short prefix', () => {
    const t = generateAgentToken();
    expect(redactToken(t)).toBe(`${t.slice(0, 8)}…(redacted)`);
    expect(redactToken(t)).not.toContain(t.slice(8, 20));
  });
});
