import {
  ErrorCode,
  err,
  hashAgentToken,
  isWellFormedAgentToken,
  ok,
  RelayError,
  type Result,
  tokenMatchesHash,
} from '@kuberelay/shared';
import type { Authenticator, AuthRequest, Identity } from './authenticator.js';
import type { TokenRecord } from './tokenSecrets.js';

export interface TokenAuthenticatorOptions {
  /**
   * The current token records. Must return the same array object until the records change (the
   * index is rebuilt only when it gets a new array).
   */
  readonly records: () => readonly TokenRecord[];
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Maps `authorization: Bearer krt_...` to a cluster through the token Secrets' SHA-256 hashes.
 *
 * Malformed tokens are refused before any lookup. The lookup indexes stored hashes by value: the
 * key is the SHA-256 of a 256-bit random token, which an attacker cannot steer, so a Map lookup
 * leaks nothing useful; the final comparison is still the constant-time `tokenMatchesHash`. The
 * token itself never appears in an error or a log line.
 */
export class TokenAuthenticator implements Authenticator {
  readonly #records: () => readonly TokenRecord[];
  #indexed: readonly TokenRecord[] | undefined;
  #index = new Map<string, TokenRecord[]>();

  constructor(options: TokenAuthenticatorOptions) {
    this.#records = options.records;
  }

  authenticate(request: AuthRequest): Result<Identity> {
    const values = request.metadata.authorization ?? [];
    if (values.length === 0) {
      return refuse('no credentials: send "authorization: Bearer <token>"');
    }
    if (values.length > 1) {
      return refuse('more than one authorization header');
    }
    const token = BEARER.exec(values[0] ?? '')?.[1];
    if (token === undefined || !isWellFormedAgentToken(token)) {
      return refuse('the authorization header does not hold a well-formed kuberelay token (Bearer krt_...)');
    }
    const clusters = this.#lookup(token);
    if (clusters.length === 0) {
      return refuse('unknown token (never issued, or rotated by relayctl register)');
    }
    if (clusters.length > 1) {
      // Only possible if someone copied one hash into two Secrets: refuse rather than guess.
      return refuse(`the token is registered for several clusters (${clusters.join(', ')})`);
    }
    return ok({ cluster: clusters[0] ?? '' });
  }

  #lookup(token: string): string[] {
    const records = this.#records();
    if (records !== this.#indexed) {
      const index = new Map<string, TokenRecord[]>();
      for (const record of records) {
        const list = index.get(record.sha256) ?? [];
        list.push(record);
        index.set(record.sha256, list);
      }
      this.#index = index;
      this.#indexed = records;
    }
    const candidates = this.#index.get(hashAgentToken(token)) ?? [];
    return candidates.filter((record) => tokenMatchesHash(token, record.sha256)).map((r) => r.cluster);
  }
}

function refuse(message: string): Result<Identity> {
  return err(new RelayError({ code: ErrorCode.Unauthenticated, message }));
}
