import { X509Certificate } from 'node:crypto';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';
import type { CertificateUsage } from './issueCertificate.js';
import { splitPemBundle } from './pem.js';
import { x509 } from './x509.js';

/** What the relay reads from a certificate. */
export interface ParsedCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly isCa: boolean;
  /** Hex SubjectKeyIdentifier, when present. */
  readonly subjectKeyId: string | undefined;
  /** Hex AuthorityKeyIdentifier (the issuer's subjectKeyId), when present. */
  readonly authorityKeyId: string | undefined;
  /** Hex SHA-256 of the DER certificate. */
  readonly fingerprint256: string;
}

/** Parses one PEM (or DER) certificate; throws when it is not one. */
export function parseCertificate(certificate: string | Uint8Array): ParsedCertificate {
  const cert = new x509.X509Certificate(
    typeof certificate === 'string' ? certificate : new Uint8Array(certificate),
  );
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const node = new X509Certificate(Buffer.from(cert.rawData));
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    uris: of('url'),
    isCa: basic?.ca ?? false,
    subjectKeyId: cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    authorityKeyId: cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId,
    fingerprint256: node.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

const EKU_OID: Readonly<Record<CertificateUsage, string>> = {
  server: '1.3.6.1.5.5.7.3.1',
  client: '1.3.6.1.5.5.7.3.2',
};

/** A verified certificate, and the window in which that verification holds. */
export interface VerifiedCertificate extends ParsedCertificate {
  /** Epoch ms from which both the leaf and its issuing CA are valid. */
  readonly trustedFromMs: number;
  /** Epoch ms until which both are (after it, verify again: the answer will be a refusal). */
  readonly trustedUntilMs: number;
}

export interface VerifyCertificateOptions {
  /** The leaf certificate, PEM or DER (e.g. `PeerCertificate.raw`). */
  readonly certificate: string | Uint8Array;
  /** The trusted CAs. The leaf must be signed directly by one of them. */
  readonly bundlePem: string;
  readonly usage: CertificateUsage;
  /** Epoch milliseconds "now" (injectable clock). */
  readonly now: number;
}

/**
 * Verifies a leaf certificate the way the relay needs, independent of what the TLS stack already
 * checked: signed by a CA of the bundle that is itself valid now, valid now, not a CA, and with
 * the extended key usage for `usage`. Every failure is `Unauthenticated` with a message that says
 * which check failed (never the certificate itself).
 */
export function verifyCertificate(options: VerifyCertificateOptions): Result<VerifiedCertificate> {
  let leaf: X509Certificate;
  let parsed: ParsedCertificate;
  try {
    leaf = new X509Certificate(
      typeof options.certificate === 'string' ? options.certificate : Buffer.from(options.certificate),
    );
    parsed = parseCertificate(options.certificate);
  } catch (error) {
    return refuse('the certificate cannot be parsed', error);
  }
  if (parsed.isCa || leaf.ca) return refuse('the certificate is a CA certificate, not a leaf');
  const now = options.now;
  if (now < parsed.notBefore.getTime()) {
    return refuse(`the certificate is not valid before ${parsed.notBefore.toISOString()}`);
  }
  if (now > parsed.notAfter.getTime()) {
    return refuse(`the certificate expired at ${parsed.notAfter.toISOString()}`);
  }
  const ekus = leaf.keyUsage ?? [];
  if (!ekus.includes(EKU_OID[options.usage])) {
    return refuse(`the certificate is not for ${options.usage} authentication (extended key usage)`);
  }
  const issuers = splitPemBundle(options.bundlePem).flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  for (const ca of issuers) {
    if (!ca.ca || !leaf.checkIssued(ca)) continue;
    if (!leaf.verify(ca.publicKey)) continue;
    if (now < Date.parse(ca.validFrom) || now > Date.parse(ca.validTo)) {
      return refuse(`the issuing CA "${ca.subject}" is not valid now (valid to ${ca.validTo})`);
    }
    return ok({
      ...parsed,
      trustedFromMs: Math.max(parsed.notBefore.getTime(), Date.parse(ca.validFrom)),
      trustedUntilMs: Math.min(parsed.notAfter.getTime(), Date.parse(ca.validTo)),
    });
  }
  return refuse('the certificate is not signed by a trusted relay CA');
}

function refuse(message: string, cause?: unknown): Result<VerifiedCertificate> {
  return err(new RelayError({ code: ErrorCode.Unauthenticated, message, cause }));
}
