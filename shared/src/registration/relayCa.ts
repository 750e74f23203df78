import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';
import type { CertificateAndKey } from '../pki/issueCertificate.js';
import { joinPemBundle, splitPemBundle } from '../pki/pem.js';
import { parseCertificate } from '../pki/verifyCertificate.js';
import { RELAY_CA_SECRET, RelayCaKey } from './names.js';

/**
 * The relay CA as the server uses it (docs/design.md "Mutual TLS"): the CA that signs now, every
 * CA trusted (the bundle), and, between `relayctl rotate-ca begin` and `switch`, the next CA.
 * Invariant: `bundlePem` always contains `signing.certPem` (and `next.certPem` when present).
 */
export interface RelayCa {
  readonly signing: CertificateAndKey;
  readonly bundlePem: string;
  readonly next: CertificateAndKey | undefined;
  /** SHA-256 of the signing certificate: when it changes, the server re-issues its own. */
  readonly signingFingerprint: string;
}

/** The fields of a core/v1 Secret the CA store reads and writes. */
export interface CaSecret {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly type?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly data?: Readonly<Record<string, string>>;
}

const decode = (secret: CaSecret, key: string): string | undefined => {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/**
 * Reads the CA Secret. A bring-your-own CA may have no `ca-bundle.crt` (cert-manager writes
 * `tls.crt`, `tls.key` and `ca.crt`): the bundle is then the signing CA alone. The signing and
 * next CAs are always added to the bundle, so a hand-edited bundle cannot lock agents out of the
 * CA that signs their certificates.
 */
export function relayCaOf(secret: CaSecret): Result<RelayCa> {
  const certPem = decode(secret, RelayCaKey.cert);
  const keyPem = decode(secret, RelayCaKey.key);
  if (certPem === undefined || keyPem === undefined) {
    return invalid(`Secret ${RELAY_CA_SECRET} has no ${RelayCaKey.cert} or no ${RelayCaKey.key}`);
  }
  const nextCert = decode(secret, RelayCaKey.nextCert);
  const nextKey = decode(secret, RelayCaKey.nextKey);
  const next =
    nextCert !== undefined && nextKey !== undefined ? { certPem: nextCert, keyPem: nextKey } : undefined;
  let fingerprint: string;
  try {
    const parsed = parseCertificate(certPem);
    if (!parsed.isCa) return invalid(`${RELAY_CA_SECRET} ${RelayCaKey.cert} is not a CA certificate`);
    fingerprint = parsed.fingerprint256;
  } catch (error) {
    return invalid(`${RELAY_CA_SECRET} ${RelayCaKey.cert} is not a PEM certificate`, error);
  }
  const bundle = decode(secret, RelayCaKey.bundle) ?? '';
  return ok({
    signing: { certPem: splitPemBundle(certPem)[0] ?? certPem, keyPem },
    bundlePem: joinPemBundle([certPem, ...(next ? [next.certPem] : []), bundle]),
    next,
    signingFingerprint: fingerprint,
  });
}

/** The Secret for a new CA: the CA signs and is the whole bundle. */
export function newCaSecret(options: {
  readonly namespace: string;
  readonly ca: CertificateAndKey;
  readonly createdAt: string;
}): CaSecret {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: RELAY_CA_SECRET,
      namespace: options.namespace,
      labels: { 'app.kubernetes.io/part-of': 'kuberelay' },
      annotations: {
        'kuberelay.dev/created-by': 'kuberelay-mgmt-server',
        'kuberelay.dev/created-at': options.createdAt,
      },
    },
    data: {
      [RelayCaKey.cert]: b64(options.ca.certPem),
      [RelayCaKey.key]: b64(options.ca.keyPem),
      [RelayCaKey.bundle]: b64(options.ca.certPem),
    },
  };
}

function invalid(message: string, cause?: unknown): Result<RelayCa> {
  return err(new RelayError({ code: ErrorCode.InvalidConfig, message, cause }));
}
