import type { CaFacts, CertificateFacts } from './certificateFacts.js';

/** Why a certificate must be renewed now. */
export const RenewalReason = {
  /** `fraction` of its lifetime has passed (or it has expired). */
  Lifetime: 'Lifetime',
  /**
   * The CA that signs now (the first in the trust bundle, docs/design.md "Mutual TLS") did not
   * issue it: a CA rotation switched, or its issuer is no longer trusted at all.
   */
  IssuerNotSigning: 'IssuerNotSigning',
} as const;
export type RenewalReason = (typeof RenewalReason)[keyof typeof RenewalReason];

export type RenewalDecision =
  | { readonly due: true; readonly reason: RenewalReason }
  | {
      readonly due: false /** When it becomes due by lifetime, ms since the epoch. */;
      readonly atMs: number;
    };

export interface RenewalDueOptions {
  readonly cert: CertificateFacts;
  /** ms since the epoch. */
  readonly now: number;
  /** Share of the lifetime after which to renew, in (0, 1). docs/design.md default 0.66. */
  readonly fraction: number;
  /** The CAs of the current trust bundle, the signing CA first (the server's order). */
  readonly bundleIssuers: readonly CaFacts[];
}

/**
 * Whether the agent's client certificate must be renewed now (docs/design.md, "Renewal"). Pure:
 * the caller owns the clock and the bundle. An empty bundle is not a reason to renew: it means
 * the agent does not know the bundle, not that the server distrusts its issuer.
 *
 * Why the first CA and not "any CA of the bundle": during a rotation both CAs are trusted until
 * `finish`, which drops the old one; an agent that waited for its issuer to leave the bundle would
 * renew only once its certificate was already refused.
 */
export function renewalDue(options: RenewalDueOptions): RenewalDecision {
  const { cert, now, fraction, bundleIssuers } = options;
  const signing = bundleIssuers[0];
  if (signing !== undefined && !issuedBy(cert, signing)) {
    return { due: true, reason: RenewalReason.IssuerNotSigning };
  }
  const lifetime = Math.max(0, cert.notAfter - cert.notBefore);
  const atMs = cert.notBefore + Math.floor(lifetime * fraction);
  if (now >= atMs) return { due: true, reason: RenewalReason.Lifetime };
  return { due: false, atMs };
}

/**
 * True when `ca` is the issuer of `cert`: by key identifier when both carry one (two CAs of a
 * rotation may share a subject name), by distinguished name otherwise.
 */
export function issuedBy(cert: CertificateFacts, ca: CaFacts): boolean {
  if (cert.authorityKeyId !== undefined && ca.subjectKeyId !== undefined) {
    return cert.authorityKeyId === ca.subjectKeyId;
  }
  return cert.issuer === ca.subject;
}
