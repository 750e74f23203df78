import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import {
  type BootstrapTokenRecord,
  generateBootstrapToken,
  hashBootstrapToken,
  MAX_BOOTSTRAP_TOKEN_TTL_MS,
} from './bootstrapToken.js';
import {
  BOOTSTRAP_SECRET_HASH_KEY,
  BOOTSTRAP_SECRET_TYPE,
  bootstrapSecretName,
  KUBERNETES_CLUSTER,
  RegistrationAnnotation,
  RegistrationLabel,
} from './names.js';
import type { CaSecret } from './relayCa.js';

/**
 * The bootstrap record of `cluster` in its Secret, or undefined when the Secret is not a
 * well-formed bootstrap Secret of that cluster (name, type, hash, expiry and uid must all be
 * there: a half-written Secret never grants a certificate).
 */
export function bootstrapRecordOf(secret: CaSecret, cluster: string): BootstrapTokenRecord | undefined {
  if (secret.type !== BOOTSTRAP_SECRET_TYPE || secret.metadata?.name !== bootstrapSecretName(cluster)) {
    return undefined;
  }
  const encoded = secret.data?.[BOOTSTRAP_SECRET_HASH_KEY];
  const sha256 =
    encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim().toLowerCase();
  const expiresAt = Date.parse(secret.metadata?.annotations?.[RegistrationAnnotation.expiresAt] ?? '');
  const clusterUid = secret.metadata?.annotations?.[RegistrationAnnotation.clusterUid] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256) || Number.isNaN(expiresAt) || clusterUid === '') return undefined;
  return { cluster, sha256, expiresAt, clusterUid };
}

/**
 * The bootstrap Secret for a new token (only its SHA-256 is stored). Owned by its
 * KubernetesCluster, so deleting the cluster object deletes a token that was never used.
 */
export function bootstrapSecretManifest(options: {
  readonly cluster: string;
  readonly namespace: string;
  readonly tokenHash: string;
  readonly clusterUid: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: BOOTSTRAP_SECRET_TYPE,
    metadata: {
      name: bootstrapSecretName(options.cluster),
      namespace: options.namespace,
      labels: { [RegistrationLabel.cluster]: options.cluster, 'app.kubernetes.io/managed-by': 'relayctl' },
      annotations: {
        [RegistrationAnnotation.issuedAt]: options.issuedAt.toISOString(),
        [RegistrationAnnotation.expiresAt]: options.expiresAt.toISOString(),
        [RegistrationAnnotation.clusterUid]: options.clusterUid,
      },
      ownerReferences: [
        {
          apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
          kind: KUBERNETES_CLUSTER.kind,
          name: options.cluster,
          uid: options.clusterUid,
        },
      ],
    },
    data: { [BOOTSTRAP_SECRET_HASH_KEY]: Buffer.from(options.tokenHash, 'utf8').toString('base64') },
  };
}

/** A new one-time bootstrap token and the Secret that records it (what both relayctl register
 * and the server's issueAgentBootstrap write). The token is returned once and stored only hashed. */
export function issueBootstrapToken(options: {
  readonly cluster: string;
  readonly namespace: string;
  readonly clusterUid: string;
  readonly issuedAt: Date;
  /** At most MAX_BOOTSTRAP_TOKEN_TTL_MS. */
  readonly ttlMs: number;
}): {
  readonly token: string;
  readonly expiresAt: Date;
  readonly secret: ReturnType<typeof bootstrapSecretManifest>;
} {
  if (!(options.ttlMs > 0 && options.ttlMs <= MAX_BOOTSTRAP_TOKEN_TTL_MS)) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: 'a bootstrap token lives more than 0 and at most 30 days',
      details: { ttlMs: String(options.ttlMs) },
    });
  }
  const token = generateBootstrapToken();
  const expiresAt = new Date(options.issuedAt.getTime() + options.ttlMs);
  const secret = bootstrapSecretManifest({
    cluster: options.cluster,
    namespace: options.namespace,
    tokenHash: hashBootstrapToken(token),
    clusterUid: options.clusterUid,
    issuedAt: options.issuedAt,
    expiresAt,
  });
  return { token, expiresAt, secret };
}
