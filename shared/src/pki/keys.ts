import { createPrivateKey } from 'node:crypto';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { type CryptoKey, type CryptoKeyPair, ecdsaP256, subtle, x509 } from './x509.js';

/** A fresh ECDSA P-256 key pair; extractable so the private key can be written as PEM. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(ecdsaP256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
export async function publicKeyToPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form Node's TLS and Kubernetes TLS Secrets take. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A signing key and the algorithm a signature with it uses. */
export interface SigningKey {
  readonly key: CryptoKey;
  readonly algorithm: { readonly name: string; readonly hash: string };
}

/**
 * Imports a CA's private key (PKCS#8, SEC1 or PKCS#1 PEM; ECDSA P-256/P-384 or RSA). Our own CA is
 * always P-256, but a CA the user brings (e.g. from cert-manager) may be any of these.
 */
export async function importSigningKey(keyPem: string): Promise<SigningKey> {
  const keyObject = createPrivateKey(keyPem);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (namedCurve === undefined) {
      throw unsupportedKey(`an EC key on curve ${curve ?? '(unknown)'} (P-256 and P-384 are supported)`);
    }
    const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash } };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw unsupportedKey(
    `a key of type ${keyObject.asymmetricKeyType ?? '(unknown)'} (EC and RSA are supported)`,
  );
}

/** A CA key the relay cannot sign with (brought by the user): a configuration error, with a code. */
function unsupportedKey(what: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidConfig, message: `the CA private key is ${what}` });
}
