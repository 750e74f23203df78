import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createLogger, ErrorCode, forCluster, isRelayError, RelayError } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { KubeConfig } from '@kubernetes/client-node';
import { startAgent } from './agent.js';
import { type AgentFlags, parseFlags, USAGE } from './config/parseFlags.js';
import {
  type CredentialInputs,
  type ResolvedCredentials,
  resolveCredentials,
} from './identity/agentCredentials.js';
import { AgentIdentity } from './identity/agentIdentity.js';
import {
  type CredentialsStore,
  FileCredentialsStore,
  SecretCredentialsStore,
} from './identity/credentialsStore.js';

// Composition root of the kuberelay-agent binary: flags, kubeconfig, credentials, then startAgent.
// Exit codes: 0 after a graceful stop, 1 when it cannot start, 2 for bad flags.

async function main(): Promise<number> {
  const parsed = parseFlags(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`kuberelay-agent: ${error.message}\n`);
    process.stderr.write('Run kuberelay-agent --help for usage.\n');
    return 2;
  }
  if (parsed.value.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const flags = parsed.value.flags;
  const kubeConfig = new KubeConfig();
  try {
    if (flags.kubeconfig !== undefined) kubeConfig.loadFromFile(flags.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (flags.context !== undefined) {
      if (kubeConfig.getContextObject(flags.context) === null) {
        process.stderr.write(`kuberelay-agent: --context ${flags.context} is not in the kubeconfig\n`);
        return 2;
      }
      kubeConfig.setCurrentContext(flags.context);
    }
  } catch (error) {
    process.stderr.write(`kuberelay-agent: cannot load the kubeconfig: ${String(error)}\n`);
    return 2;
  }
  const logger = createLogger({ name: 'kuberelay-agent', level: flags.logLevel });
  let resolved: { credentials: ResolvedCredentials; store: CredentialsStore };
  try {
    resolved = await resolveAgentCredentials(flags, kubeConfig);
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    return 1;
  }
  const { credentials, store } = resolved;
  const identity = new AgentIdentity({
    cluster: credentials.cluster,
    serverAddress: credentials.server,
    auth: credentials.auth,
    store,
    logger: forCluster(logger, credentials.cluster),
    renewFraction: flags.renewFraction,
  });
  const agent = await startAgent({
    kubeConfig,
    cluster: credentials.cluster,
    serverAddress: credentials.server,
    identity,
    ...(credentials.mgmtCluster === undefined ? {} : { mgmtCluster: credentials.mgmtCluster }),
    stateFile: flags.stateFile,
    httpListen: flags.httpListen,
    podName: flags.podName ?? hostname(),
    kinds: flags.kinds,
    resyncIntervalMs: flags.resyncIntervalMs,
    logger,
  }).catch((error: unknown) => {
    // A reason the operator can fix (a port taken) is one line, not a stack trace.
    if (!isRelayError(error)) throw error;
    process.stderr.write(`kuberelay-agent: ${error.message}\n`);
    return undefined;
  });
  if (agent === undefined) return 1;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping (copies are left in place)');
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await agent.stop();
  return 0;
}

/**
 * Flags (and files they name) win; everything else comes from the credentials Secret. With
 * --cert-file/--key-file/--ca-file the credentials live in those files (and renewed ones are
 * written there); otherwise in the Secret, which must then exist.
 */
async function resolveAgentCredentials(
  flags: AgentFlags,
  kubeConfig: KubeConfig,
): Promise<{ credentials: ResolvedCredentials; store: CredentialsStore }> {
  const readFlagFile = async (path: string | undefined) =>
    path === undefined ? undefined : (await readFile(path, 'utf8')).trim();
  const secretStore = new SecretCredentialsStore({
    rest: new KubeRest(kubeConfig),
    namespace: flags.namespace,
    name: flags.credentialsSecret,
  });
  const fileStore =
    flags.certFile !== undefined && flags.keyFile !== undefined && flags.caFile !== undefined
      ? new FileCredentialsStore({
          caFile: flags.caFile,
          certFile: flags.certFile,
          keyFile: flags.keyFile,
          bootstrapTokenFile: flags.bootstrapTokenFile,
        })
      : undefined;
  const caPem = fileStore === undefined ? await readFlagFile(flags.caFile) : undefined;
  const bootstrapToken = fileStore === undefined ? await readFlagFile(flags.bootstrapTokenFile) : undefined;
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
  const resolved = resolveCredentials({
    given,
    stored: fromSecret,
    source: fileStore?.description ?? secretStore.description,
    now: Date.now(),
  });
  if (!resolved.ok) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: resolved.errors.map((e) => e.message).join('; '),
      cause: resolved.errors[0],
    });
  }
  return { credentials: resolved.value, store: fileStore ?? secretStore };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `kuberelay-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
