import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConflict, isNotFound, KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, inject } from 'vitest';
import { bin, MGMT, NAMESPACE, type RelayProcesses, startRelayProcesses } from '../demo/relayProcesses.js';
import { attachLab, type Lab } from '../lab/lab.js';
import type { ManagedProcess } from '../lab/processes.js';
import { referenceExample } from '../support/examples.js';
import { createOrReplace, type Obj, pathOf } from '../support/objects.js';

// What every fault scenario (issue 9) stands on: the real programs as processes (the server and
// one agent per workload cluster, started the way a user starts them), the reference example
// distributed, and what an operator looks at: `relayctl check`'s exit code and report, and the
// copies (and their UIDs) in the workload clusters.

export const WORKLOADS = ['cluster-1', 'cluster-2'] as const;

export const say = (m: string) => {
  if (process.env.FAULTS_DEBUG) process.stderr.write(`faults: ${m}\n`);
};

export interface CheckSample {
  /** When the run started, and when it ended (epoch ms). */
  readonly startedAt: number;
  readonly at: number;
  readonly code: number;
  readonly connected: Readonly<Record<string, boolean>>;
  /** The replica each cluster's status names (`<namespace>/<pod>`; null: none). */
  readonly connectedPod: Readonly<Record<string, string | null>>;
  /** The report's "Connected Pod | Clusters" rows. */
  readonly connectedPods: readonly { readonly pod: string; readonly clusters: readonly string[] }[];
}

/** A copy in a workload cluster, as the API server holds it. */
export interface LiveCopy {
  readonly uid: string;
  readonly resourceVersion: string;
}

/** What useFaultLab starts; the defaults are one server replica dialed directly. */
export interface FaultLabOptions {
  readonly serverReplicas?: number;
  /** The address agents dial, from the replicas' addresses (e.g. a balancer in front of them). */
  readonly agentServerAddress?: (replicaAddresses: readonly string[]) => string;
}

export interface FaultLab {
  readonly lab: () => Lab;
  readonly relay: () => RelayProcesses;
  /** One `relayctl check -o json`, as a user or a pipeline runs it. */
  check(): Promise<CheckSample>;
  /** Samples `check` once a second until `until` resolves. */
  sampleChecks(until: Promise<unknown>): Promise<CheckSample[]>;
  /** UID of every copy of the reference example in every workload cluster (undefined: missing). */
  copyUids(): Promise<Record<string, string | undefined>>;
  /** UID and resourceVersion of every copy of the reference example (undefined: missing). */
  copies(): Promise<Record<string, LiveCopy | undefined>>;
  /** SIGKILL: no goodbye, no status written on the way out. Resolves when the process is gone. */
  kill(name: string): Promise<unknown>;
  /**
   * The process running under `name` now (the server is `mgmt-server`, further replicas
   * `mgmt-server-<i>`, agents `agent-<cluster>`).
   */
  process(name: string): ManagedProcess;
  /** Records a process started again (relay().startServer() / startAgent()). */
  restarted(name: string, proc: ManagedProcess): void;
}

/** Polls `ok` every 100 ms; resolves with the milliseconds it took. */
export async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await ok())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

const copyPath = (source: Obj, namespace: string) =>
  pathOf({ ...source, namespace, name: source.metadata.name });
const { gateway, upstream, route } = referenceExample();
const COPIES: readonly [Obj, string][] = [
  [gateway, 'gloo-system'],
  [upstream, 'httpbin'],
  [route, 'httpbin'],
];

/** Creating a namespace that another test file created already is fine; anything else is not. */
function ignoreExisting(error: unknown): void {
  if (!isConflict(error)) throw error;
}

/**
 * Registers the file's beforeAll (processes started, the reference example applied everywhere,
 * check green) and afterAll (sources deleted, copies pruned, processes stopped).
 */
export function useFaultLab(options: FaultLabOptions = {}): FaultLab {
  let lab: Lab | undefined;
  let relay: RelayProcesses | undefined;
  const running = new Map<string, ManagedProcess>();
  const theLab = () => {
    if (lab === undefined) throw new Error('the fault lab is not set up (beforeAll has not run)');
    return lab;
  };
  const theRelay = () => {
    if (relay === undefined) throw new Error('the relay processes are not started');
    return relay;
  };

  const check = (): Promise<CheckSample> =>
    new Promise((resolve, reject) => {
      const startedAt = Date.now();
      execFile(
        process.execPath,
        [
          bin.relayctl,
          'check',
          `--kubeconfig=${theLab().kubeconfigPath}`,
          `--kubecontext=${MGMT}`,
          '-n',
          NAMESPACE,
          '-o',
          'json',
        ],
        { maxBuffer: 8 << 20 },
        (error, stdout) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          try {
            const report = JSON.parse(stdout) as {
              clusters: { name: string; connected: boolean; connectedPod: string | null }[];
              connectedPods: { pod: string; clusters: string[] }[];
            };
            resolve({
              startedAt,
              at: Date.now(),
              code,
              connected: Object.fromEntries(report.clusters.map((c) => [c.name, c.connected])),
              connectedPod: Object.fromEntries(report.clusters.map((c) => [c.name, c.connectedPod])),
              connectedPods: report.connectedPods,
            });
          } catch {
            reject(new Error(`relayctl check printed no report (exit ${code}): ${stdout}`));
          }
        },
      );
    });

  const sampleChecks = async (until: Promise<unknown>): Promise<CheckSample[]> => {
    const samples: CheckSample[] = [];
    let done = false;
    void until.finally(() => {
      done = true;
    });
    while (!done) {
      const started = Date.now();
      samples.push(await check());
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
    }
    return samples;
  };

  const copies = async (): Promise<Record<string, LiveCopy | undefined>> => {
    const found: Record<string, LiveCopy | undefined> = {};
    for (const cluster of WORKLOADS) {
      const rest = new KubeRest(theLab().kubeConfig(cluster));
      for (const [source, namespace] of COPIES) {
        const live = await rest
          .request<{ metadata: LiveCopy }>({ method: 'GET', path: copyPath(source, namespace) })
          .catch(() => undefined);
        found[`${cluster} ${source.kind}`] =
          live === undefined
            ? undefined
            : { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion };
      }
    }
    return found;
  };
  const copyUids = async (): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(Object.entries(await copies()).map(([key, copy]) => [key, copy?.uid]));

  const processNamed = (name: string): ManagedProcess => {
    const proc = running.get(name);
    if (proc === undefined) throw new Error(`${name} is not running`);
    return proc;
  };

  beforeAll(async () => {
    lab = attachLab(inject('labDir'));
    for (const cluster of WORKLOADS) {
      const rest = new KubeRest(lab.kubeConfig(cluster));
      for (const name of ['gloo-system', 'httpbin']) {
        await rest
          .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } })
          .catch(ignoreExisting);
      }
    }
    const labDir = await mkdtemp(join(tmpdir(), 'kuberelay-faults-'));
    relay = await startRelayProcesses({
      lab,
      labDir,
      workloads: WORKLOADS,
      onProgress: say,
      serverReplicas: options.serverReplicas,
      agentServerAddress: options.agentServerAddress,
    });
    for (const proc of relay.processes) running.set(proc.name, proc);
    const mgmt = new KubeRest(lab.kubeConfig(MGMT));
    await mgmt
      .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: NAMESPACE } } })
      .catch(ignoreExisting);
    for (const source of [gateway, upstream, route]) await createOrReplace(mgmt, source);
    await waitFor('every cluster connected and up to date', 60_000, async () => (await check()).code === 0);
  }, 180_000);

  afterAll(async () => {
    if (lab === undefined) return;
    // Sources deleted while everything runs, so the agents prune their copies and the next test
    // file starts from clean workload clusters.
    const mgmt = new KubeRest(lab.kubeConfig(MGMT));
    // Not swallowed: a source left behind collides with the same example in a later test file.
    try {
      for (const source of [route, upstream, gateway]) {
        const path = pathOf({ ...source, namespace: source.metadata.namespace, name: source.metadata.name });
        await mgmt.request({ method: 'DELETE', path }).catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
      await waitFor('the copies pruned', 30_000, async () =>
        Object.values(await copyUids()).every((uid) => uid === undefined),
      );
    } finally {
      for (const proc of running.values()) await proc.stop();
    }
  }, 120_000);

  return {
    lab: theLab,
    relay: theRelay,
    check,
    sampleChecks,
    copyUids,
    copies,
    kill: (name) => {
      const proc = processNamed(name);
      process.kill(proc.pid, 'SIGKILL');
      running.delete(name);
      return proc.exited;
    },
    process: processNamed,
    restarted: (name, proc) => {
      running.set(name, proc);
    },
  };
}
