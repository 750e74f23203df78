import {
  createCa as createRelayStyleCa,
  generateKeyPair,
  issueCertificate,
  privateKeyToPem,
  publicKeyToPem,
} from '@kuberelay/shared/pki';

// The lab's certificates, made with the product's own PKI (shared/src/pki): one CA per cluster,
// the API server's serving certificate, admin and minted client identities, and the
// service-account signing key. Only the shape differs: the lab's files are {cert, key}.

/** A PEM key pair with its certificate. */
export interface Pem {
  readonly cert: string;
  readonly key: string;
}

const DAY_MS = 86_400_000;

/** A self-signed CA for one lab cluster. */
export async function createCa(commonName: string, days = 365): Promise<Pem> {
  const ca = await createRelayStyleCa({ commonName, validityMs: days * DAY_MS, now: Date.now() });
  return { cert: ca.certPem, key: ca.keyPem };
}

export interface IssueOptions {
  readonly ca: Pem;
  /** Kubernetes reads the user name from CN and the groups from O. */
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly usage: 'server' | 'client';
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
  readonly days?: number;
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCert(options: IssueOptions): Promise<Pem> {
  const { ca, days, ...rest } = options;
  const issued = await issueCertificate({
    ...rest,
    ca: { certPem: ca.cert, keyPem: ca.key },
    validityMs: (days ?? 365) * DAY_MS,
    now: Date.now(),
  });
  return { cert: issued.certPem, key: issued.keyPem };
}

/** A key pair for the API server's service-account token signing (ECDSA P-256, PEM). */
export async function createSigningKey(): Promise<{ publicKey: string; privateKey: string }> {
  const keys = await generateKeyPair();
  return {
    publicKey: await publicKeyToPem(keys.publicKey),
    privateKey: await privateKeyToPem(keys.privateKey),
  };
}
