import { AGENT_CREDENTIALS_SECRET, ErrorCode, type Logger, RelayError } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import { type ResolvedCredentials, resolveCredentials } from './agentCredentials.js';
import { AgentIdentity } from './agentIdentity.js';
import { SecretCredentialsStore } from './credentialsStore.js';

export interface IdentityFromSecretOptions {
  /** The workload cluster, where the credentials Secret lives. */
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** Default `kuberelay-agent-credentials`. */
  readonly secretName?: string;
  readonly logger: Logger;
  readonly renewFraction?: number;
}

/**
 * The agent's identity from the credentials Secret `relayctl register --remote-context` wrote
 * (bootstrap token and CA bundle first, then the client certificate the agent stored there): what
 * the binary does when no credential files are given, for tests and embedders that start an agent
 * in-process the way a user's cluster does.
 */
export async function identityFromSecret(
  options: IdentityFromSecretOptions,
): Promise<{ readonly identity: AgentIdentity; readonly credentials: ResolvedCredentials }> {
  const store = new SecretCredentialsStore({
    rest: new KubeRest(options.kubeConfig),
    namespace: options.namespace,
    name: options.secretName ?? AGENT_CREDENTIALS_SECRET,
  });
  const resolved = resolveCredentials({
    given: {},
    stored: (await store.load()) ?? {},
    source: store.description,
    now: Date.now(),
  });
  if (!resolved.ok) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: resolved.errors.map((e) => e.message).join('; '),
      cause: resolved.errors[0],
    });
  }
  const credentials = resolved.value;
  const identity = new AgentIdentity({
    cluster: credentials.cluster,
    serverAddress: credentials.server,
    auth: credentials.auth,
    store,
    logger: options.logger.child({ cluster: credentials.cluster }),
    ...(options.renewFraction === undefined ? {} : { renewFraction: options.renewFraction }),
  });
  return { identity, credentials };
}
