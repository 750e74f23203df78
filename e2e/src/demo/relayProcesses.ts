import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeRest } from '@kuberelay/shared/kube';
import { parseAllDocuments } from 'yaml';
import type { Lab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import { freePort } from '../lab/ports.js';
import { type ManagedProcess, startProcess } from '../lab/processes.js';
import { grantAgentIdentity, grantServerIdentity } from '../support/relayIdentities.js';

const run = promisify(execFile);

/**
 * NODE_OPTIONS as the shipped Deployment sets it (the heap cap below the container's memory
 * limit), so the programs run here as they run in a cluster and memory figures mean the same.
 */
function shippedNodeOptions(manifest: 'mgmt-server.yaml' | 'agent.yaml'): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'deploy', 'manifests', manifest), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const object = doc.toJSON() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    } | null;
    if (object?.kind !== 'Deployment') continue;
    const value = object.spec?.template?.spec?.containers?.[0]?.env?.find(
      (e) => e.name === 'NODE_OPTIONS',
    )?.value;
    if (value !== undefined) return { NODE_OPTIONS: value };
  }
  throw new Error(`deploy/manifests/${manifest} sets no NODE_OPTIONS on its Deployment`);
}

export const MGMT = 'mgmt';
export const NAMESPACE = 'gloo-mesh';

/** The built programs (run `pnpm build` first; ./dev demo does). */
export const bin = {
  server: join(repoRoot, 'mgmt-server', 'dist', 'main.js'),
  relayctl: join(repoRoot, 'mgmt-server', 'dist', 'relayctl', 'relayctl.js'),
  agent: join(repoRoot, 'agent', 'dist', 'main.js'),
} as const;

export interface RelayProcesses {
  readonly serverAddress: string;
  readonly serverHttpPort: number;
  readonly logDir: string;
  readonly processes: readonly ManagedProcess[];
  /** Starts the server process again with the same command line (after a crash or a stop). */
  readonly startServer: () => ManagedProcess;
  /** Starts a cluster's agent process again with the same command line and state file. */
  readonly startAgent: (cluster: string) => ManagedProcess;
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
}): Promise<RelayProcesses> {
  const { lab, labDir, onProgress: say } = options;
  const kubeconfig = lab.kubeconfigPath;
  const logDir = join(labDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const processes: ManagedProcess[] = [];

  const grpcPort = await freePort();
  const serverHttpPort = await freePort();
  const serverAddress = `127.0.0.1:${grpcPort}`;
  const serverKubeconfig = await lab.writeIdentityKubeconfig(
    await grantServerIdentity({
      cluster: MGMT,
      admin: new KubeRest(lab.kubeConfig(MGMT)),
      namespace: NAMESPACE,
    }),
  );
  say(
    `starting the management server (gRPC ${serverAddress}, HTTP 127.0.0.1:${serverHttpPort}; log ${join(logDir, 'mgmt-server.log')})`,
  );
  const startServer = () =>
    startProcess({
      name: 'mgmt-server',
      command: process.execPath,
      args: [
        bin.server,
        `--kubeconfig=${serverKubeconfig}`,
        `--context=${MGMT}`,
        `--cluster-name=${MGMT}`,
        `--namespace=${NAMESPACE}`,
        `--grpc-listen=${serverAddress}`,
        `--http-listen=127.0.0.1:${serverHttpPort}`,
        '--pod-name=mgmt-server-0',
        ...(options.serverArgs ?? []),
      ],
      logFile: join(logDir, 'mgmt-server.log'),
      pidFile: join(labDir, 'mgmt-server.pid'),
      lifetime: 'attached',
      env: shippedNodeOptions('mgmt-server.yaml'),
    });
  processes.push(startServer());
  await waitUntil(
    'the management server to be ready',
    60_000,
    async () =>
      (await fetch(`http://127.0.0.1:${serverHttpPort}/readyz`).catch(() => undefined))?.ok === true,
    say,
  );

  const agentKubeconfigs = new Map<string, string>();
  const startAgent = (cluster: string) => {
    const logFile = join(logDir, `agent-${cluster}.log`);
    return startProcess({
      name: `agent-${cluster}`,
      command: process.execPath,
      args: [
        bin.agent,
        `--kubeconfig=${agentKubeconfigs.get(cluster) ?? ''}`,
        `--context=${cluster}`,
        `--state-file=${join(labDir, `agent-${cluster}`, 'state.json')}`,
        '--http-listen=127.0.0.1:0',
        `--pod-name=agent-${cluster}-0`,
      ],
      logFile,
      pidFile: join(labDir, `agent-${cluster}.pid`),
      lifetime: 'attached',
      env: shippedNodeOptions('agent.yaml'),
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
        `--server=${serverAddress}`,
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
  return { serverAddress, serverHttpPort, logDir, processes, startServer, startAgent };
}

/** Runs the built relayctl and returns its stdout; its stderr (progress) goes to `say`. */
export async function relayctl(args: readonly string[], say: (m: string) => void): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin.relayctl, ...args], { maxBuffer: 8 << 20 });
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
