// kuberelay-mgmt-server: flags → startMgmtServer, and signals → stop. Nothing else lives here.
import { hostname } from 'node:os';
import { createLogger, formatListenAddress, isRelayError, runMain, untilStopSignal } from '@kuberelay/shared';
import { KubeConfig } from '@kubernetes/client-node';
import { HELP_TEXT, parseFlags } from './config/parseFlags.js';
import { startMgmtServer } from './startMgmtServer.js';

const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

async function main(): Promise<number> {
  const parsed = parseFlags(process.argv.slice(2), { env: process.env, hostname: hostname() });
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`kuberelay-mgmt-server: ${error.message}\n`);
    process.stderr.write('Run kuberelay-mgmt-server --help for usage.\n');
    return EXIT_USAGE;
  }
  if (parsed.value.help) {
    process.stdout.write(HELP_TEXT);
    return 0;
  }
  const config = parsed.value.config;
  const logger = createLogger({ name: 'mgmt-server', level: config.logLevel });
  const kubeConfig = new KubeConfig();
  try {
    if (config.kubeconfig === undefined) kubeConfig.loadFromDefault();
    else kubeConfig.loadFromFile(config.kubeconfig);
    if (config.context !== undefined) kubeConfig.setCurrentContext(config.context);
    if (kubeConfig.getCurrentCluster() === null) throw new Error('no current cluster in the kubeconfig');
  } catch (error) {
    process.stderr.write(
      `kuberelay-mgmt-server: cannot load the kubeconfig${config.kubeconfig ? ` ${config.kubeconfig}` : ''}${
        config.context ? ` (context ${config.context})` : ''
      }: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT_USAGE;
  }
  // A start that fails for a reason the operator can fix (a port taken) is one line, not a trace.
  const server = await startMgmtServer({
    kubeConfig,
    clusterName: config.clusterName,
    namespace: config.namespace,
    podName: config.podName,
    grpcListen: formatListenAddress(config.grpcListen),
    httpListen: formatListenAddress(config.httpListen),
    ...(config.dashboardListen === undefined
      ? {}
      : { dashboardListen: formatListenAddress(config.dashboardListen) }),
    kinds: config.kinds,
    classMapping: config.classMapping,
    distributionEnabled: config.distributionEnabled,
    heartbeatSeconds: config.heartbeatSeconds,
    caValidityMs: config.caValidityMs,
    serverSans: config.serverSans,
    ...(config.agentAddress === undefined ? {} : { agentAddress: config.agentAddress }),
    serverCertValidityMs: config.serverCertValidityMs,
    agentCertValidityMs: config.agentCertValidityMs,
    limits: config.limits,
    logger,
  }).catch((error: unknown) => {
    if (!isRelayError(error)) throw error;
    process.stderr.write(`kuberelay-mgmt-server: ${error.message}\n`);
    return undefined;
  });
  if (server === undefined) return EXIT_RUNTIME;
  await untilStopSignal(logger, 'signal received; stopping');
  await server.stop();
  return 0;
}

runMain('kuberelay-mgmt-server', main, EXIT_RUNTIME);
