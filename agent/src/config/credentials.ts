import { AgentCredentialsKey, ErrorCode, RelayError } from '@kuberelay/shared';
import { isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';

/** What the agent's credentials Secret may hold (docs/design.md, "Identity and registration"). */
export interface AgentCredentials {
  readonly token?: string;
  readonly cluster?: string;
  readonly server?: string;
  readonly mgmtCluster?: string;
}

/** Reads Secret `name` in `namespace` of the workload cluster. */
export async function readCredentialsSecret(options: {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly name: string;
}): Promise<AgentCredentials> {
  let secret: { data?: Record<string, string> };
  try {
    secret = await options.rest.request({
      method: 'GET',
      path: resourcePath({
        group: '',
        version: 'v1',
        plural: 'secrets',
        namespace: options.namespace,
        name: options.name,
      }),
    });
  } catch (error) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: isNotFound(error)
        ? `credentials Secret ${options.namespace}/${options.name} does not exist (relayctl register --remote-context writes it), and the flags do not give everything it would`
        : `cannot read credentials Secret ${options.namespace}/${options.name}: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
  const decode = (key: string): string | undefined => {
    const value = secret.data?.[key];
    if (value === undefined) return undefined;
    const text = Buffer.from(value, 'base64').toString('utf8').trim();
    return text === '' ? undefined : text;
  };
  const credentials: Record<string, string> = {};
  for (const key of Object.values(AgentCredentialsKey)) {
    const value = decode(key);
    if (value !== undefined) credentials[key] = value;
  }
  return credentials;
}
