import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeRest } from '@kuberelay/shared/kube';
import { shippedNodeOptions } from '../deploy/chartValues.js';
import type { Lab } from '../lab/lab.js';
import { logTail } from '../lab/logLines.js';
import { repoRoot } from '../lab/paths.js';
import { freePort } from '../lab/ports.js';
import { type ManagedProcess, startProcess } from '../lab/processes.js';
import { grantAgentIdentity, grantServerIdentity } from '../support/relayIdentities.js';

const run = promisify(execFile);

/** More NODE_OPTIONS (a benchmark's --cpu-prof, say) after the chart's. */
function withNodeOptions(env: { NODE_OPTIONS: string }, extra: string | undefined): Record<string, string> {
  return extra === undefined ? env : { NODE_OPTIONS: `${env.NODE_OPTIONS} ${extra}`.trim() };
}

export const MGMT = 'mgmt';
export const NAMESPACE = 'gloo-mesh';

/** The built programs (run `pnpm build` first; ./dev demo does). */
export const bin = {
  server: join(repoRoot, 'mgmt-server', 'dist', 'main.js'),
  relayctl: join(repoRoot, 'mgmt-server', 'dist', 'relayctl', 'relayctl.js'),
  agent: join(repoRoot, 'agent', 'dist', 'main.js'),
} as const;

/** One server replica: its own process, pod name, ports and log. */
export interface ServerReplicaProcess {
  /** The process name: `mgmt-server` for the first replica, `mgmt-server-<i>` for the others. */
  readonly name: string;
  /** Its `--pod-name` (`mgmt-server-<i>`), what status.connectedPod and relayctl check name. */
  readonly pod: string;
  readonly grpcAddress: string;
  readonly httpPort: number;
}

export interface RelayProcesses {
  /** The first replica's gRPC address. */
  readonly serverAddress: string;
  /** The first replica's HTTP port. */
  readonly serverHttpPort: number;
  readonly servers: readonly ServerReplicaProcess[];
  readonly logDir: string;
  readonly processes: readonly ManagedProcess[];
  /** Starts a server replica (default the first) again with the same command line. */
  readonly startServer: (replica?: number) => ManagedProcess;
  /**
   * Starts a cluster's agent process again with the same command line and state file. `replica`
   * (default 0) starts another replica of that cluster's agent: its own pod name
   * `agent-<cluster>-<replica>`, process name `agent-<cluster>-<replica>` and state file, the
   * same credentials; the replicas elect their leader (docs/design.md "Agent replicas").
   */
  readonly startAgent: (cluster: string, options?: { readonly replica?: number }) => ManagedProcess;
}

/**
 * Starts the management server as a process, registers each workload cluster with `relayctl
 * register --remote-context` (which writes the agent's credentials Secret), and starts one agent
 * process per cluster reading that Secret: the same path a user follows. Processes die with us.
 * The server and the agents run with kubeconfigs of minted users that hold only the generated
 * RBAC (shared/src/rbac); relayctl, like the person who runs it, uses the lab's admin kubeconfig.
 */
export async function startRelayProcesses(options: {
  lab: Lab;
  labDir: string;
  workloads: readonly string[];
  onProgress: (message: string) => void;
  beforeRegister?: (cluster: string) => Promise<void>;
  /** More flags for the server (e.g. limits a benchmark must lift). */
  serverArgs?: readonly string[];
  /** Appended to the server's shipped NODE_OPTIONS (a benchmark's --cpu-prof, say). */
  serverNodeOptions?: string;
  /** Server replicas, each a process with its own pod name and ports (default 1). */
  serverReplicas?: number;
  /**
   * The server address relayctl register writes into the agents' credentials, from the replicas'
   * gRPC addresses (default: the first replica's); e.g. a balancer in front of all of them.
   */
  agentServerAddress?: (replicaAddresses: readonly string[]) => string;
}): Promise<RelayProcesses> {
  const { lab, labDir, onProgress: say } = options;
  const kubeconfig = lab.kubeconfigPath;
  const logDir = join(labDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const processes: ManagedProcess[] = [];

  const servers: ServerReplicaProcess[] = [];
  for (let i = 0; i < (options.serverReplicas ?? 1); i += 1) {
    servers.push({
      name: i === 0 ? 'mgmt-server' : `mgmt-server-${i}`,
      pod: `mgmt-server-${i}`,
      grpcAddress: `127.0.0.1:${await freePort()}`,
      httpPort: await freePort(),
    });
  }
  const first = servers[0];
  if (first === undefined) throw new Error('serverReplicas must be at least 1');
  const serverKubeconfig = await lab.writeIdentityKubeconfig(
    await grantServerIdentity({
      cluster: MGMT,
      admin: new KubeRest(lab.kubeConfig(MGMT)),
      namespace: NAMESPACE,
    }),
  );
  const startServer = (replica = 0) => {
    const server = servers[replica];
    if (server === undefined) throw new Error(`there is no server replica ${replica}`);
    return startProcess({
      name: server.name,
      command: process.execPath,
      args: [
        bin.server,
        `--kubeconfig=${serverKubeconfig}`,
        `--context=${MGMT}`,
        `--cluster-name=${MGMT}`,
        `--namespace=${NAMESPACE}`,
        `--grpc-listen=${server.grpcAddress}`,
        `--http-listen=127.0.0.1:${server.httpPort}`,
        `--pod-name=${server.pod}`,
        ...(options.serverArgs ?? []),
      ],
      logFile: join(logDir, `${server.name}.log`),
      pidFile: join(labDir, `${server.name}.pid`),
      lifetime: 'attached',
      env: withNodeOptions(shippedNodeOptions('mgmtServer'), options.serverNodeOptions),
    });
  };
  // All replicas at once, as a Deployment starts them.
  for (const [i, server] of servers.entries()) {
    say(
      `starting the management server ${server.pod} (gRPC ${server.grpcAddress}, HTTP 127.0.0.1:${server.httpPort}; log ${join(logDir, `${server.name}.log`)})`,
    );
    processes.push(startServer(i));
  }
  for (const [i, server] of servers.entries()) {
    const log = join(logDir, `${server.name}.log`);
    // A replica that exits (a port taken meanwhile, a bad flag) fails here at once with its log,
    // not after the full wait.
    await waitUntil(
      `the management server ${server.pod} to be ready`,
      60_000,
      async () => {
        if (processes[i]?.isRunning() === false) throw new Error(`${server.pod} exited`);
        return (
          (await fetch(`http://127.0.0.1:${server.httpPort}/readyz`).catch(() => undefined))?.ok === true
        );
      },
      say,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${server.pod}'s log:\n${logTail(log)}`);
    });
  }
  const serverAddress = first.grpcAddress;
  const agentServerAddress = options.agentServerAddress?.(servers.map((s) => s.grpcAddress)) ?? serverAddress;

  const agentKubeconfigs = new Map<string, string>();
  const startAgent = (cluster: string, startOptions: { readonly replica?: number } = {}) => {
    const replica = startOptions.replica ?? 0;
    // Replica 0 keeps the names it always had, so restarting it finds its state file.
    const name = replica === 0 ? `agent-${cluster}` : `agent-${cluster}-${replica}`;
    const logFile = join(logDir, `${name}.log`);
    return startProcess({
      name,
      command: process.execPath,
      args: [
        bin.agent,
        `--kubeconfig=${agentKubeconfigs.get(cluster) ?? ''}`,
        `--context=${cluster}`,
        `--state-file=${join(labDir, name, 'state.json')}`,
        '--http-listen=127.0.0.1:0',
        `--pod-name=agent-${cluster}-${replica}`,
      ],
      logFile,
      pidFile: join(labDir, `${name}.pid`),
      lifetime: 'attached',
      env: shippedNodeOptions('agent'),
    });
  };
  for (const cluster of options.workloads) {
    await options.beforeRegister?.(cluster);
    say(`${cluster}: relayctl register ${cluster} --kubecontext ${MGMT} --remote-context ${cluster}`);
    await relayctl(
      [
        'register',
        cluster,
        `--kubeconfig=${kubeconfig}`,
        `--kubecontext=${MGMT}`,
        `--remote-context=${cluster}`,
        `--server=${agentServerAddress}`,
        `--mgmt-cluster=${MGMT}`,
      ],
      say,
    );
    agentKubeconfigs.set(
      cluster,
      await lab.writeIdentityKubeconfig(
        await grantAgentIdentity({
          cluster,
          admin: new KubeRest(lab.kubeConfig(cluster)),
          namespace: NAMESPACE,
        }),
      ),
    );
    say(`${cluster}: starting the agent (log ${join(logDir, `agent-${cluster}.log`)})`);
    processes.push(startAgent(cluster));
  }
  return {
    serverAddress,
    serverHttpPort: first.httpPort,
    servers,
    logDir,
    processes,
    startServer,
    startAgent,
  };
}

/** bin/relayctl: what a user runs, from any terminal (it finds the project's Node itself). */
export const relayctlCommand = join(repoRoot, 'bin', 'relayctl');

/**
 * Runs the built relayctl (or, with `viaWrapper`, bin/relayctl, as a user types it) and returns
 * its stdout; its stderr (progress) goes to `say`.
 */
export async function relayctl(
  args: readonly string[],
  say: (m: string) => void,
  options: { viaWrapper?: boolean } = {},
): Promise<string> {
  const [file, argv] = options.viaWrapper
    ? [relayctlCommand, args]
    : [process.execPath, [bin.relayctl, ...args]];
  try {
    const { stdout, stderr } = await run(file, argv, { maxBuffer: 8 << 20 });
    if (stderr.trim()) for (const line of stderr.trimEnd().split('\n')) say(`  ${line}`);
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    // `check` exits non-zero when something is not connected: its report is still the answer.
    if (args[0] === 'check' && e.stdout) return e.stdout;
    throw new Error(`relayctl ${args[0]} failed (exit ${e.code}): ${e.stderr?.trim() ?? ''}`);
  }
}

/** Polls `check`; says every 5 s what it is waiting for; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  say: (m: string) => void = () => {},
): Promise<void> {
  const start = Date.now();
  let reported = start;
  while (!(await check())) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
    if (Date.now() - reported > 5_000) {
      reported = Date.now();
      say(`waiting for ${what} (${Math.round((Date.now() - start) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
