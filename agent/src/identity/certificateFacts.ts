import { createPrivateKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { ErrorCode, err, ok, RelayError, type Result } from '@kuberelay/shared';
import { parseCertificate, splitPemBundle } from '@kuberelay/shared/pki';

/** What the agent needs to know of its client certificate. Plain data: renewalDue is pure. */
export interface CertificateFacts {
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Issuer distinguished name. */
  readonly issuer: string;
  /** Authority key identifier, hex, when the certificate has one. */
  readonly authorityKeyId?: string;
  readonly uris: readonly string[];
}

/** A CA of the trust bundle, as far as issuer matching needs it. */
export interface CaFacts {
  readonly subject: string;
  /** Subject key identifier, hex, when the CA has one. */
  readonly subjectKeyId?: string;
}

/**
 * Facts of the first (leaf) certificate of `pem`, as a Result whose error names `what` (e.g. "the
 * renewed certificate"). The parsing itself is shared's parseCertificate; this only narrows it to
 * what renewalDue needs and turns a throw into a value.
 */
export function certificateFactsOf(pem: string, what: string): Result<CertificateFacts> {
  const first = splitPemBundle(pem)[0];
  if (first === undefined) return err(invalid(`${what} holds no PEM certificate`));
  try {
    const cert = parseCertificate(first);
    return ok({
      notBefore: cert.notBefore.getTime(),
      notAfter: cert.notAfter.getTime(),
      issuer: cert.issuer,
      ...(cert.authorityKeyId === undefined ? {} : { authorityKeyId: cert.authorityKeyId.toLowerCase() }),
      uris: cert.uris,
    });
  } catch (error) {
    return err(invalid(`${what} is not a valid certificate: ${messageOf(error)}`, error));
  }
}

/** Facts of every CA in a bundle; a bundle with no valid certificate is an error. */
export function parseBundle(pem: string, what: string): Result<CaFacts[]> {
  const blocks = splitPemBundle(pem);
  if (blocks.length === 0) return err(invalid(`${what} holds no PEM certificate`));
  const cas: CaFacts[] = [];
  for (const block of blocks) {
    try {
      const cert = parseCertificate(block);
      cas.push({
        subject: cert.subject,
        ...(cert.subjectKeyId === undefined ? {} : { subjectKeyId: cert.subjectKeyId.toLowerCase() }),
      });
    } catch (error) {
      return err(invalid(`${what} holds an invalid certificate: ${messageOf(error)}`, error));
    }
  }
  return ok(cas);
}

/**
 * True when `keyPem` is the private key of the leaf certificate of `certPem`. Errors say which
 * side is unreadable, never anything of the key itself.
 */
export function keyMatchesCertificate(options: {
  readonly certPem: string;
  readonly keyPem: string;
}): boolean {
  const leaf = splitPemBundle(options.certPem)[0];
  if (leaf === undefined) return false;
  try {
    return new NodeX509Certificate(leaf).checkPrivateKey(createPrivateKey(options.keyPem));
  } catch {
    return false;
  }
}

function invalid(message: string, cause?: unknown): RelayError {
  return new RelayError({
    code: ErrorCode.InvalidConfig,
    message,
    ...(cause === undefined ? {} : { cause }),
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
