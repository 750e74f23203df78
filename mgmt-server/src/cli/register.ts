import {
  AGENT_CREDENTIALS_SECRET,
  AgentCredentialsKey,
  DEFAULT_RELAY_NAMESPACE,
  dnsLabelProblem,
  generateAgentToken,
  hashAgentToken,
  redactToken,
  tokenSecretName,
} from '@kuberelay/shared';
import { stringify } from 'yaml';
import { CliError, CliErrorCode, describeError, ExitCode, oneLine, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import type { KubeClient } from './kubeClient.js';
import {
  type KubernetesClusterObject,
  kubernetesClusterRef,
  type LeaseObject,
  leaseRef,
  namespaceRef,
  type SecretObject,
  secretRef,
  tokenSecretRef,
} from './kubeResources.js';
import {
  credentialsSecretManifest,
  kubernetesClusterManifest,
  secretValue,
  tokenSecretManifest,
} from './registrationObjects.js';
import { renderJson } from './render.js';
import { discoverFromLeases, isHostPort, MGMT_CLUSTER_ANNOTATION, serverReplicas } from './serverLeases.js';

export const registerCommand: Command = {
  name: 'register',
  summary: 'register a workload cluster and issue its agent token',
  usage: `Register a workload cluster with the management server and issue its agent's token.

Usage:
  relayctl register CLUSTER [--kubecontext MGMT] [--remote-context WORKLOAD]
                    [--remote-namespace NS] [--server HOST:PORT] [--mgmt-cluster NAME]

Creates (or keeps) the KubernetesCluster CLUSTER in the server's namespace (-n), issues a new
agent token and stores only its SHA-256 in Secret kuberelay-token-CLUSTER. Registering again
rotates the token: the previous one stops working.

The agent's credentials (Secret ${AGENT_CREDENTIALS_SECRET}: token, cluster, server,
mgmtCluster) are written to the workload cluster with --remote-context, or else printed on
stdout as YAML for you to apply there:
  relayctl register CLUSTER --kubecontext MGMT | kubectl --context WORKLOAD apply -f -
That is the only time relayctl ever prints a token; progress goes to stderr.

Flags:
      --remote-context NAME   kubeconfig context of the workload cluster: write the credentials there
      --remote-namespace NS   namespace of the credentials Secret in the workload cluster, created
                              if missing (default: ${DEFAULT_RELAY_NAMESPACE})
      --server HOST:PORT      address agents dial (default: the kuberelay.dev/grpc-address the
                              running server replicas announce on their Leases, when they agree)
      --mgmt-cluster NAME     the management cluster's name (the server's --cluster-name; default:
                              the ${MGMT_CLUSTER_ANNOTATION} annotation of the server Leases)

-o json: with --remote-context a summary { "kind": "RelayctlRegister", "cluster", "namespace",
"context", "kubernetesCluster": "created"|"kept", "tokenSecret": { "name", "action":
"created"|"rotated", "tokenPrefix" }, "server", "mgmtCluster", "credentials": { "context",
"namespace", "secret", "action": "created"|"replaced" } }; without it, the credentials Secret as
JSON (kubectl apply accepts it).`,
  options: {
    'remote-context': { type: 'string' },
    'remote-namespace': { type: 'string' },
    server: { type: 'string' },
    'mgmt-cluster': { type: 'string' },
  },
  run: runRegister,
};

interface RegisterFlags {
  readonly cluster: string;
  readonly remoteContext: string | undefined;
  readonly remoteNamespace: string;
  readonly server: string | undefined;
  readonly mgmtCluster: string | undefined;
}

function registerFlags(parsed: ParsedCommandLine): RegisterFlags {
  const [cluster = ''] = requirePositionals(parsed, 'register', ['cluster']);
  const nameProblem = dnsLabelProblem(cluster);
  if (nameProblem)
    throw new UsageError(`cluster name "${cluster}" is not a valid DNS label: it ${nameProblem}`, {
      command: 'register',
    });
  const remoteNamespace = parsed.strings['remote-namespace'] ?? DEFAULT_RELAY_NAMESPACE;
  const nsProblem = dnsLabelProblem(remoteNamespace);
  if (nsProblem)
    throw new UsageError(`--remote-namespace "${remoteNamespace}" ${nsProblem}`, { command: 'register' });
  const server = parsed.strings.server;
  if (server !== undefined && !isHostPort(server)) {
    throw new UsageError(`--server must be HOST:PORT, not "${server}"`, { command: 'register' });
  }
  const mgmtCluster = parsed.strings['mgmt-cluster'];
  const mgmtProblem = mgmtCluster === undefined ? undefined : dnsLabelProblem(mgmtCluster);
  if (mgmtProblem)
    throw new UsageError(`--mgmt-cluster "${mgmtCluster}" ${mgmtProblem}`, { command: 'register' });
  return { cluster, remoteContext: parsed.strings['remote-context'], remoteNamespace, server, mgmtCluster };
}

async function runRegister(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const flags = registerFlags(parsed);
  const { io, globals } = ctx;
  const ns = globals.namespace;
  const mgmt = ctx.mgmt();
  const remote =
    flags.remoteContext === undefined ? undefined : ctx.client(flags.remoteContext, '--remote-context');
  const step = (text: string) => io.stderr(`${text}\n`);
  step(
    `Registering cluster ${flags.cluster} with the management server in namespace ${ns} (context "${mgmt.context}")`,
  );

  if ((await mgmt.get(namespaceRef(ns), `reading namespace ${ns}`)) === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `namespace ${ns} does not exist in context "${mgmt.context}": install the management server there first, or pass -n`,
    });
  }
  const { server, mgmtCluster } = await serverAndMgmtCluster(mgmt, ns, flags, io.now(), step);

  // Everything that can fail in the workload cluster is checked before the token is rotated,
  // so a failed register never leaves the agent without working credentials.
  if (remote) await prepareRemote(remote, flags, step);

  const kc = await mgmt.createOrGet<KubernetesClusterObject>(
    kubernetesClusterRef(ns, flags.cluster),
    kubernetesClusterManifest({ cluster: flags.cluster, namespace: ns }),
    `creating KubernetesCluster ${ns}/${flags.cluster}`,
  );
  step(
    kc.created
      ? `✔ created KubernetesCluster ${ns}/${flags.cluster}`
      : `✔ KubernetesCluster ${ns}/${flags.cluster} already exists: kept`,
  );

  const token = generateAgentToken();
  const issuedAt = io.now();
  const tokenSecret = await mgmt.createOrReplace<SecretObject>(
    tokenSecretRef(ns, flags.cluster),
    tokenSecretManifest({
      cluster: flags.cluster,
      namespace: ns,
      tokenHash: hashAgentToken(token),
      issuedAt,
      owner: kc.object.metadata.uid ? { uid: kc.object.metadata.uid } : undefined,
    }),
    `writing the token Secret ${ns}/${tokenSecretName(flags.cluster)}`,
  );
  step(
    `✔ issued token ${redactToken(token)}; its SHA-256 is in Secret ${ns}/${tokenSecretName(flags.cluster)}${
      tokenSecret.created ? '' : ' (rotated: the previous token no longer works)'
    }`,
  );

  const credentials = credentialsSecretManifest({
    cluster: flags.cluster,
    namespace: flags.remoteNamespace,
    token,
    server,
    mgmtCluster,
  });
  if (!remote) {
    step(
      `Credentials for the agent follow on stdout. They contain the token: apply them to the workload cluster, e.g.\n  relayctl register ${flags.cluster} ... | kubectl --context <workload> apply -f -\n(or run register with --remote-context <workload> to write them directly)`,
    );
    io.stdout(
      globals.output === OutputFormat.json
        ? renderJson(credentials)
        : `# Agent credentials of cluster ${flags.cluster}. Contains a secret token: apply it, do not store it.\n${stringify(credentials)}`,
    );
    return ExitCode.ok;
  }

  let written: { created: boolean };
  try {
    written = await remote.createOrReplace(
      secretRef(flags.remoteNamespace, AGENT_CREDENTIALS_SECRET),
      credentials,
      `writing Secret ${flags.remoteNamespace}/${AGENT_CREDENTIALS_SECRET}`,
    );
  } catch (error) {
    // An API error about this Secret could quote its content: never let the token through.
    const message = oneLine(error).replaceAll(token, redactToken(token));
    const quotesToken = describeError(error, { debug: true }).includes(token);
    throw new CliError({
      code: CliErrorCode.KubeApi,
      message: `${message}; the token was already rotated: run register again to issue a new one`,
      ...(quotesToken ? {} : { cause: error }),
    });
  }
  step(
    `✔ ${written.created ? 'created' : 'replaced'} Secret ${flags.remoteNamespace}/${AGENT_CREDENTIALS_SECRET} in context "${remote.context}"`,
  );
  step(
    `Done. The agent in ${flags.cluster} connects to ${server}; relayctl check shows when it is connected.`,
  );
  if (globals.output === OutputFormat.json) {
    io.stdout(
      renderJson({
        kind: 'RelayctlRegister',
        cluster: flags.cluster,
        namespace: ns,
        context: mgmt.context,
        kubernetesCluster: kc.created ? 'created' : 'kept',
        tokenSecret: {
          name: tokenSecretName(flags.cluster),
          action: tokenSecret.created ? 'created' : 'rotated',
          tokenPrefix: redactToken(token),
        },
        server,
        mgmtCluster,
        credentials: {
          context: remote.context,
          namespace: flags.remoteNamespace,
          secret: AGENT_CREDENTIALS_SECRET,
          action: written.created ? 'created' : 'replaced',
        },
      }),
    );
  }
  return ExitCode.ok;
}

/** --server and --mgmt-cluster, or what the running server replicas announce on their Leases. */
async function serverAndMgmtCluster(
  mgmt: KubeClient,
  ns: string,
  flags: RegisterFlags,
  now: Date,
  step: (text: string) => void,
): Promise<{ server: string; mgmtCluster: string }> {
  if (flags.server !== undefined && flags.mgmtCluster !== undefined) {
    return { server: flags.server, mgmtCluster: flags.mgmtCluster };
  }
  const leases = await mgmt.list<LeaseObject>(leaseRef(ns), `listing the server Leases in ${ns}`);
  const replicas = serverReplicas(leases, now);
  const resolve = (
    flag: string | undefined,
    name: string,
    what: string,
    pick: Parameters<typeof discoverFromLeases>[1],
  ) => {
    if (flag !== undefined) return flag;
    const found = discoverFromLeases(replicas, pick, what);
    if (!found.ok) {
      throw new CliError({
        code: CliErrorCode.MissingValue,
        message: `${name} is required: ${found.problem} in namespace ${ns} (context "${mgmt.context}")`,
      });
    }
    step(`  ${what}: ${found.value} (from ${found.from}; pass ${name} to override)`);
    return found.value;
  };
  return {
    server: resolve(flags.server, '--server', 'server address', (r) => r.grpcAddress),
    mgmtCluster: resolve(
      flags.mgmtCluster,
      '--mgmt-cluster',
      'management cluster name',
      (r) => r.mgmtCluster,
    ),
  };
}

/**
 * Creates the credentials namespace if needed, and refuses to overwrite credentials that belong
 * to another cluster (the Secret's name is the same in every workload cluster, so a wrong
 * --remote-context would otherwise silently take another cluster's agent over).
 */
async function prepareRemote(
  remote: KubeClient,
  flags: RegisterFlags,
  step: (text: string) => void,
): Promise<void> {
  const ns = flags.remoteNamespace;
  if ((await remote.get(namespaceRef(ns), `reading namespace ${ns}`)) === undefined) {
    const created = await remote.createOrGet(
      namespaceRef(ns),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      `creating namespace ${ns}`,
    );
    if (created.created) step(`✔ created namespace ${ns} in context "${remote.context}"`);
  }
  const existing = await remote.get<SecretObject>(
    secretRef(ns, AGENT_CREDENTIALS_SECRET),
    `reading Secret ${ns}/${AGENT_CREDENTIALS_SECRET}`,
  );
  const owner = secretValue(existing?.data, AgentCredentialsKey.cluster);
  if (owner !== undefined && owner !== flags.cluster) {
    throw new CliError({
      code: CliErrorCode.Conflict,
      message: `Secret ${ns}/${AGENT_CREDENTIALS_SECRET} in context "${remote.context}" holds the credentials of cluster "${owner}", not "${flags.cluster}": is --remote-context right? (deregister ${owner} first to reuse that cluster)`,
    });
  }
}
