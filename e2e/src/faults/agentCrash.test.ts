import { readFileSync } from 'node:fs';
import { isConflict, isNotFound, KubeRest } from '@kuberelay/shared/kube';
import { beforeAll, describe, expect, it } from 'vitest';
import { MGMT } from '../demo/relayProcesses.js';
import { memoryLimitMiB } from '../deploy/chartValues.js';
import { upstream } from '../support/examples.js';
import { inParallel } from '../support/inParallel.js';
import { say, useFaultLab, waitFor } from './faultHarness.js';

// The fault suite's agent scenarios (issue 9) with the real programs as processes, the agent run
// with the shipped NODE_OPTIONS: a burst of 1,000 sources, the agent killed with SIGKILL while it
// applies them, every source deleted while it is down, then the agent restarted. Before the
// inventory was rebuilt from the workload cluster, copies created but not yet in the state file
// stayed forever while status said up to date. Nothing may be left, and the agent's memory must
// stay within the Deployment's 512Mi limit throughout.

const faults = useFaultLab();
const SOURCES = 1_000;
const BURST_NS = 'faults-burst';
/** The agent's memory limit in the chart's default values. */
const AGENT_MEMORY_LIMIT_MIB = memoryLimitMiB('agent');
const upstreams = (ns: string) => `/apis/gloo.solo.io/v1/namespaces/${ns}/upstreams`;

/** Resident memory of a process in MiB, from /proc, as the kernel's OOM killer counts it. */
function rssMiB(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line?.[1] === undefined ? 0 : Number(line[1]) / 1024;
}

/** Samples an agent's RSS every 250 ms until stopped; the peak over every process sampled. */
function rssSampler(pidOf: () => number | undefined) {
  let peak = 0;
  const timer = setInterval(() => {
    const pid = pidOf();
    if (pid === undefined) return;
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // Between a kill and the restart there is no process to read.
    }
  }, 250);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

async function copyCount(rest: KubeRest): Promise<number> {
  const list = await rest.request<{ items: unknown[] }>({ method: 'GET', path: upstreams(BURST_NS) });
  return list.items.length;
}

async function createBurst(mgmt: KubeRest): Promise<void> {
  const names = Array.from({ length: SOURCES }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
  await inParallel(names, 16, (name) =>
    mgmt.request({
      method: 'POST',
      path: upstreams(BURST_NS),
      body: upstream(name, `cluster-1/${BURST_NS}`, { namespace: BURST_NS }),
    }),
  );
}

async function deleteBurst(mgmt: KubeRest): Promise<void> {
  await mgmt.request({ method: 'DELETE', path: upstreams(BURST_NS) });
  await waitFor('the sources gone', 60_000, async () => {
    const left = await mgmt.request<{ items: unknown[] }>({ method: 'GET', path: upstreams(BURST_NS) });
    return left.items.length === 0;
  });
}

const rests = () => ({
  mgmt: new KubeRest(faults.lab().kubeConfig(MGMT)),
  workload: new KubeRest(faults.lab().kubeConfig('cluster-1')),
});

beforeAll(async () => {
  const { mgmt, workload } = rests();
  for (const rest of [mgmt, workload]) {
    await rest
      .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: BURST_NS } } })
      .catch((error: unknown) => {
        if (!isConflict(error)) throw error;
      });
  }
});

describe('a burst of 1,000 sources', () => {
  it('is applied and pruned with the agent within its memory limit, and nothing is left', async () => {
    const { mgmt, workload } = rests();
    const rss = rssSampler(() => faults.process('agent-cluster-1').pid);
    const startedAt = Date.now();
    await createBurst(mgmt);
    const appliedMs = await waitFor(
      'every copy of the burst applied',
      180_000,
      async () => (await copyCount(workload)) === SOURCES,
    );
    const appliedAt = Date.now();
    await waitFor('check green with the burst', 60_000, async () => (await faults.check()).code === 0);
    await deleteBurst(mgmt);
    const deletedAt = Date.now();
    await waitFor('every copy of the burst pruned', 180_000, async () => (await copyCount(workload)) === 0);
    const prunedMs = Date.now() - deletedAt;
    const peakMiB = rss.stop();
    const afterMiB = rssMiB(faults.process('agent-cluster-1').pid);
    process.stderr.write(
      `${[
        `faults: a burst of ${SOURCES} sources for one cluster`,
        `  all ${SOURCES} copies applied ${appliedAt - startedAt} ms after the first create (${appliedMs} ms after the last); all pruned ${prunedMs} ms after the delete`,
        `  agent RSS peak ${peakMiB.toFixed(0)} MiB, ${afterMiB.toFixed(0)} MiB after (limit ${AGENT_MEMORY_LIMIT_MIB} MiB, NODE_OPTIONS from the chart's values)`,
      ].join('\n')}\n`,
    );
    expect(await copyCount(workload)).toBe(0);
    expect(peakMiB).toBeGreaterThan(0);
    expect(peakMiB).toBeLessThan(AGENT_MEMORY_LIMIT_MIB);
  }, 420_000);
});

describe('an agent killed while it applies a burst of 1,000 sources, deleted while it is down', () => {
  it('leaves no copy behind once it is back', async () => {
    const { mgmt, workload } = rests();
    let agentPid: number | undefined = faults.process('agent-cluster-1').pid;
    const rss = rssSampler(() => agentPid);

    const createdAt = Date.now();
    const creating = createBurst(mgmt);
    // Killed mid-apply: some copies exist, most do not.
    await waitFor(
      'the agent to start applying the burst',
      120_000,
      async () => (await copyCount(workload)) >= 50,
    );
    await faults.kill('agent-cluster-1');
    agentPid = undefined;
    const copiesAtKill = await copyCount(workload);
    await creating;
    const createdMs = Date.now() - createdAt;

    // Every source goes while the agent is down.
    await deleteBurst(mgmt);
    const copiesWhileDown = await copyCount(workload);

    const restartedAt = Date.now();
    const agent = faults.relay().startAgent('cluster-1');
    faults.restarted('agent-cluster-1', agent);
    agentPid = agent.pid;
    const prunedMs = await waitFor(
      'every copy of the burst pruned',
      120_000,
      async () => (await copyCount(workload)) === 0,
    );
    const greenMs = await waitFor('check green', 60_000, async () => (await faults.check()).code === 0);
    const peakMiB = rss.stop();

    process.stderr.write(
      `${[
        `faults: agent SIGKILL while applying ${SOURCES} sources (created in ${createdMs} ms), all deleted while it was down`,
        `  copies when killed: ${copiesAtKill}; still there while it was down: ${copiesWhileDown}`,
        `  after its restart: copies left 0 in ${prunedMs} ms; relayctl check green ${greenMs} ms after that (${Date.now() - restartedAt} ms after the restart)`,
        `  agent peak RSS ${peakMiB.toFixed(0)} MiB (limit ${AGENT_MEMORY_LIMIT_MIB} MiB)`,
      ].join('\n')}\n`,
    );
    // The scenario really happened: killed with copies made and not all of them.
    expect(copiesAtKill).toBeGreaterThan(0);
    expect(copiesAtKill).toBeLessThan(SOURCES);
    expect(copiesWhileDown).toBeGreaterThan(0);
    expect(await copyCount(workload)).toBe(0);
    expect(peakMiB).toBeGreaterThan(0);
    expect(peakMiB).toBeLessThan(AGENT_MEMORY_LIMIT_MIB);
    // The namespace of the reference example's copies is untouched by the burst.
    expect(Object.values(await faults.copyUids()).every((uid) => uid !== undefined)).toBe(true);
  }, 400_000);
});

describe("a source deleted while its copy's workload API server is down, and the agent killed meanwhile", () => {
  it('is never reported up to date while the copy stays, and the copy goes once the API is back', async () => {
    const { mgmt } = rests();
    const workload = new KubeRest(faults.lab().kubeConfig('cluster-2'));
    const source = upstream('outage-upstream', 'cluster-2/httpbin', { namespace: 'gloo-mesh' });
    const copyPath = '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/outage-upstream';
    await mgmt.request({ method: 'POST', path: upstreams('gloo-mesh'), body: source });
    await waitFor('the copy in cluster-2', 60_000, async () =>
      workload.request({ method: 'GET', path: copyPath }).then(
        () => true,
        () => false,
      ),
    );
    await waitFor('check green with the copy', 60_000, async () => (await faults.check()).code === 0);

    await faults.lab().stopApiServer('cluster-2');
    let outage: Awaited<ReturnType<typeof faults.sampleChecks>> = [];
    try {
      await mgmt.request({ method: 'DELETE', path: `${upstreams('gloo-mesh')}/outage-upstream` });
      const deletedAt = Date.now();
      outage = await faults.sampleChecks(new Promise((r) => setTimeout(r, 12_000)));
      // The agent dies too, with its failed delete in memory only (the state file keeps it).
      await faults.kill('agent-cluster-2');
      outage = [...outage, ...(await faults.sampleChecks(new Promise((r) => setTimeout(r, 3_000))))];
      outage = outage.filter((s) => s.startedAt >= deletedAt + 5_000);
    } finally {
      await faults.lab().startApiServer('cluster-2', { onProgress: say });
    }
    const backAt = Date.now();
    faults.restarted('agent-cluster-2', faults.relay().startAgent('cluster-2'));
    const goneMs = await waitFor('the copy pruned once the API is back', 60_000, async () =>
      workload.request({ method: 'GET', path: copyPath }).then(
        () => false,
        (error: unknown) => isNotFound(error),
      ),
    );
    const greenMs = await waitFor('check green', 60_000, async () => (await faults.check()).code === 0);
    process.stderr.write(
      `${[
        "faults: source deleted during cluster-2's API outage, its agent killed meanwhile",
        `  relayctl check samples during the outage (from 5 s after the delete): ${outage.length}; exit 0 in ${outage.filter((s) => s.code === 0).length}`,
        `  after the API server and the agent were back: copy pruned in ${goneMs} ms, check green ${greenMs} ms later (${Date.now() - backAt} ms in all)`,
      ].join('\n')}\n`,
    );
    expect(outage.length).toBeGreaterThan(0);
    expect(outage.filter((s) => s.code === 0)).toEqual([]);
    expect(Object.values(await faults.copyUids()).every((uid) => uid !== undefined)).toBe(true);
  }, 240_000);
});
