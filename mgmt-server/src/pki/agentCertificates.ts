import {
  bootstrapRecordOf,
  bootstrapSecretName,
  type Clock,
  checkBootstrapToken,
  ErrorCode,
  err,
  isDnsLabel,
  KUBERNETES_CLUSTER,
  type Logger,
  ok,
  RelayError,
  type Result,
} from '@kuberelay/shared';
import { isConflict, isNotFound, type KubeRest } from '@kuberelay/shared/kube';
import {
  type CaSecret,
  clusterSpiffeId,
  clusterUidUri,
  InvalidCsrError,
  signCsr,
} from '@kuberelay/shared/pki';
import type { CaStore } from './caStore.js';

/** A certificate the server issued to an agent, and the CAs the agent must trust. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly caBundlePem: string;
}

export interface AgentCertificatesOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly caStore: CaStore;
  readonly validityMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Issues agent client certificates: the first one in exchange for a one-time bootstrap token
 * (Bootstrap RPC), later ones on renewal over an authenticated stream. The server alone chooses
 * subject and SANs (the cluster it verified); the CSR contributes only the public key.
 *
 * Errors are RelayErrors: `Unauthenticated` (token used, expired, revoked, wrong), `InvalidMessage`
 * (bad CSR or cluster name), `PermissionDenied` (cluster not registered), `Internal`. Messages
 * never contain the token.
 */
export class AgentCertificates {
  readonly #o: AgentCertificatesOptions;

  constructor(options: AgentCertificatesOptions) {
    this.#o = options;
  }

  bundlePem(): string {
    return this.#o.caStore.current().bundlePem;
  }

  async bootstrap(request: {
    readonly cluster: string;
    readonly token: string;
    readonly csrPem: string;
  }): Promise<Result<IssuedCertificate>> {
    const { cluster } = request;
    if (!isDnsLabel(cluster)) return fail(ErrorCode.InvalidMessage, 'the cluster name is not a DNS label');
    const again = `get a new one with: relayctl register ${cluster} --kubecontext <management cluster context>`;
    const secret = await this.#readBootstrapSecret(cluster);
    const check = checkBootstrapToken({
      token: request.token,
      record: secret === undefined ? undefined : bootstrapRecordOf(secret, cluster),
      now: this.#o.clock.now(),
    });
    if (!check.ok) {
      const reason = {
        malformed: 'is not a well-formed bootstrap token (krb_...)',
        unknown: 'was already used, revoked, or never issued (a bootstrap token works once)',
        mismatch:
          'is not the current token of this cluster (already used, or replaced by a newer registration)',
        expired: `expired at ${new Date(check.expiresAt ?? 0).toISOString()}`,
      }[check.problem];
      this.#o.logger.warn({ cluster, problem: check.problem }, 'bootstrap refused');
      return fail(
        ErrorCode.Unauthenticated,
        `the bootstrap token for cluster "${cluster}" ${reason}; ${again}`,
      );
    }
    const uid = await this.#registeredUid(cluster);
    if (uid === undefined || uid !== check.record.clusterUid) {
      return fail(
        ErrorCode.PermissionDenied,
        `cluster "${cluster}" is not registered, or was registered again after the token was issued; ${again}`,
      );
    }
    const signed = await this.#sign(cluster, uid, request.csrPem);
    if (!signed.ok) return signed;
    // One use: deleting with the uid and resourceVersion we checked makes a concurrent second
    // Bootstrap with the same token lose (404 or 409), whichever replica serves it.
    const used = await this.#consume(secret);
    if (!used) {
      return fail(
        ErrorCode.Unauthenticated,
        `the bootstrap token for cluster "${cluster}" was already used; ${again}`,
      );
    }
    this.#o.logger.info({ cluster }, 'agent bootstrapped: client certificate issued');
    return signed;
  }

  /** A fresh certificate for an agent authenticated as `cluster` with registration `uid`. */
  async renew(request: { readonly cluster: string; readonly uid: string; readonly csrPem: string }) {
    return this.#sign(request.cluster, request.uid, request.csrPem);
  }

  async #sign(cluster: string, uid: string, csrPem: string): Promise<Result<IssuedCertificate>> {
    const ca = this.#o.caStore.current();
    try {
      const certificatePem = await signCsr({
        ca: ca.signing,
        csrPem,
        commonName: cluster,
        usage: 'client',
        uris: [clusterSpiffeId(cluster), clusterUidUri(uid)],
        validityMs: this.#o.validityMs,
        now: this.#o.clock.now(),
      });
      return ok({ certificatePem, caBundlePem: ca.bundlePem });
    } catch (error) {
      if (error instanceof InvalidCsrError) return fail(ErrorCode.InvalidMessage, error.message);
      this.#o.logger.error({ err: error, cluster }, 'signing an agent certificate failed');
      return fail(ErrorCode.Internal, 'signing the certificate failed');
    }
  }

  async #readBootstrapSecret(cluster: string): Promise<CaSecret | undefined> {
    try {
      return await this.#o.rest.request<CaSecret>({
        method: 'GET',
        path: `/api/v1/namespaces/${this.#o.namespace}/secrets/${bootstrapSecretName(cluster)}`,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #registeredUid(cluster: string): Promise<string | undefined> {
    const { group, version, plural } = KUBERNETES_CLUSTER;
    try {
      const object = await this.#o.rest.request<{ metadata?: { uid?: string; deletionTimestamp?: string } }>({
        method: 'GET',
        path: `/apis/${group}/${version}/namespaces/${this.#o.namespace}/${plural}/${cluster}`,
      });
      return object.metadata?.deletionTimestamp ? undefined : object.metadata?.uid;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #consume(secret: CaSecret | undefined): Promise<boolean> {
    const name = secret?.metadata?.name;
    if (name === undefined) return false;
    try {
      await this.#o.rest.request({
        method: 'DELETE',
        path: `/api/v1/namespaces/${this.#o.namespace}/secrets/${name}`,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: secret?.metadata?.uid, resourceVersion: secret?.metadata?.resourceVersion },
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return false;
      throw error;
    }
  }
}

function fail(code: ErrorCode, message: string): Result<IssuedCertificate> {
  return err(new RelayError({ code, message }));
}
