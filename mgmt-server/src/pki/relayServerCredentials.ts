import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';

/** What the server's TLS endpoint presents and trusts. The key is secret: never log it. */
export interface ServerTlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  /** CAs client certificates may come from (the relay CA bundle). */
  readonly caBundlePem: string;
}

// TLS 1.3 only (design.md "Mutual TLS"). It must be in the constructor options (the first secure
// context) and in every context swapped in later, which is why this is not grpc-js's
// experimental certificate-provider credentials: those build the context from cert, key and CA
// only, with no way to set the protocol version.
const TLS_VERSION = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
/**
 * A TCP connection that has not finished its TLS handshake in this long is closed (Node's default
 * is 120 s, so idle sockets could hold file descriptors for minutes). One that finished it but
 * never speaks HTTP/2 is closed by the first keepalive ping it does not answer (grpcServer.ts).
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 5_000;

function contextOf(material: ServerTlsMaterial): SecureContextOptions {
  return { ...TLS_VERSION, cert: material.certPem, key: material.keyPem, ca: material.caBundlePem };
}

/**
 * grpc-js server credentials whose certificate and trusted CAs can be replaced while the server
 * runs. grpc-js watches credentials and calls `setSecureContext` on its HTTP/2 server: new
 * handshakes use the new context, established connections (and their streams) are untouched.
 *
 * A client certificate is requested but not required at the TLS layer: Bootstrap is served to
 * agents that have none yet. Every other call is authorised from the verified peer certificate
 * (auth/certificateAuthenticator.ts), so "no certificate" is refused there with UNAUTHENTICATED.
 */
export class RelayServerCredentials extends ServerCredentials {
  constructor(initial: ServerTlsMaterial) {
    super(
      {
        ...TLS_VERSION,
        requestCert: true,
        rejectUnauthorized: false,
        handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      },
      contextOf(initial),
    );
  }

  /** Swaps the certificate and trust bundle for new connections. */
  update(material: ServerTlsMaterial): void {
    this.updateSecureContextOptions(contextOf(material));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
