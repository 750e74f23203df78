import { ServerCredentials } from '@grpc/grpc-js';
import {
  BACKDATE_MS,
  type CertificateAndKey,
  clusterSpiffeId,
  clusterUidUri,
  createCa,
  issueCertificate,
  signCsr,
} from '@kuberelay/shared/pki';

// The PKI of the test RelayService: a relay CA per test, the server certificate, client
// certificates with lifetimes short enough to see renewal, and the TLS settings the server
// listens with. Apart from relayTestServer.ts because tests sign certificates without a server.

const TEST_CLUSTER_UID = '11111111-2222-3333-4444-555555555555';

/** The relay CA of a test, and the server certificate it signed (for 127.0.0.1). */
export interface TestPki {
  readonly ca: CertificateAndKey;
  readonly server: CertificateAndKey;
}

export async function createTestPki(): Promise<TestPki> {
  const now = Date.now();
  const ca = await createCa({ commonName: `relay-test-ca-${now}`, validityMs: 86_400_000, now });
  const server = await issueCertificate({
    ca,
    commonName: 'relay-test-server',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
    validityMs: 86_400_000,
    now,
  });
  return { ca, server };
}

/**
 * Signs a client certificate for `cluster` whose life starts now and lasts `lifetimeMs`. The shared
 * signer backdates every certificate by BACKDATE_MS; shifting `now` by as much makes a
 * seconds-long lifetime possible, so renewal at a fraction of it can be seen in a test.
 */
export async function signClientCsr(options: {
  readonly ca: CertificateAndKey;
  readonly csrPem: string;
  readonly cluster: string;
  readonly lifetimeMs: number;
}): Promise<string> {
  return signCsr({
    ca: options.ca,
    csrPem: options.csrPem,
    commonName: options.cluster,
    usage: 'client',
    uris: [clusterSpiffeId(options.cluster), clusterUidUri(TEST_CLUSTER_UID)],
    now: Date.now() + BACKDATE_MS,
    validityMs: options.lifetimeMs - BACKDATE_MS,
  });
}

/**
 * TLS 1.3 that asks for a client certificate but lets the handshake finish without one: Bootstrap
 * is served to agents that have none, and Connect checks the certificate itself (as the real
 * server does). `createSsl` cannot express either.
 */
export class RelayTestServerCredentials extends ServerCredentials {
  constructor(pki: TestPki) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
      { ca: pki.ca.certPem, cert: pki.server.certPem, key: pki.server.keyPem },
    );
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
