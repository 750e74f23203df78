import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  createKubernetesCluster,
  createNamespace,
  createRelayCa,
  decode,
  getJson,
  relayctl,
  rest,
  type Secret,
  unique,
  writeClusterStatus,
  writeServerLease,
} from './harness.js';

// relayctl check against the lab: the server's presence Lease, KubernetesCluster statuses and the
// rejected-agents ConfigMap are written here the way the management server writes them.

let lab: Lab;
let mgmt: KubeRest;
let readyz: Server;
let readyzAddress: string;
beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
  // A stand-in for the server's HTTP port, so check can probe /readyz.
  readyz = createServer((req, res) => {
    res.statusCode = req.url === '/readyz' ? 200 : 404;
    res.end('ok');
  });
  await new Promise<void>((resolve) => readyz.listen(0, '127.0.0.1', resolve));
  readyzAddress = `127.0.0.1:${(readyz.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => readyz.close(resolve));
});

const POD = 'kuberelay-mgmt-server-5c7d9-x2k4q';
const now = () => new Date().toISOString();

describe('relayctl check', () => {
  it('reports a down server (no Lease) in red and exits non-zero', async () => {
    const ns = unique('rctl-check');
    await createNamespace(mgmt, ns);
    const r = await relayctl(lab, ['check', '--kubecontext', 'mgmt', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('🔴 Mgmt server\n');
    expect(r.out).toContain(
      `🔴 no management server is running: no Lease kuberelay-mgmt-server-* in namespace ${ns}`,
    );
    expect(r.out).toContain('🟡 no workload clusters are registered; run relayctl register');
  });

  it('reports a stale Lease as a server that is down', async () => {
    const ns = unique('rctl-check');
    await createNamespace(mgmt, ns);
    await writeServerLease(mgmt, { namespace: ns, pod: 'gone', renewTime: new Date(Date.now() - 120_000) });
    const r = await relayctl(lab, ['check', '--kubecontext', 'mgmt', '-n', ns, '-o', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as {
      ok: boolean;
      server: { health: string; replicas: { fresh: boolean }[] };
    };
    expect(report.ok).toBe(false);
    expect(report.server.health).toBe('error');
    expect(report.server.replicas.map((x) => x.fresh)).toEqual([false]);
  });

  it('shows connected and disconnected clusters, laggards and refused agents; exit code follows connectivity', async () => {
    const ns = unique('rctl-check');
    await createNamespace(mgmt, ns);
    await writeServerLease(mgmt, {
      namespace: ns,
      pod: POD,
      renewTime: new Date(),
      grpcAddress: 'relay.example:9900',
      httpAddress: readyzAddress,
      mgmtCluster: 'mgmt',
    });
    // The relay CA the server creates at its first start: register needs it.
    await createRelayCa(mgmt, ns);
    // cluster-1 registered through relayctl (so a real bootstrap token exists somewhere to leak),
    // cluster-2 by hand.
    const agentNs = unique('rctl-agent');
    const reg = await relayctl(lab, [
      'register',
      'cluster-1',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--remote-context',
      'cluster-1',
      '--remote-namespace',
      agentNs,
    ]);
    expect(reg.code).toBe(0);
    const token = decode(
      await getJson<Secret>(
        rest(lab, 'cluster-1'),
        `/api/v1/namespaces/${agentNs}/secrets/kuberelay-agent-credentials`,
      ),
      'bootstrapToken',
    );
    expect(token).toMatch(/^krb_/);
    await createKubernetesCluster(mgmt, ns, 'cluster-2');
    await writeClusterStatus(mgmt, ns, 'cluster-1', {
      connected: true,
      connectedPod: `${ns}/${POD}`,
      agentVersion: '0.1.0',
      agentPod: 'kuberelay-agent-0',
      lastHeartbeat: now(),
      sentVersion: '1767225600001',
      ackedVersion: '1767225600001',
      counts: { applied: 3, failed: 0, conflict: 0, pending: 0 },
      conditions: [
        { type: 'Connected', status: 'True', reason: 'StreamOpen', message: '', lastTransitionTime: now() },
        { type: 'UpToDate', status: 'True', reason: 'Acked', message: '', lastTransitionTime: now() },
      ],
    });
    await writeClusterStatus(mgmt, ns, 'cluster-2', {
      connected: false,
      connectedPod: '',
      lastHeartbeat: now(),
    });

    const down = await relayctl(lab, ['check', '--kubecontext', 'mgmt', '-n', ns]);
    const podWidth = `${ns}/${POD}`.length;
    expect(down.code).toBe(1);
    expect(down.out).toContain(
      [
        '🔴 Mgmt server connectivity to workload agents',
        `Cluster   | Registered | Connected Pod${' '.repeat(podWidth - 'Connected Pod'.length)} | Agent Replicas`,
        // These statuses were written by hand, without agentReplicas: not known.
        `cluster-1 | true       | ${ns}/${POD} | -`,
        `cluster-2 | true       | -${' '.repeat(podWidth - 1)} | -`,
        '',
        `Connected Pod${' '.repeat(podWidth - 'Connected Pod'.length)} | Clusters`,
        `${ns}/${POD} | 1 (cluster-1)`,
        '  🔴 cluster-2: agent not connected (last heartbeat',
      ].join('\n'),
    );
    expect(down.out).toContain(`🟢 Mgmt server\n  🟢 replica ${POD}: running (Lease renewed`);
    expect(down.out).toContain(`http://${readyzAddress}/readyz answers ready (HTTP 200)`);
    expect(down.out + down.err).not.toContain(token);

    // cluster-2 connects, but lags behind; an unregistered agent was refused.
    await writeClusterStatus(mgmt, ns, 'cluster-2', {
      connected: true,
      connectedPod: `${ns}/${POD}`,
      sentVersion: '1767225600002',
      ackedVersion: '1767225600001',
      conditions: [
        {
          type: 'UpToDate',
          status: 'False',
          reason: 'Nacked',
          message: 'the agent rejected version 1767225600002',
          lastTransitionTime: now(),
        },
      ],
    });
    await mgmt.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: {
        metadata: { name: 'kuberelay-rejected-agents', namespace: ns },
        data: {
          'cluster-9': JSON.stringify({
            lastAttempt: now(),
            reason: 'cluster cluster-9 is not registered',
            code: 'PERMISSION_DENIED',
            peer: '10.9.8.7:41000',
            count: 3,
          }),
        },
      },
    });
    // Behind is not up to date: the exit code says so (a pipeline gating on check must not pass).
    const up = await relayctl(lab, ['check', '--kubecontext', 'mgmt', '-n', ns]);
    expect(up.code).toBe(1);
    expect(up.out).toContain('🔴 Mgmt server connectivity to workload agents');
    expect(up.out).toContain(`cluster-2 | true       | ${ns}/${POD}`);
    expect(up.out).toContain(`${ns}/${POD} | 2 (cluster-1, cluster-2)`);
    expect(up.out).toContain(
      '  🔴 cluster-2: behind: the agent has not acknowledged the current desired state (sent 1767225600002, acknowledged 1767225600001): the agent rejected version 1767225600002',
    );
    expect(up.out).toContain(
      '🟡 Agents refused by the mgmt server\nClaimed Cluster | Registered | Attempts |',
    );
    expect(up.out).toContain('cluster-9       | false      | 3        |');
    expect(up.out).toContain('run relayctl register cluster-9');
    expect(up.out + up.err).not.toContain(token);

    // cluster-2 catches up: every cluster connected and up to date, the refused agent a warning.
    await writeClusterStatus(mgmt, ns, 'cluster-2', {
      ackedVersion: '1767225600002',
      conditions: [
        { type: 'UpToDate', status: 'True', reason: 'Acknowledged', message: '', lastTransitionTime: now() },
      ],
    });
    const json = await relayctl(lab, ['check', '--kubecontext', 'mgmt', '-n', ns, '-o', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as Record<string, unknown>;
    expect(report).toMatchObject({
      kind: 'RelayctlCheck',
      schemaVersion: 1,
      context: 'mgmt',
      namespace: ns,
      ok: true,
      health: 'warning',
      server: {
        health: 'ok',
        replicas: [
          {
            pod: POD,
            fresh: true,
            grpcAddress: 'relay.example:9900',
            mgmtCluster: 'mgmt',
            readyz: { state: 'ready', detail: 'HTTP 200' },
          },
        ],
      },
      clusters: [
        {
          name: 'cluster-1',
          registered: true,
          connected: true,
          connectedPod: `${ns}/${POD}`,
          upToDate: true,
        },
        { name: 'cluster-2', registered: true, connected: true, upToDate: true, behind: false },
      ],
      connectedPods: [{ pod: `${ns}/${POD}`, clusters: ['cluster-1', 'cluster-2'] }],
      rejectedAgents: [{ cluster: 'cluster-9', registered: false, code: 'PERMISSION_DENIED', count: 3 }],
    });
    expect(json.out).not.toContain(token);
  });
});
