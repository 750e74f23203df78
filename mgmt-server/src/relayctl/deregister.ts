import {
  AGENT_CREDENTIALS_SECRET,
  AgentCredentialsKey,
  bootstrapSecretName,
  DEFAULT_RELAY_NAMESPACE,
} from '@kuberelay/shared';
import { CliError, CliErrorCode, ExitCode, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import {
  type KubernetesClusterObject,
  kubernetesClusterRef,
  type SecretObject,
  secretRef,
  tokenSecretRef,
} from './kubeResources.js';
import { secretValue } from './registrationObjects.js';
import { renderJson } from './render.js';

export const deregisterCommand: Command = {
  name: 'deregister',
  summary: 'deregister a workload cluster and revoke its agent credentials',
  usage: `Deregister a workload cluster: its agent is disconnected, and neither its client certificate
nor an unused bootstrap token works any more.

Usage:
  relayctl deregister CLUSTER [--kubecontext MGMT] [--remote-context WORKLOAD] [--remote-namespace NS]

Deletes the KubernetesCluster CLUSTER and its bootstrap Secret kuberelay-bootstrap-CLUSTER (and
a pre-mTLS token Secret kuberelay-token-CLUSTER) from the server's namespace (-n). Certificates
name the KubernetesCluster's uid, so registering CLUSTER again does not revive them. With --remote-context, also deletes the agent's Secret
${AGENT_CREDENTIALS_SECRET} from the workload cluster, but only if it holds CLUSTER's
credentials. Copies already in the workload cluster are left as they are.
A cluster that is not registered is an error (exit 1), and nothing is deleted.

Flags:
      --remote-context NAME   kubeconfig context of the workload cluster
      --remote-namespace NS   namespace of the credentials Secret there (default: ${DEFAULT_RELAY_NAMESPACE})

-o json: { "kind": "RelayctlDeregister", "cluster", "namespace", "context",
"deleted": [ { "context", "kind", "namespace", "name" } ] }`,
  options: {
    'remote-context': { type: 'string' },
    'remote-namespace': { type: 'string' },
  },
  run: runDeregister,
};

interface Deleted {
  readonly context: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

async function runDeregister(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [cluster = ''] = requirePositionals(parsed, 'deregister', ['cluster']);
  if (cluster === '') throw new UsageError('the cluster name is empty', { command: 'deregister' });
  const { io, globals } = ctx;
  const ns = globals.namespace;
  const remoteNamespace = parsed.strings['remote-namespace'] ?? DEFAULT_RELAY_NAMESPACE;
  const mgmt = ctx.mgmt();
  const remoteContext = parsed.strings['remote-context'];
  const remote = remoteContext === undefined ? undefined : ctx.client(remoteContext, '--remote-context');
  const say = (text: string) => io.stderr(`${text}\n`);

  const existing = await mgmt.get<KubernetesClusterObject>(
    kubernetesClusterRef(ns, cluster),
    `reading KubernetesCluster ${ns}/${cluster}`,
  );
  if (existing === undefined) {
    const registered = await mgmt.list<KubernetesClusterObject>(
      kubernetesClusterRef(ns),
      `listing KubernetesClusters in ${ns}`,
    );
    const names = registered.map((c) => c.metadata.name).sort();
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `cluster ${cluster} is not registered: no KubernetesCluster ${ns}/${cluster} in context "${mgmt.context}" (registered: ${names.length > 0 ? names.join(', ') : 'none'}); nothing was deleted`,
    });
  }

  const deleted: Deleted[] = [];
  const remove = async (client: typeof mgmt, ref: ReturnType<typeof secretRef>, kind: string) => {
    const name = ref.name ?? '';
    const namespace = ref.namespace ?? '';
    if (await client.delete(ref, `deleting ${kind} ${namespace}/${name}`)) {
      deleted.push({ context: client.context, kind, namespace, name });
      say(`✔ deleted ${kind} ${namespace}/${name} (context "${client.context}")`);
    } else {
      say(`  ${kind} ${namespace}/${name} (context "${client.context}") did not exist`);
    }
  };
  await remove(mgmt, kubernetesClusterRef(ns, cluster), 'KubernetesCluster');
  await remove(mgmt, secretRef(ns, bootstrapSecretName(cluster)), 'Secret');
  // Clusters registered before mutual TLS have a long-lived token Secret: remove it too.
  await remove(mgmt, tokenSecretRef(ns, cluster), 'Secret');
  if (remote) {
    const ref = secretRef(remoteNamespace, AGENT_CREDENTIALS_SECRET);
    const secret = await remote.get<SecretObject>(
      ref,
      `reading Secret ${remoteNamespace}/${AGENT_CREDENTIALS_SECRET}`,
    );
    const owner = secretValue(secret?.data, AgentCredentialsKey.cluster);
    if (secret !== undefined && owner !== cluster) {
      say(
        `! kept Secret ${remoteNamespace}/${AGENT_CREDENTIALS_SECRET} in context "${remote.context}": it holds the credentials of cluster "${owner ?? '?'}", not "${cluster}"`,
      );
    } else {
      await remove(remote, ref, 'Secret');
    }
  }
  say(
    `Cluster ${cluster} is deregistered: its agent's credentials no longer work and the server ends its connection.`,
  );
  if (globals.output === OutputFormat.json) {
    io.stdout(
      renderJson({ kind: 'RelayctlDeregister', cluster, namespace: ns, context: mgmt.context, deleted }),
    );
  }
  return ExitCode.ok;
}
