import { hostname } from 'node:os';
import { createLogger, isRelayError, runMain, untilStopSignal } from '@kuberelay/shared';
import { KubeConfig } from '@kubernetes/client-node';
import { startAgent } from './agent.js';
import { parseFlags, USAGE } from './config/parseFlags.js';
import { type LoadAgentIdentityOptions, loadAgentIdentity } from './identity/identityFromSecret.js';

// Composition root of the kuberelay-agent binary: flags, kubeconfig, credentials, then startAgent.
// Exit codes: 0 after a graceful stop, 1 when it cannot start, 2 for bad flags. A replica that
// loses the leadership stands by again in the same process (docs/design.md "Agent replicas").

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
  const identityOptions: LoadAgentIdentityOptions = {
    kubeConfig,
    namespace: flags.namespace,
    secretName: flags.credentialsSecret,
    logger,
    renewFraction: flags.renewFraction,
    files: {
      caFile: flags.caFile,
      certFile: flags.certFile,
      keyFile: flags.keyFile,
      bootstrapTokenFile: flags.bootstrapTokenFile,
    },
    given: { cluster: flags.cluster, server: flags.server, mgmtCluster: flags.mgmtCluster },
  };
  let loaded: Awaited<ReturnType<typeof loadAgentIdentity>>;
  try {
    loaded = await loadAgentIdentity(identityOptions);
  } catch (error) {
    // A problem the operator can fix is said once, with its code: the stack of a RelayError
    // repeats the message and says nothing more. Anything else keeps its stack.
    if (isRelayError(error)) logger.fatal({ code: error.code }, error.message);
    else logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    return 1;
  }
  const { credentials, identity } = loaded;
  const start = () =>
    startAgent({
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
      ...(flags.leaderElection === undefined
        ? {}
        : {
            leaderElection: {
              namespace: flags.namespace,
              ...flags.leaderElection,
              // A standby's credentials may be stale by the time it leads (the leader bootstrapped
              // or renewed meanwhile): read them again then.
              reloadIdentity: async () => (await loadAgentIdentity(identityOptions)).identity,
            },
          }),
      logger,
    }).catch((error: unknown) => {
      // A reason the operator can fix (a port taken) is one line, not a stack trace.
      if (!isRelayError(error)) throw error;
      process.stderr.write(`kuberelay-agent: ${error.message}\n`);
      return undefined;
    });
  const stopped = untilStopSignal(logger, 'stopping (copies are left in place)').then(
    () => 'stopped' as const,
  );
  for (;;) {
    const agent = await start();
    if (agent === undefined) return 1;
    const outcome = await Promise.race([stopped, agent.leadershipLost]);
    await agent.stop();
    if (outcome === 'stopped') return 0;
    // The agent that lost the leadership has stopped every writer and its fence stays closed for
    // good; a new one (a new holder identity) stands by, as a restarted process would, without a
    // CrashLoopBackOff after every API server outage longer than the renew deadline.
    logger.warn({ reason: outcome }, 'lost the leadership; standing by again');
  }
}

runMain('kuberelay-agent', main);
