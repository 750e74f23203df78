import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of agent tokens, so a leaked one is recognisable (and greppable by secret scanners). */
export const AGENT_TOKEN_PREFIX = 'krt_';

/** A new agent token: 32 random bytes, base64url, prefixed. Shown once; only its hash is stored. */
export function generateAgentToken(): string {
  return AGENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a token: what the token Secret stores. */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented token with a stored hash in constant time. */
export function tokenMatchesHash(token: string, storedHexHash: string): boolean {
  const presented = Buffer.from(hashAgentToken(token), 'hex');
  const stored = Buffer.from(storedHexHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Well-formed: the prefix and 43 base64url characters. Checked before any lookup. */
export function isWellFormedAgentToken(token: string): boolean {
  return /^krt_[A-Za-z0-9_-]{43}$/.test(token);
}

/** For logs and CLI output: never the token, only enough to tell two apart. */
export function redactToken(token: string): string {
  return token.length > 8 ? `${token.slice(0, 8)}…(redacted)` : '(redacted)';
}
