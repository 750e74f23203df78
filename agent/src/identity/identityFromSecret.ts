import { readFile } from 'node:fs/promises';
import { AGENT_CREDENTIALS_SECRET, ErrorCode, forCluster, type Logger, RelayError } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import { type CredentialInputs, type ResolvedCredentials, resolveCredentials } from './agentCredentials.js';
import { AgentIdentity } from './agentIdentity.js';
import { type CredentialsStore, FileCredentialsStore, SecretCredentialsStore } from './credentialsStore.js';

export interface IdentityFromSecretOptions {
  /** The workload cluster, where the credentials Secret lives. */
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** Default `kuberelay-agent-credentials`. */
  readonly secretName?: string;
  readonly logger: Logger;
  readonly renewFraction?: number;
}

export interface LoadAgentIdentityOptions extends IdentityFromSecretOptions {
  /**
   * Credentials in files instead of the Secret (`--ca-file`, `--cert-file`, `--key-file`,
   * `--bootstrap-token-file`). With all of ca, cert and key the files are the store (renewed
   * credentials are written there); with only ca or the token they override the Secret's.
   */
  readonly files?: {
    readonly caFile?: string | undefined;
    readonly certFile?: string | undefined;
    readonly keyFile?: string | undefined;
    readonly bootstrapTokenFile?: string | undefined;
  };
  /** Values given on the command line; they win over the Secret's. */
  readonly given?: Pick<CredentialInputs, 'cluster' | 'server' | 'mgmtCluster'>;
}

export interface LoadedIdentity {
  readonly identity: AgentIdentity;
  readonly credentials: ResolvedCredentials;
  readonly store: CredentialsStore;
}

/**
 * The agent's identity, resolved the one way the binary and in-process embedders share: flags
 * (and the files they name) win; everything else comes from the credentials Secret that `relayctl
 * register --remote-context` wrote (bootstrap token and CA bundle first, then the client
 * certificate the agent stored there). Bad or missing credentials are one InvalidConfig error
 * naming every problem.
 */
export async function loadAgentIdentity(options: LoadAgentIdentityOptions): Promise<LoadedIdentity> {
  const files = options.files ?? {};
  const readFlagFile = async (path: string | undefined) =>
    path === undefined ? undefined : (await readFile(path, 'utf8')).trim();
  const secretStore = new SecretCredentialsStore({
    rest: new KubeRest(options.kubeConfig),
    namespace: options.namespace,
    name: options.secretName ?? AGENT_CREDENTIALS_SECRET,
  });
  const fileStore =
    files.certFile !== undefined && files.keyFile !== undefined && files.caFile !== undefined
      ? new FileCredentialsStore({
          caFile: files.caFile,
          certFile: files.certFile,
          keyFile: files.keyFile,
          bootstrapTokenFile: files.bootstrapTokenFile,
        })
      : undefined;
  const caPem = fileStore === undefined ? await readFlagFile(files.caFile) : undefined;
  const bootstrapToken = fileStore === undefined ? await readFlagFile(files.bootstrapTokenFile) : undefined;
  const flags = options.given ?? {};
  const given: CredentialInputs = {
    ...(fileStore === undefined ? {} : await fileStore.load()),
    ...(caPem === undefined ? {} : { caPem }),
    ...(bootstrapToken === undefined ? {} : { bootstrapToken }),
    ...(flags.cluster === undefined ? {} : { cluster: flags.cluster }),
    ...(flags.server === undefined ? {} : { server: flags.server }),
    ...(flags.mgmtCluster === undefined ? {} : { mgmtCluster: flags.mgmtCluster }),
  };
  // The Secret is read unless the files and flags give everything: with files, it may not exist.
  const needSecret = fileStore === undefined || given.cluster === undefined || given.server === undefined;
  const stored = needSecret ? await secretStore.load() : {};
  if (stored === undefined && fileStore === undefined) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `credentials ${secretStore.description} does not exist (relayctl register --remote-context writes it), and the flags do not give credentials files`,
    });
  }
  // In file mode only cluster/server/mgmtCluster come from the Secret, never key material.
  const fromSecret: CredentialInputs =
    fileStore === undefined
      ? (stored ?? {})
      : {
          ...(stored?.cluster === undefined ? {} : { cluster: stored.cluster }),
          ...(stored?.server === undefined ? {} : { server: stored.server }),
          ...(stored?.mgmtCluster === undefined ? {} : { mgmtCluster: stored.mgmtCluster }),
        };
  const store = fileStore ?? secretStore;
  const resolved = resolveCredentials({
    given,
    stored: fromSecret,
    source: store.description,
    now: Date.now(),
  });
  if (!resolved.ok) {
    // Every problem once, in the message; no `cause`: a logged cause repeated the first of them.
    const problems = resolved.errors.map((e) => e.message);
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message:
        problems.length === 1 ? (problems[0] ?? '') : `${problems.length} problems: ${problems.join('; ')}`,
    });
  }
  const credentials = resolved.value;
  const identity = new AgentIdentity({
    cluster: credentials.cluster,
    serverAddress: credentials.server,
    auth: credentials.auth,
    store,
    logger: forCluster(options.logger, credentials.cluster),
    ...(options.renewFraction === undefined ? {} : { renewFraction: options.renewFraction }),
  });
  return { identity, credentials, store };
}

/** The identity from the credentials Secret alone: what the binary does without credential flags. */
export async function identityFromSecret(
  options: IdentityFromSecretOptions,
): Promise<{ readonly identity: AgentIdentity; readonly credentials: ResolvedCredentials }> {
  return loadAgentIdentity(options);
}
