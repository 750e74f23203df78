import {
  RegistrationLabel,
  TOKEN_SECRET_HASH_KEY,
  TOKEN_SECRET_TYPE,
  tokenSecretName,
} from '@kuberelay/shared';

/** A token Secret as far as authentication cares: whose it is and the SHA-256 it stores. */
export interface TokenRecord {
  readonly cluster: string;
  /** Lower-case hex SHA-256 of the token. */
  readonly sha256: string;
}

/** The fields of a core/v1 Secret we read. */
export interface SecretLike {
  readonly type?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * The record of a token Secret, or undefined when the Secret is not a well-formed token Secret.
 * The label, the name and the type must agree (`kuberelay-token-<cluster>` labelled
 * `kuberelay.dev/cluster: <cluster>`): someone who may create Secrets with the right label only
 * still cannot mint a token for a cluster whose Secret name they do not control.
 */
export function tokenRecordOf(secret: SecretLike): TokenRecord | undefined {
  const cluster = secret.metadata?.labels?.[RegistrationLabel.cluster];
  if (
    secret.type !== TOKEN_SECRET_TYPE ||
    cluster === undefined ||
    secret.metadata?.name !== tokenSecretName(cluster)
  ) {
    return undefined;
  }
  const encoded = secret.data?.[TOKEN_SECRET_HASH_KEY];
  if (encoded === undefined) return undefined;
  const sha256 = Buffer.from(encoded, 'base64').toString('utf8').trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(sha256) ? { cluster, sha256 } : undefined;
}
