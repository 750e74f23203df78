import { type Clock, ErrorCode, err, ok, RelayError, type Result } from '@kuberelay/shared';
import { parseClusterIdentity, type VerifiedCertificate, verifyCertificate } from '@kuberelay/shared/pki';
import type { Authenticator, AuthRequest, Identity } from './authenticator.js';

export interface CertificateAuthenticatorOptions {
  /** The relay CA bundle in force (changes during a CA rotation). */
  readonly bundlePem: () => string;
  /** The uid of the registered KubernetesCluster `cluster`, undefined when not registered. */
  readonly clusterUid: (cluster: string) => string | undefined;
  readonly clock: Clock;
  /** The verification itself (tests count its calls); default verifyCertificate. */
  readonly verify?: typeof verifyCertificate;
}

/**
 * Maps a verified client certificate to its cluster (docs/design.md "Mutual TLS"). The cluster is
 * read from the certificate's URI SANs, which only the relay CA chose, never from what the agent
 * says. `Unauthenticated` for no or an unverifiable certificate; `PermissionDenied` when the
 * cluster is not registered, or registered again since the certificate was issued (other uid).
 *
 * Runs on every heartbeat too: an expired certificate, a CA dropped from the bundle, or a
 * re-registration ends streams that are already open. The parse and signature check are done once
 * per certificate and bundle (a stream presents the same bytes at every heartbeat; at 1,000 agents
 * re-verifying was ~12 % of the server's CPU, issue 10); the clock and the registration are
 * checked every time.
 */
export class CertificateAuthenticator implements Authenticator {
  readonly #o: CertificateAuthenticatorOptions;
  /** Keyed by the certificate's bytes object, so an entry goes with the stream that holds it. */
  readonly #verified = new WeakMap<
    Uint8Array,
    { readonly bundlePem: string; readonly value: VerifiedCertificate }
  >();

  constructor(options: CertificateAuthenticatorOptions) {
    this.#o = options;
  }

  authenticate(request: AuthRequest): Result<Identity> {
    if (request.peerCertificate === undefined || request.peerCertificate.length === 0) {
      return refuse(
        ErrorCode.Unauthenticated,
        'no client certificate, or one the TLS layer could not verify against the relay CA bundle ' +
          '(expired, or from another CA); an agent without a certificate must Bootstrap first',
      );
    }
    const verified = this.#verify(request.peerCertificate);
    if (!verified.ok)
      return refuse(ErrorCode.Unauthenticated, `client certificate refused: ${verified.errors[0].message}`);
    const identity = parseClusterIdentity(verified.value.uris);
    if (identity === undefined) {
      return refuse(
        ErrorCode.Unauthenticated,
        'the client certificate carries no kuberelay cluster identity',
      );
    }
    const uid = this.#o.clusterUid(identity.cluster);
    if (uid === undefined) {
      return refuse(ErrorCode.PermissionDenied, `cluster "${identity.cluster}" is not registered`);
    }
    if (uid !== identity.uid) {
      return refuse(
        ErrorCode.PermissionDenied,
        `the certificate was issued to an earlier registration of cluster "${identity.cluster}"; ` +
          'the agent needs a new bootstrap token (relayctl register)',
      );
    }
    return ok({ cluster: identity.cluster, uid });
  }

  #verify(certificate: Uint8Array): Result<VerifiedCertificate> {
    const bundlePem = this.#o.bundlePem();
    const now = this.#o.clock.now();
    const cached = this.#verified.get(certificate);
    if (
      cached !== undefined &&
      cached.bundlePem === bundlePem &&
      now >= cached.value.trustedFromMs &&
      now <= cached.value.trustedUntilMs
    ) {
      return ok(cached.value);
    }
    const verified = (this.#o.verify ?? verifyCertificate)({ certificate, bundlePem, usage: 'client', now });
    if (verified.ok) this.#verified.set(certificate, { bundlePem, value: verified.value });
    else this.#verified.delete(certificate);
    return verified;
  }
}

function refuse(code: ErrorCode, message: string): Result<Identity> {
  return err(new RelayError({ code, message }));
}
