import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * One-time bootstrap tokens (docs/design.md "Mutual TLS", Bootstrap): an agent trades one, once,
 * for its first client certificate. Only the SHA-256 is stored (Secret
 * `kuberelay-bootstrap-<cluster>`); the prefix makes a leaked token recognisable to scanners.
 */
export const BOOTSTRAP_TOKEN_PREFIX = 'krb_';

const HOUR_MS = 3_600_000;
/** Default lifetime of a bootstrap token (`relayctl register --token-ttl`). */
export const DEFAULT_BOOTSTRAP_TOKEN_TTL_MS = 24 * HOUR_MS;
/** Longest allowed lifetime: a forgotten token must not stay usable for long. */
export const MAX_BOOTSTRAP_TOKEN_TTL_MS = 30 * 24 * HOUR_MS;

/** A new token: 32 random bytes, base64url, prefixed. Shown once; only its hash is stored. */
export function generateBootstrapToken(): string {
  return BOOTSTRAP_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a token: what the bootstrap Secret stores. */
export function hashBootstrapToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Well-formed: the prefix and 43 base64url characters. Checked before any lookup. */
export function isWellFormedBootstrapToken(token: string): boolean {
  return /^krb_[A-Za-z0-9_-]{43}$/.test(token);
}

/** What the bootstrap Secret says about a token. */
export interface BootstrapTokenRecord {
  readonly cluster: string;
  /** Lower-case hex SHA-256 of the token. */
  readonly sha256: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The KubernetesCluster uid the token was issued for. */
  readonly clusterUid: string;
}

export const BootstrapTokenProblem = {
  malformed: 'malformed',
  /** No record: never issued, already used (records are deleted on use), or revoked. */
  unknown: 'unknown',
  mismatch: 'mismatch',
  expired: 'expired',
} as const;
export type BootstrapTokenProblem = (typeof BootstrapTokenProblem)[keyof typeof BootstrapTokenProblem];

export type BootstrapTokenCheck =
  | { readonly ok: true; readonly record: BootstrapTokenRecord }
  | { readonly ok: false; readonly problem: BootstrapTokenProblem; readonly expiresAt?: number };

/**
 * Checks a presented token against its cluster's record at `now`. Pure: the caller fetched the
 * record (undefined when there is none) and deletes it once the token is used. Constant-time
 * comparison of the hashes; the token never appears in the result.
 */
export function checkBootstrapToken(options: {
  readonly token: string;
  readonly record: BootstrapTokenRecord | undefined;
  readonly now: number;
}): BootstrapTokenCheck {
  if (!isWellFormedBootstrapToken(options.token)) return { ok: false, problem: 'malformed' };
  const record = options.record;
  if (record === undefined) return { ok: false, problem: 'unknown' };
  const presented = Buffer.from(hashBootstrapToken(options.token), 'hex');
  const stored = Buffer.from(record.sha256, 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) {
    return { ok: false, problem: 'mismatch' };
  }
  if (options.now >= record.expiresAt) return { ok: false, problem: 'expired', expiresAt: record.expiresAt };
  return { ok: true, record };
}

/** Parses a `--token-ttl` value such as `24h`, `90m`, `7d` (at most 30 d). */
export function parseTokenTtl(value: string): { ok: true; ms: number } | { ok: false; message: string } {
  const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (match === null) return { ok: false, message: `"${value}" is not a duration such as 30m, 24h or 7d` };
  const unit = { s: 1_000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) return { ok: false, message: 'the token lifetime must be positive' };
  if (ms > MAX_BOOTSTRAP_TOKEN_TTL_MS)
    return { ok: false, message: `"${value}" is longer than the maximum 30d` };
  return { ok: true, ms };
}

/** For logs and CLI output: never the token, only enough to tell two apart. */
export function redactToken(token: string): string {
  return token.length > 8 ? `${token.slice(0, 8)}…(redacted)` : '(redacted)';
}
