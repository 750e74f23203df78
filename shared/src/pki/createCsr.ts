import { generateKeyPair, privateKeyToPem } from './keys.js';
import { ecdsaSha256, x509 } from './x509.js';

export interface CreateCsrOptions {
  /** Informational only: the signer chooses the certificate's subject and SANs itself. */
  readonly commonName: string;
}

export interface CreatedCsr {
  /** PKCS#10 request (`-----BEGIN CERTIFICATE REQUEST-----`), signed with the new key. */
  readonly csrPem: string;
  /** PKCS#8 private key. Secret: write it only to the credentials Secret, never log it. */
  readonly keyPem: string;
}

/**
 * Generates a new ECDSA P-256 key pair and a certificate signing request for it. The key never
 * leaves the caller; the request carries only the public key and a proof of possession.
 */
export async function createCsr(options: CreateCsrOptions): Promise<CreatedCsr> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [options.commonName] }],
    keys,
    signingAlgorithm: ecdsaSha256,
  });
  return { csrPem: csr.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}
