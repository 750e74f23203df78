import { AgentCredentialsKey, ErrorCode, err, ok, RelayError, type Result } from '@kuberelay/shared';
import {
  type CertificateFacts,
  certificateFactsOf,
  keyMatchesCertificate,
  parseBundle,
} from './certificateFacts.js';

/**
 * Data keys of the agent's credentials Secret `kuberelay-agent-credentials` (docs/design.md,
 * "Mutual TLS", "Agent credentials"). `token` is the bearer token of registrations made before
 * mutual TLS; it is read only when nothing else is there.
 */
export const CredentialsKey = {
  cluster: AgentCredentialsKey.cluster,
  server: AgentCredentialsKey.server,
  mgmtCluster: AgentCredentialsKey.mgmtCluster,
  caBundle: AgentCredentialsKey.caBundle,
  bootstrapToken: AgentCredentialsKey.bootstrapToken,
  certificate: AgentCredentialsKey.tlsCert,
  privateKey: AgentCredentialsKey.tlsKey,
  token: AgentCredentialsKey.token,
} as const;

/** What a credentials source (the Secret, files, flags) holds; every value optional. */
export interface CredentialInputs {
  readonly cluster?: string;
  readonly server?: string;
  readonly mgmtCluster?: string;
  readonly caPem?: string;
  readonly bootstrapToken?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
}

const FIELD_OF_KEY = {
  [CredentialsKey.cluster]: 'cluster',
  [CredentialsKey.server]: 'server',
  [CredentialsKey.mgmtCluster]: 'mgmtCluster',
  [CredentialsKey.caBundle]: 'caPem',
  [CredentialsKey.bootstrapToken]: 'bootstrapToken',
  [CredentialsKey.certificate]: 'certPem',
  [CredentialsKey.privateKey]: 'keyPem',
  [CredentialsKey.token]: 'token',
} as const satisfies Record<string, keyof CredentialInputs>;

/** Decodes a Secret's `data` (base64 values); empty values count as absent. */
export function credentialsFromSecretData(
  data: Readonly<Record<string, string>> | undefined,
): CredentialInputs {
  const inputs: Partial<Record<keyof CredentialInputs, string>> = {};
  for (const [key, field] of Object.entries(FIELD_OF_KEY)) {
    const encoded = data?.[key];
    if (encoded === undefined) continue;
    const text = Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (text !== '') inputs[field] = text;
  }
  return inputs;
}

/** The PEM material of an mTLS connection. `keyPem` is secret: never log this object. */
export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** How the agent authenticates. */
export type AgentAuth =
  | { readonly kind: 'certificate'; readonly material: TlsMaterial; readonly cert: CertificateFacts }
  | { readonly kind: 'bootstrap'; readonly caPem: string; readonly bootstrapToken: string };

export interface ResolvedCredentials {
  readonly cluster: string;
  readonly server: string;
  readonly mgmtCluster?: string;
  readonly auth: AgentAuth;
}

export interface ResolveCredentialsOptions {
  /** Values from flags (and files named by flags); they win over `stored`. */
  readonly given: CredentialInputs;
  /** Values from the credentials Secret (or files), if it was read. */
  readonly stored: CredentialInputs;
  /** Where `stored` came from, for messages ("Secret gloo-mesh/kuberelay-agent-credentials"). */
  readonly source: string;
  /** ms since the epoch: an expired certificate with a bootstrap token next to it is replaced. */
  readonly now: number;
}

const REGISTER_HINT =
  'run relayctl register <cluster> --remote-context <workload context> on the management cluster';

/**
 * Merges and validates what the agent needs to connect (pure). Every problem is reported at once,
 * each naming the missing or bad key and the source. Order of preference: a client certificate,
 * then a bootstrap token (to get one), then a legacy bearer token.
 */
export function resolveCredentials(options: ResolveCredentialsOptions): Result<ResolvedCredentials> {
  const { source } = options;
  const merged: CredentialInputs = { ...options.stored, ...options.given };
  const errors: RelayError[] = [];
  const fail = (message: string, cause?: unknown) =>
    errors.push(
      new RelayError({ code: ErrorCode.InvalidConfig, message, ...(cause === undefined ? {} : { cause }) }),
    );
  if (merged.cluster === undefined)
    fail(`missing ${CredentialsKey.cluster}: give --cluster or put it in ${source}`);
  if (merged.server === undefined)
    fail(`missing ${CredentialsKey.server}: give --server or put it in ${source}`);
  else if (!/^[^\s/]+:\d{1,5}$/.test(merged.server))
    fail(`${CredentialsKey.server} "${merged.server}" must be host:port`);

  const auth = resolveAuth(merged, options.now, fail, source);
  const [first, ...rest] = errors;
  if (
    first !== undefined ||
    auth === undefined ||
    merged.cluster === undefined ||
    merged.server === undefined
  ) {
    return first === undefined
      ? err(new RelayError({ code: ErrorCode.InvalidConfig, message: `incomplete credentials in ${source}` }))
      : err(first, ...rest);
  }
  return ok({
    cluster: merged.cluster,
    server: merged.server,
    ...(merged.mgmtCluster === undefined ? {} : { mgmtCluster: merged.mgmtCluster }),
    auth,
  });
}

function resolveAuth(
  merged: CredentialInputs,
  now: number,
  fail: (message: string, cause?: unknown) => void,
  source: string,
): AgentAuth | undefined {
  const { caPem, certPem, keyPem, bootstrapToken, token } = merged;
  const hasCert = certPem !== undefined || keyPem !== undefined;
  if (!hasCert && bootstrapToken === undefined) {
    if (token !== undefined) {
      // A registration from before mutual TLS: the server accepts certificates only now, so a
      // bearer token could never connect; say what to do instead of failing at every dial.
      fail(
        `${source} holds only a ${CredentialsKey.token} from a registration made before mutual TLS; the management server now requires a client certificate: ${REGISTER_HINT}`,
      );
      return undefined;
    }
    fail(
      `${source} has neither a client certificate (${CredentialsKey.certificate}, ${CredentialsKey.privateKey}) nor a ${CredentialsKey.bootstrapToken}: ${REGISTER_HINT}`,
    );
    return undefined;
  }
  if (caPem === undefined) {
    fail(`missing ${CredentialsKey.caBundle} (the relay CA bundle) in ${source}: ${REGISTER_HINT}`);
    return undefined;
  }
  const bundle = parseBundle(caPem, `${CredentialsKey.caBundle} of ${source}`);
  if (!bundle.ok) {
    for (const e of bundle.errors) fail(e.message, e);
    return undefined;
  }
  if (hasCert) {
    if (certPem === undefined || keyPem === undefined) {
      fail(
        `${source} has ${certPem === undefined ? CredentialsKey.privateKey : CredentialsKey.certificate} without ${certPem === undefined ? CredentialsKey.certificate : CredentialsKey.privateKey}`,
      );
      return undefined;
    }
    const cert = certificateFactsOf(certPem, `${CredentialsKey.certificate} of ${source}`);
    if (!cert.ok) {
      for (const e of cert.errors) fail(e.message, e);
      return undefined;
    }
    if (!keyMatchesCertificate({ certPem, keyPem })) {
      fail(`${CredentialsKey.privateKey} of ${source} is not the key of its ${CredentialsKey.certificate}`);
      return undefined;
    }
    // An expired certificate cannot connect; a bootstrap token next to it (a re-registration)
    // gets a new one. Without a token the server's refusal says what to do.
    if (cert.value.notAfter > now || bootstrapToken === undefined) {
      return { kind: 'certificate', material: { caPem, certPem, keyPem }, cert: cert.value };
    }
  }
  if (bootstrapToken === undefined) return undefined;
  return { kind: 'bootstrap', caPem, bootstrapToken };
}
