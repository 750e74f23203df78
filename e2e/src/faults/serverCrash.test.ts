import { KubeRest } from '@kuberelay/shared/kube';
import { describe, expect, it } from 'vitest';
import { MGMT, NAMESPACE } from '../demo/relayProcesses.js';
import { useFaultLab, waitFor } from './faultHarness.js';

// The fault suite's crash scenario (issue 9), with the real programs as processes: the server and
// an agent killed with SIGKILL, the server restarted under the same pod name while that agent stays
// dead. What is asserted is what an operator sees: `relayctl check`'s exit code and report,
// sampled every second, and the copies (and their UIDs) in the workload clusters.

const faults = useFaultLab();
const { check, sampleChecks, copyUids, kill } = faults;

describe('a server crash while an agent is dead', () => {
  it('is never reported connected or up to date, and recovers without losing or churning a copy', async () => {
    const before = await copyUids();
    expect(Object.values(before).every((uid) => uid !== undefined)).toBe(true);

    // Both die hard: no goodbye, no status written on the way out. The server first: killed
    // second, it could still see the agent's connection close and write "disconnected" itself
    // (one PATCH, a few ms), leaving its successor nothing to correct.
    await kill('mgmt-server');
    await kill('agent-cluster-2');
    const whileDown = await sampleChecks(new Promise((r) => setTimeout(r, 3_000)));

    // The server comes back under the same pod name; cluster-2's agent stays dead.
    const restartedAt = Date.now();
    faults.restarted('mgmt-server', faults.relay().startServer());
    const readyAfterMs = await waitFor(
      'the new server ready',
      60_000,
      async () =>
        (await fetch(`http://127.0.0.1:${faults.relay().serverHttpPort}/readyz`).catch(() => undefined))
          ?.ok === true,
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
    const status = await new KubeRest(faults.lab().kubeConfig(MGMT)).request<{
      status?: { connected?: boolean; conditions?: { type: string; reason: string }[] };
    }>({
      method: 'GET',
      path: `/apis/admin.gloo.solo.io/v2/namespaces/${NAMESPACE}/kubernetesclusters/cluster-2`,
    });
    expect(status.status?.connected).toBe(false);
    expect(status.status?.conditions?.find((c) => c.type === 'Connected')?.reason).toBe('ServerGone');
    // Nothing of the dead holder's stream is left standing: no replicas counted, no stream start.
    expect(status.status).toMatchObject({ connected: false, agentReplicas: 0, connectedSince: '' });

    // The agent comes back: everything converges, and nothing was lost or churned.
    const agentStartedAt = Date.now();
    faults.restarted('agent-cluster-2', faults.relay().startAgent('cluster-2'));
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

describe('a frozen server (SIGSTOP)', () => {
  it('is red in every check that starts while it is frozen, and recovers without losing or churning a copy', async () => {
    await waitFor('check green before the freeze', 60_000, async () => (await check()).code === 0);
    const before = await copyUids();
    const server = faults.process('mgmt-server');

    // Frozen, not dead: the sockets stay open and the Lease stays "fresh" until it expires, so
    // only check's own /readyz probe (2 s timeout) can tell.
    process.kill(server.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let whileFrozen: Awaited<ReturnType<typeof sampleChecks>>;
    try {
      whileFrozen = await sampleChecks(new Promise((r) => setTimeout(r, 15_000)));
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    const recoveredMs = await waitFor(
      'check green after SIGCONT',
      60_000,
      async () => (await check()).code === 0,
    );
    const after = await copyUids();

    const inFreeze = whileFrozen.filter((s) => s.startedAt >= stoppedAt && s.at <= resumedAt);
    const firstRed = whileFrozen.find((s) => s.code !== 0);
    process.stderr.write(
      `${[
        'faults: server frozen with SIGSTOP for 15 s',
        `  relayctl check samples started in the freeze: ${inFreeze.length}; exit 0 in ${inFreeze.filter((s) => s.code === 0).length}`,
        `  first red ${firstRed === undefined ? 'never' : `${firstRed.at - stoppedAt} ms`} after SIGSTOP; green again ${recoveredMs} ms after SIGCONT`,
        `  copies lost: ${Object.values(after).filter((uid) => uid === undefined).length}, churned (new UID): ${Object.keys(before).filter((k) => after[k] !== undefined && after[k] !== before[k]).length}`,
      ].join('\n')}\n`,
    );
    expect(inFreeze.length).toBeGreaterThan(0);
    expect(inFreeze.filter((s) => s.code === 0)).toEqual([]);
    expect(after).toEqual(before);
  }, 180_000);
});
