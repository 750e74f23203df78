import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBERNETES_CLUSTER } from '@kuberelay/shared';
import { isNotFound, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { bin, relayctl, waitUntil } from '../demo/relayProcesses.js';
import { attachLab, type Lab } from '../lab/lab.js';
import { waitForLogLine } from '../lab/logLines.js';
import { freePort } from '../lab/ports.js';
import { type ManagedProcess, startProcess } from '../lab/processes.js';
import { ScriptedAgent } from '../mgmt-server/fakeAgent.js';
import { missingMetrics } from '../observability/metricsCoverage.js';
import { dashboardQueries, RULE_FILES, ruleQueries } from '../observability/shippedQueries.js';
import { issueAgentTls } from '../support/agentTls.js';
import { referenceExample } from '../support/examples.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { createOrReplace, type Obj, pathOf } from '../support/objects.js';
import { unique } from '../support/testing.js';
import { release } from './helm.js';

// The lab has no kubelet, so the chart's pods cannot run. Instead: `helm install` both parts onto
// the lab clusters, read back what Helm installed, and start the real server and agent processes
// with exactly the command, args and env of the installed Deployments. Only what a kubelet would
// provide is substituted: the listen addresses (loopback, free ports), the state file's folder,
// the downward-API values, and a kubeconfig with the identity of the chart's ServiceAccount, so
// the processes hold exactly the chart's RBAC. Then the reference example is distributed through
// them, and `relayctl check` must say every cluster is connected and up to date. Last, a `helm
// upgrade` with the agents connected and the rollout it causes must leave every copy untouched.
// Last, the metrics the chart's dashboard and alerts read must be in the processes' /metrics.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}
interface Installed {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec?: { serviceAccountName?: string; containers?: Container[] } } };
}

/** The Deployment Helm installed (`helm get manifest`), and its container and ServiceAccount. */
async function installedDeployment(context: string, namespace: string, kubeconfig: string, name: string) {
  const manifest = await release('manifest', { kubeconfig, context, namespace });
  const deployment = parseAllDocuments(manifest)
    .map((d) => d.toJS() as Installed | null)
    .find((o) => o?.kind === 'Deployment' && o.metadata.name === name);
  const container = deployment?.spec?.template?.spec?.containers?.[0];
  const serviceAccount = deployment?.spec?.template?.spec?.serviceAccountName;
  if (container === undefined || serviceAccount === undefined)
    throw new Error(`helm installed no Deployment ${name} in ${context}`);
  return { container, serviceAccount };
}

/** The env a kubelet would give the container: values as written, fieldRefs resolved for this pod. */
function podEnv(container: Container, pod: { name: string; namespace: string }): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'status.podIP': '127.0.0.1',
  };
  return Object.fromEntries(
    container.env.map((e) => {
      const path = e.valueFrom?.fieldRef?.fieldPath;
      const value = path === undefined ? e.value : fields[path];
      if (value === undefined)
        throw new Error(`env ${e.name}: the test cannot provide ${JSON.stringify(e.valueFrom)}`);
      return [e.name, value];
    }),
  );
}

/** The chart's args with what a pod would have substituted by the lab's equivalents. */
function labArgs(container: Container, substitute: Record<string, string>): string[] {
  return container.args.map((arg) => {
    const flag = arg.split('=')[0] ?? arg;
    return substitute[flag] === undefined ? arg : `${flag}=${substitute[flag]}`;
  });
}

/** The program the image's command names, as built in this checkout. */
function program(container: Container): string {
  const programs: Record<string, string> = {
    'kuberelay-mgmt-server': bin.server,
    'kuberelay-agent': bin.agent,
  };
  const path = container.command.length === 1 ? programs[container.command[0] ?? ''] : undefined;
  if (path === undefined)
    throw new Error(`the chart runs ${JSON.stringify(container.command)}, which this test does not know`);
  return path;
}

let lab: Lab;
let namespace: string;
const processes: ManagedProcess[] = [];
/** Set by the first test: where the processes listen (the second scrapes them). */
const ports = { grpc: 0, serverHttp: 0, agentHttp: new Map<string, number>() };
const say = (m: string) => process.stderr.write(`chart processes: ${m}\n`);
const { gateway, upstream, route } = referenceExample();
const sources = () =>
  [gateway, upstream, route].map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }) as Obj);

beforeAll(() => {
  lab = attachLab(inject('labDir'));
  namespace = unique('chartrun');
});

afterAll(async () => {
  const mgmt = new KubeRest(lab.kubeConfig('mgmt'));
  for (const s of sources()) {
    await mgmt
      .request({ method: 'DELETE', path: pathOf({ ...s, namespace, name: s.metadata.name }) })
      .catch(() => undefined);
  }
  // Let the agents prune the copies before they stop, so no other test meets them.
  await waitUntil('the copies to be pruned', 30_000, async () => {
    for (const cluster of WORKLOADS) {
      const rest = new KubeRest(lab.kubeConfig(cluster));
      const found = await rest
        .request({
          method: 'GET',
          path: pathOf({ ...upstream, namespace: 'httpbin', name: upstream.metadata.name }),
        })
        .then(
          () => true,
          (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)),
        );
      if (found) return false;
    }
    return true;
  }).catch((e: unknown) => say(String(e)));
  for (const p of processes.reverse()) await p.stop();
  for (const context of ['mgmt', ...WORKLOADS]) {
    await release('uninstall', { kubeconfig: lab.kubeconfigPath, context, namespace }).catch(() => undefined);
    await new KubeRest(lab.kubeConfig(context))
      .request({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}` })
      .catch(() => undefined);
  }
}, 120_000);

describe('the processes the chart describes', () => {
  it('distribute the reference example to two clusters with exactly the chart command, args, env and RBAC', async () => {
    const kubeconfig = lab.kubeconfigPath;
    const dir = await mkdtemp(join(tmpdir(), 'kuberelay-chart-run-'));
    // Known before the install, since the chart announces it (mgmtServer.agentAddress).
    const grpcPort = await freePort();
    ports.grpc = grpcPort;
    ports.serverHttp = await freePort();
    say(`helm install kuberelay (mgmtServer) into mgmt/${namespace}`);
    await release('install', { kubeconfig, context: 'mgmt', namespace }, [
      '--set',
      'mgmtServer.enabled=true',
      '--set',
      'common.cluster=mgmt',
      // The address agents dial, announced by the server: register needs no --server.
      '--set',
      `mgmtServer.agentAddress=127.0.0.1:${grpcPort}`,
    ]);
    const server = await installedDeployment('mgmt', namespace, kubeconfig, 'kuberelay-mgmt-server');
    const serverIdentity = await lab.writeIdentityKubeconfig({
      cluster: 'mgmt',
      user: `system:serviceaccount:${namespace}:${server.serviceAccount}`,
    });
    const serverLog = join(dir, 'mgmt-server.log');
    // As a kubelet starts the pod; the gRPC port stays across a rollout, as a Service's does.
    const startServer = (container: Container) =>
      startProcess({
        name: 'chart-mgmt-server',
        command: process.execPath,
        args: [
          program(container),
          ...labArgs(container, {
            '--grpc-listen': `127.0.0.1:${grpcPort}`,
            '--http-listen': `127.0.0.1:${ports.serverHttp}`,
          }),
          `--kubeconfig=${serverIdentity}`,
          '--context=mgmt',
        ],
        env: podEnv(container, { name: 'kuberelay-mgmt-server-0', namespace }),
        logFile: serverLog,
        pidFile: join(dir, 'mgmt-server.pid'),
        lifetime: 'attached',
      });
    let serverProcess = startServer(server.container);
    processes.push(serverProcess);
    const ready = await waitForLogLine(serverProcess, serverLog, 'management server ready', 60_000);
    const grpc = `127.0.0.1:${String(ready.grpcPort)}`;
    expect(ready.grpcPort).toBe(grpcPort);
    say(`server ready on ${grpc}`);

    for (const cluster of WORKLOADS) {
      say(`helm install kuberelay (agent) into ${cluster}/${namespace}; relayctl register ${cluster}`);
      await release('install', { kubeconfig, context: cluster, namespace }, ['--set', 'agent.enabled=true']);
      await relayctl(
        [
          'register',
          cluster,
          `--kubeconfig=${kubeconfig}`,
          '--kubecontext=mgmt',
          `--namespace=${namespace}`,
          `--remote-context=${cluster}`,
          `--remote-namespace=${namespace}`,
        ],
        say,
      );
      const agent = await installedDeployment(cluster, namespace, kubeconfig, 'kuberelay-agent');
      const identity = await lab.writeIdentityKubeconfig({
        cluster,
        user: `system:serviceaccount:${namespace}:${agent.serviceAccount}`,
      });
      const log = join(dir, `agent-${cluster}.log`);
      ports.agentHttp.set(cluster, await freePort());
      processes.push(
        startProcess({
          name: `chart-agent-${cluster}`,
          command: process.execPath,
          args: [
            program(agent.container),
            ...labArgs(agent.container, {
              '--http-listen': `127.0.0.1:${ports.agentHttp.get(cluster)}`,
              '--state-file': join(dir, cluster, 'state.json'),
            }),
            `--kubeconfig=${identity}`,
            `--context=${cluster}`,
          ],
          env: podEnv(agent.container, { name: `kuberelay-agent-${cluster}-0`, namespace }),
          logFile: log,
          pidFile: join(dir, `agent-${cluster}.pid`),
          lifetime: 'attached',
        }),
      );
    }

    const mgmt = new KubeRest(lab.kubeConfig('mgmt'));
    for (const s of sources()) await createOrReplace(mgmt, s);
    const copies = [
      { ...gateway, namespace: 'gloo-system' },
      { ...upstream, namespace: 'httpbin' },
      { ...route, namespace: 'httpbin' },
    ];
    await waitUntil(
      'the three copies in both clusters, and relayctl check green',
      60_000,
      async () => {
        for (const cluster of WORKLOADS) {
          const rest = new KubeRest(lab.kubeConfig(cluster));
          for (const c of copies) {
            const copy = await rest
              .request<Obj>({ method: 'GET', path: pathOf({ ...c, name: c.metadata.name }) })
              .catch(() => undefined);
            // A copy of this test's source (its URI names the source's namespace), not a leftover.
            const uri = copy?.metadata.annotations?.['gloo.solo.io/distributed-source'] ?? '';
            if (!uri.startsWith(`gloo://mgmt/ns/${namespace}/`)) return false;
          }
        }
        return isGreen(kubeconfig);
      },
      say,
    );
    // The GatewayClass swap of the chart's default mapping reached the workload copy.
    const copy = await new KubeRest(lab.kubeConfig('cluster-1')).request<{
      spec: { gatewayClassName: string };
    }>({
      method: 'GET',
      path: pathOf({ ...gateway, namespace: 'gloo-system', name: gateway.metadata.name }),
    });
    expect(copy.spec.gatewayClassName).toBe('gloo-gateway');
    expect(await isGreen(kubeconfig)).toBe(true);

    // helm upgrade with agents connected, then the rollout a kubelet would do: the old server
    // stops, one with the upgraded command line starts behind the same address. Every copy must
    // stay the same object, untouched, and every cluster be up to date again after one reconnect.
    const before = await copyVersions(copies);
    say('helm upgrade kuberelay (mgmtServer): --set mgmtServer.logLevel=debug, then a rollout');
    await release('upgrade', { kubeconfig, context: 'mgmt', namespace }, [
      '--reuse-values',
      '--set',
      'mgmtServer.logLevel=debug',
    ]);
    const upgraded = await installedDeployment('mgmt', namespace, kubeconfig, 'kuberelay-mgmt-server');
    expect(upgraded.container.args).toContain('--log-level=debug');
    await serverProcess.stop();
    const stopped = Date.now();
    serverProcess = startServer(upgraded.container);
    processes.push(serverProcess);
    await waitUntil('every cluster up to date after the rollout', 30_000, async () => isGreen(kubeconfig));
    say(`check green ${Date.now() - stopped} ms after the old server stopped`);
    expect(await copyVersions(copies)).toEqual(before);
  }, 300_000);

  it('expose every metric the shipped dashboard and alerts read, with their labels, and tell the truth', async () => {
    const mgmt = new KubeRest(lab.kubeConfig('mgmt'));
    // A NACK, the one labelled series no healthy fleet has: a scripted agent of a cluster
    // registered for the purpose rejects the version it is sent.
    const probe = 'nack-probe';
    await mgmt.request({
      method: 'POST',
      path: resourcePath({ ...KUBERNETES_CLUSTER, namespace }),
      body: {
        apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
        kind: KUBERNETES_CLUSTER.kind,
        metadata: { name: probe, namespace },
        spec: {},
      },
    });
    const scripted = new ScriptedAgent({
      port: ports.grpc,
      tls: await issueAgentTls(mgmt, namespace, probe),
    });
    try {
      scripted.hello(probe);
      await waitUntil('a version for the scripted agent', 20_000, async () => scripted.deltas().length > 0);
      scripted.send({
        $case: 'nack',
        value: {
          version: scripted.deltas()[0]?.version ?? 0,
          reason: 2,
          message: 'e2e: rejected on purpose',
        },
      });
      await waitUntil('the NACK counted', 20_000, async () =>
        (await scrape(ports.serverHttp)).includes(`kuberelay_mgmt_nacks_total{cluster="${probe}"`),
      );
    } finally {
      scripted.close();
      await mgmt
        .request({ method: 'DELETE', path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: probe }) })
        .catch(() => undefined);
    }

    const server = await scrape(ports.serverHttp);
    const agents = await Promise.all(WORKLOADS.map((c) => scrape(ports.agentHttp.get(c) ?? 0)));
    const queries = [
      ...dashboardQueries(),
      ...ruleQueries(RULE_FILES['mgmt-server']),
      ...ruleQueries(RULE_FILES.agent),
    ];
    expect(missingMetrics(queries, [server, ...agents])).toEqual([]);

    // And what they say is so: both clusters connected, their three copies applied, up to date.
    for (const [i, cluster] of WORKLOADS.entries()) {
      expect(sampleValue(server, 'kuberelay_mgmt_cluster_connected', { cluster })).toBe(1);
      expect(sampleValue(server, 'kuberelay_mgmt_cluster_copies', { cluster, outcome: 'Applied' })).toBe(3);
      expect(sampleValue(server, 'kuberelay_mgmt_cluster_copies', { cluster, outcome: 'Pending' })).toBe(0);
      expect(sampleValue(server, 'kuberelay_mgmt_cluster_behind_seconds', { cluster })).toBe(0);
      const agent = agents[i] ?? '';
      expect(sampleValue(agent, 'kuberelay_agent_connected', { cluster })).toBe(1);
      expect(sampleValue(agent, 'kuberelay_agent_copies', { cluster, outcome: 'Applied' })).toBe(3);
      const expiry = sampleValue(agent, 'kuberelay_agent_certificate_expiry_timestamp_seconds', { cluster });
      expect(expiry * 1000).toBeGreaterThan(Date.now());
    }
    expect(sampleValue(server, 'kuberelay_mgmt_ready')).toBe(1);
    const ca = sampleValue(server, 'kuberelay_mgmt_certificate_expiry_timestamp_seconds', {
      certificate: 'relay-ca',
    });
    expect(ca * 1000).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    // The probe's stream ended once it held its cluster: a drop, counted under the code it ended with.
    const drops = parseExposition(server).filter((s) => s.name === 'kuberelay_mgmt_stream_disconnects_total');
    expect(drops.reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** relayctl check's verdict for this test's namespace. */
async function isGreen(kubeconfig: string): Promise<boolean> {
  const out = await relayctl(
    [
      'check',
      `--kubeconfig=${kubeconfig}`,
      '--kubecontext=mgmt',
      `--namespace=${namespace}`,
      '--no-probe',
      '-o',
      'json',
    ],
    () => {},
  );
  return (JSON.parse(out) as { ok?: boolean }).ok === true;
}

/** uid and resourceVersion of every copy in every workload cluster: equal means untouched. */
async function copyVersions(copies: readonly (Obj & { namespace: string })[]): Promise<string[]> {
  const versions: string[] = [];
  for (const cluster of WORKLOADS) {
    const rest = new KubeRest(lab.kubeConfig(cluster));
    for (const c of copies) {
      const copy = await rest.request<Obj>({ method: 'GET', path: pathOf({ ...c, name: c.metadata.name }) });
      versions.push(`${cluster} ${c.kind} ${copy.metadata.uid ?? ''} ${copy.metadata.resourceVersion ?? ''}`);
    }
  }
  return versions;
}
