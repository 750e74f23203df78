import {
  AGENT_CREDENTIALS_SECRET,
  AgentCredentialsKey,
  bootstrapSecretName,
  DEFAULT_BOOTSTRAP_TOKEN_TTL_MS,
  DEFAULT_RELAY_NAMESPACE,
  dnsLabelProblem,
  isHostPort,
  issueBootstrapToken,
  parseTokenTtl,
  RELAY_CA_SECRET,
  redactToken,
} from '@kuberelay/shared';
import { relayCaOf } from '@kuberelay/shared/pki';
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
} from './kubeResources.js';
import { credentialsSecretManifest, kubernetesClusterManifest, secretValue } from './registrationObjects.js';
import { renderJson } from './render.js';
import { discoverFromLeases, MGMT_CLUSTER_ANNOTATION, serverReplicas } from './serverLeases.js';

export const registerCommand: Command = {
  name: 'register',
  summary: 'register a workload cluster and issue its one-time bootstrap token',
  usage: `Register a workload cluster with the management server and issue its agent's one-time
bootstrap token.

Usage:
  relayctl register CLUSTER [--kubecontext MGMT] [--remote-context WORKLOAD]
                    [--remote-namespace NS] [--server HOST:PORT] [--mgmt-cluster NAME]
                    [--token-ttl DURATION]

Creates (or keeps) the KubernetesCluster CLUSTER in the server's namespace (-n), issues a new
bootstrap token and stores only its SHA-256 in Secret kuberelay-bootstrap-CLUSTER. The agent
trades the token, once, for its client certificate (mutual TLS); an unused token expires after
--token-ttl. Registering again replaces an unused token. The relay CA Secret
${RELAY_CA_SECRET} must exist (the management server creates it when it first starts).

The agent's credentials (Secret ${AGENT_CREDENTIALS_SECRET}: bootstrapToken, ca.crt, cluster,
server, mgmtCluster) are written to the workload cluster with --remote-context, or else printed on
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
      --token-ttl DURATION    how long the bootstrap token stays usable, e.g. 30m, 24h, 7d
                              (default 24h, at most 30d)

-o json: with --remote-context a summary { "kind": "RelayctlRegister", "cluster", "namespace",
"context", "kubernetesCluster": "created"|"kept", "bootstrapSecret": { "name", "action":
"created"|"replaced", "tokenPrefix", "expiresAt" }, "server", "mgmtCluster", "credentials": { "context",
"namespace", "secret", "action": "created"|"replaced" } }; without it, the credentials Secret as
JSON (kubectl apply accepts it).`,
  options: {
    'remote-context': { type: 'string' },
    'remote-namespace': { type: 'string' },
    server: { type: 'string' },
    'mgmt-cluster': { type: 'string' },
    'token-ttl': { type: 'string' },
  },
  run: runRegister,
};

interface RegisterFlags {
  readonly cluster: string;
  readonly remoteContext: string | undefined;
  readonly remoteNamespace: string;
  readonly server: string | undefined;
  readonly mgmtCluster: string | undefined;
  readonly tokenTtlMs: number;
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
  const ttl = parsed.strings['token-ttl'];
  const tokenTtl =
    ttl === undefined ? { ok: true as const, ms: DEFAULT_BOOTSTRAP_TOKEN_TTL_MS } : parseTokenTtl(ttl);
  if (!tokenTtl.ok) throw new UsageError(`--token-ttl: ${tokenTtl.message}`, { command: 'register' });
  return {
    cluster,
    remoteContext: parsed.strings['remote-context'],
    remoteNamespace,
    server,
    mgmtCluster,
    tokenTtlMs: tokenTtl.ms,
  };
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
  const caBundlePem = await readCaBundle(mgmt, ns);

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

  const clusterUid = kc.object.metadata.uid;
  if (clusterUid === undefined) {
    throw new CliError({
      code: CliErrorCode.KubeApi,
      message: `KubernetesCluster ${ns}/${flags.cluster} has no uid (context "${mgmt.context}")`,
    });
  }
  const { token, expiresAt, secret } = issueBootstrapToken({
    cluster: flags.cluster,
    namespace: ns,
    clusterUid,
    issuedAt: io.now(),
    ttlMs: flags.tokenTtlMs,
  });
  const bootstrapSecret = await mgmt.createOrReplace<SecretObject>(
    secretRef(ns, bootstrapSecretName(flags.cluster)),
    secret,
    `writing the bootstrap Secret ${ns}/${bootstrapSecretName(flags.cluster)}`,
  );
  step(
    `✔ issued bootstrap token ${redactToken(token)} (one use, expires ${expiresAt.toISOString()}); its SHA-256 is in Secret ${ns}/${bootstrapSecretName(flags.cluster)}${
      bootstrapSecret.created ? '' : ' (replaced: the previous unused token no longer works)'
    }`,
  );

  const credentials = credentialsSecretManifest({
    cluster: flags.cluster,
    namespace: flags.remoteNamespace,
    bootstrapToken: token,
    caBundlePem,
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
      message: `${message}; a new bootstrap token was already issued: run register again to issue another`,
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
        bootstrapSecret: {
          name: bootstrapSecretName(flags.cluster),
          action: bootstrapSecret.created ? 'created' : 'replaced',
          tokenPrefix: redactToken(token),
          expiresAt: expiresAt.toISOString(),
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

/** The relay CA bundle agents must trust (ca.crt of their credentials). */
async function readCaBundle(mgmt: KubeClient, ns: string): Promise<string> {
  const secret = await mgmt.get<SecretObject>(
    secretRef(ns, RELAY_CA_SECRET),
    `reading the relay CA Secret ${ns}/${RELAY_CA_SECRET}`,
  );
  if (secret === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `the relay CA Secret ${ns}/${RELAY_CA_SECRET} does not exist in context "${mgmt.context}": start the management server first (it creates the CA), or create the Secret yourself`,
    });
  }
  const ca = relayCaOf(secret);
  if (!ca.ok) {
    throw new CliError({
      code: CliErrorCode.NotInstalled,
      message: `relay CA Secret ${ns}/${RELAY_CA_SECRET}: ${ca.errors[0].message}`,
    });
  }
  return ca.value.bundlePem;
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
    hint = '',
  ) => {
    if (flag !== undefined) return flag;
    const found = discoverFromLeases(replicas, pick, what);
    if (!found.ok) {
      throw new CliError({
        code: CliErrorCode.MissingValue,
        message: `${name} is required: ${found.problem} in namespace ${ns} (context "${mgmt.context}")${hint}`,
      });
    }
    step(`  ${what}: ${found.value} (from ${found.from}; pass ${name} to override)`);
    return found.value;
  };
  return {
    // Several replicas each announce their own pod's address; agents must dial the Service.
    server: resolve(
      flags.server,
      '--server',
      'server address',
      (r) => r.grpcAddress,
      replicas.filter((r) => r.fresh).length > 1
        ? '; with several server replicas, pass the address agents reach their Service at (a LoadBalancer or NodePort), not a pod'
        : '',
    ),
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
