import { randomBytes } from 'node:crypto';
import { generateKeyPair, importSigningKey, privateKeyToPem } from './keys.js';
import { type CryptoKey, ecdsaSha256, x509 } from './x509.js';

/** A certificate with its private key, both PEM. The key is secret: never log it. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a certificate is for: the extended key usage it gets. */
export const CertificateUsage = { server: 'server', client: 'client' } as const;
export type CertificateUsage = (typeof CertificateUsage)[keyof typeof CertificateUsage];

/**
 * Certificates start a little in the past so a peer whose clock is slightly behind accepts a fresh
 * one (agents renew ahead of expiry, so the lost minutes never matter).
 */
export const BACKDATE_MS = 5 * 60_000;

export interface CreateCaOptions {
  readonly commonName: string;
  readonly validityMs: number;
  /** Epoch milliseconds "now" (injectable clock). */
  readonly now: number;
}

/** A new self-signed ECDSA P-256 CA that may sign leaf certificates only (path length 0). */
export async function createCa(options: CreateCaOptions): Promise<CertificateAndKey> {
  const keys = await generateKeyPair();
  const notBefore = new Date(options.now - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [options.commonName] }],
    keys,
    signingAlgorithm: ecdsaSha256,
    notBefore,
    notAfter: new Date(options.now + options.validityMs),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}

export interface IssueCertificateOptions {
  /** The signing CA (its certificate and private key). */
  readonly ca: CertificateAndKey;
  readonly commonName: string;
  /** Subject O= entries (Kubernetes reads a client certificate's groups from them). */
  readonly organizations?: readonly string[];
  readonly usage: CertificateUsage;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
  readonly validityMs: number;
  readonly now: number;
}

/** Issues a certificate for a new key pair (the server's own certificate). */
export async function issueCertificate(options: IssueCertificateOptions): Promise<CertificateAndKey> {
  const keys = await generateKeyPair();
  const certPem = await signPublicKey({ ...options, publicKey: keys.publicKey });
  return { certPem, keyPem: await privateKeyToPem(keys.privateKey) };
}

export interface SignCsrOptions extends IssueCertificateOptions {
  readonly csrPem: string;
}

/** The CSR could not be parsed or its signature (proof of key possession) is wrong. */
export class InvalidCsrError extends Error {
  override readonly name = 'InvalidCsrError';
}

/**
 * Signs the public key of a PKCS#10 request. Only the key is taken from the request: subject,
 * SANs, usage and lifetime are the signer's (options), whatever the request asks for, so an agent
 * cannot obtain another cluster's identity by asking for it.
 */
export async function signCsr(options: SignCsrOptions): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(options.csrPem);
  } catch (error) {
    throw new InvalidCsrError('the CSR is not a PEM PKCS#10 certificate request', { cause: error });
  }
  if (!(await csr.verify().catch(() => false))) {
    throw new InvalidCsrError('the CSR signature does not verify (proof of key possession failed)');
  }
  return signPublicKey({ ...options, publicKey: csr.publicKey });
}

async function signPublicKey(
  options: IssueCertificateOptions & { readonly publicKey: CryptoKey | x509.PublicKey },
): Promise<string> {
  const caCert = new x509.X509Certificate(options.ca.certPem);
  const signing = await importSigningKey(options.ca.keyPem);
  const sans: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const eku =
    options.usage === CertificateUsage.server
      ? x509.ExtendedKeyUsage.serverAuth
      : x509.ExtendedKeyUsage.clientAuth;
  // A leaf never outlives its CA: a peer would refuse the chain after the CA expires anyway.
  const notAfter = Math.min(options.now + options.validityMs, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [
      {
        CN: [options.commonName],
        ...(options.organizations === undefined || options.organizations.length === 0
          ? {}
          : { O: [...options.organizations] }),
      },
    ],
    issuer: caCert.subject,
    publicKey: options.publicKey,
    signingKey: signing.key,
    signingAlgorithm: signing.algorithm,
    notBefore: new Date(options.now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([eku], false),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return cert.toString('pem');
}

/** 16 random bytes, top bit cleared so the DER integer stays positive (RFC 5280 §4.1.2.2). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
