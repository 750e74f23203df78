import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConflict, isNotFound, KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, MGMT, NAMESPACE, type RelayProcesses, startRelayProcesses } from '../demo/relayProcesses.js';
import { attachLab, type Lab } from '../lab/lab.js';
import type { ManagedProcess } from '../lab/processes.js';
import { referenceExample } from '../support/examples.js';
import { createOrReplace, type Obj, pathOf } from '../support/objects.js';

// The fault suite's crash scenarios (issue 9), with the real programs as processes: the server and
// an agent killed with SIGKILL, the server restarted under the same pod name while that agent stays
// dead. What is asserted is what an operator sees: `relayctl check`'s exit code and report,
// sampled every second, and the copies (and their UIDs) in the workload clusters.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
let lab: Lab;
let relay: RelayProcesses;
const running = new Map<string, ManagedProcess>();
const say = (m: string) => {
  if (process.env.FAULTS_DEBUG) process.stderr.write(`faults: ${m}\n`);
};

interface CheckSample {
  readonly at: number;
  readonly code: number;
  readonly connected: Readonly<Record<string, boolean>>;
}

/** One `relayctl check -o json`, as a user or a pipeline runs it. */
function check(): Promise<CheckSample> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        bin.relayctl,
        'check',
        `--kubeconfig=${lab.kubeconfigPath}`,
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
          const report = JSON.parse(stdout) as { clusters: { name: string; connected: boolean }[] };
          resolve({
            at: Date.now(),
            code,
            connected: Object.fromEntries(report.clusters.map((c) => [c.name, c.connected])),
          });
        } catch {
          reject(new Error(`relayctl check printed no report (exit ${code}): ${stdout}`));
        }
      },
    );
  });
}

/** Samples `check` once a second until `until` resolves. */
async function sampleChecks(until: Promise<unknown>): Promise<CheckSample[]> {
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
}

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<number> {
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

/** UID of every copy in every workload cluster (undefined: missing). */
async function copyUids(): Promise<Record<string, string | undefined>> {
  const uids: Record<string, string | undefined> = {};
  for (const cluster of WORKLOADS) {
    const rest = new KubeRest(lab.kubeConfig(cluster));
    for (const [source, namespace] of COPIES) {
      const live = await rest
        .request<{ metadata: { uid: string } }>({ method: 'GET', path: copyPath(source, namespace) })
        .catch(() => undefined);
      uids[`${cluster} ${source.kind}`] = live?.metadata.uid;
    }
  }
  return uids;
}

/** Creating a namespace that another test file created already is fine; anything else is not. */
function ignoreExisting(error: unknown): void {
  if (!isConflict(error)) throw error;
}

function kill(name: string): Promise<unknown> {
  const proc = running.get(name);
  if (proc === undefined) throw new Error(`${name} is not running`);
  process.kill(proc.pid, 'SIGKILL');
  running.delete(name);
  return proc.exited;
}

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
  relay = await startRelayProcesses({ lab, labDir, workloads: WORKLOADS, onProgress: say });
  for (const proc of relay.processes) running.set(proc.name, proc);
  const mgmt = new KubeRest(lab.kubeConfig(MGMT));
  await mgmt
    .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: NAMESPACE } } })
    .catch(ignoreExisting);
  for (const source of [gateway, upstream, route]) await createOrReplace(mgmt, source);
  await waitFor('every cluster connected and up to date', 60_000, async () => (await check()).code === 0);
}, 180_000);

afterAll(async () => {
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

describe('a server crash while an agent is dead', () => {
  it('is never reported connected or up to date, and recovers without losing or churning a copy', async () => {
    const before = await copyUids();
    expect(Object.values(before).every((uid) => uid !== undefined)).toBe(true);

    // Both die hard: no goodbye, no status written on the way out.
    await kill('agent-cluster-2');
    await kill('mgmt-server');
    const whileDown = await sampleChecks(new Promise((r) => setTimeout(r, 3_000)));

    // The server comes back under the same pod name; cluster-2's agent stays dead.
    const restartedAt = Date.now();
    const server = relay.startServer();
    running.set('mgmt-server', server);
    const readyAfterMs = await waitFor(
      'the new server ready',
      60_000,
      async () =>
        (await fetch(`http://127.0.0.1:${relay.serverHttpPort}/readyz`).catch(() => undefined))?.ok === true,
    );
    const readyAt = Date.now();
    let cluster1Back = 0;
    const afterRestart = await sampleChecks(
      waitFor('cluster-1 connected to the new server', 30_000, async () => {
        const sample = await check();
        if (sample.connected['cluster-1'] === true && cluster1Back === 0) cluster1Back = Date.now();
        return cluster1Back !== 0;
      }).then(() => new Promise((r) => setTimeout(r, 12_000))),
    );

    // The server itself corrected what its predecessor left: the status says disconnected.
    const status = await new KubeRest(lab.kubeConfig(MGMT)).request<{
      status?: { connected?: boolean; conditions?: { type: string; reason: string }[] };
    }>({
      method: 'GET',
      path: `/apis/admin.gloo.solo.io/v2/namespaces/${NAMESPACE}/kubernetesclusters/cluster-2`,
    });
    expect(status.status?.connected).toBe(false);
    expect(status.status?.conditions?.find((c) => c.type === 'Connected')?.reason).toBe('ServerGone');

    // The agent comes back: everything converges, and nothing was lost or churned.
    const agentStartedAt = Date.now();
    running.set('agent-cluster-2', relay.startAgent('cluster-2'));
    const convergedMs = await waitFor('check green again', 30_000, async () => (await check()).code === 0);
    const after = await copyUids();

    const lies = [...whileDown, ...afterRestart].filter(
      (s) => s.code === 0 || s.connected['cluster-2'] === true,
    );
    // The figures the issue asks for, printed with the run (not asserted: a slow machine is slow).
    process.stderr.write(
      `${[
        'faults: server SIGKILL + restart with a dead agent',
        `  relayctl check samples: ${whileDown.length} while the server was down, ${afterRestart.length} after its restart; exit 0 or cluster-2 "connected" in ${lies.length} of them`,
        `  server ready ${readyAfterMs} ms after its start; cluster-1 shown connected ${cluster1Back - readyAt} ms after ready`,
        `  cluster-2's agent restarted: check green ${convergedMs} ms later`,
        `  copies lost: ${Object.values(after).filter((uid) => uid === undefined).length}, churned (new UID): ${Object.keys(before).filter((k) => after[k] !== undefined && after[k] !== before[k]).length}`,
      ].join('\n')}\n`,
    );
    expect(restartedAt).toBeLessThan(agentStartedAt);
    expect(lies).toEqual([]);
    expect(whileDown.length).toBeGreaterThan(0);
    expect(afterRestart.length).toBeGreaterThan(0);
    expect(after).toEqual(before);
  }, 240_000);
});
