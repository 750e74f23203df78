import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createLogger, ErrorCode, RelayError } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { KubeConfig } from '@kubernetes/client-node';
import { startAgent } from './agent.js';
import { type AgentCredentials, readCredentialsSecret } from './config/credentials.js';
import { type AgentFlags, parseFlags, USAGE } from './config/parseFlags.js';

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
  let connection: Required<Pick<AgentCredentials, 'token' | 'cluster' | 'server'>> & { mgmtCluster?: string };
  try {
    connection = await resolveConnection(flags, kubeConfig);
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    return 1;
  }
  const agent = await startAgent({
    kubeConfig,
    cluster: connection.cluster,
    serverAddress: connection.server,
    token: connection.token,
    ...(connection.mgmtCluster === undefined ? {} : { mgmtCluster: connection.mgmtCluster }),
    stateFile: flags.stateFile,
    httpListen: flags.httpListen,
    podName: flags.podName ?? hostname(),
    kinds: flags.kinds,
    logger,
  });
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

/** Flags win; anything missing comes from the credentials Secret. */
async function resolveConnection(flags: AgentFlags, kubeConfig: KubeConfig) {
  const token = flags.tokenFile === undefined ? undefined : (await readFile(flags.tokenFile, 'utf8')).trim();
  const fromFlags: AgentCredentials = {
    ...(token === undefined ? {} : { token }),
    ...(flags.cluster === undefined ? {} : { cluster: flags.cluster }),
    ...(flags.server === undefined ? {} : { server: flags.server }),
    ...(flags.mgmtCluster === undefined ? {} : { mgmtCluster: flags.mgmtCluster }),
  };
  const complete =
    fromFlags.token !== undefined && fromFlags.cluster !== undefined && fromFlags.server !== undefined;
  const secret = complete
    ? {}
    : await readCredentialsSecret({
        rest: new KubeRest(kubeConfig),
        namespace: flags.namespace,
        name: flags.credentialsSecret,
      });
  const merged = { ...secret, ...fromFlags };
  const missing = (['token', 'cluster', 'server'] as const).filter((key) => merged[key] === undefined);
  if (merged.token === undefined || merged.cluster === undefined || merged.server === undefined) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `missing ${missing.join(', ')}: give --token-file/--cluster/--server or put them in Secret ${flags.namespace}/${flags.credentialsSecret}`,
    });
  }
  return {
    token: merged.token,
    cluster: merged.cluster,
    server: merged.server,
    ...(merged.mgmtCluster === undefined ? {} : { mgmtCluster: merged.mgmtCluster }),
  };
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
