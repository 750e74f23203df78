import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KUBERNETES_CLUSTER, type KubernetesClusterStatus } from '@kuberelay/shared';
import { KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { parseAllDocuments } from 'yaml';
import { type Lab, startLab } from '../lab/lab.js';
import { defaultLabDir, repoRoot } from '../lab/paths.js';
import { preferredPort } from '../lab/ports.js';
import type { ManagedProcess } from '../lab/processes.js';
import { createOrReplace, type Obj, pathOf } from '../support/objects.js';
import {
  MGMT,
  NAMESPACE,
  relayctl,
  relayctlCommand,
  startRelayProcesses,
  waitUntil,
} from './relayProcesses.js';

const fail = (message: string): never => {
  throw new Error(message);
};

const usage = `Usage: pnpm demo [--lab-dir DIR] [--exit-when-ready]

Brings up the local lab (clusters mgmt, cluster-1, cluster-2; kubeconfig at .lab/kubeconfig),
runs the management server and one agent per workload cluster as processes, registers both
clusters with relayctl, applies the reference example in the management cluster, waits until
both clusters acknowledge it, shows the copies and \`relayctl check\`, prints "demo ready" and
keeps running until Ctrl-C, when it stops everything it started.

Options:
  --lab-dir DIR        lab folder (default: .lab at the repo root)
  --exit-when-ready    stop everything and exit 0 right after "demo ready" (for scripts)
  -h, --help           this help`;

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
/** The dashboard's port when it is free (another one otherwise); the URL is printed either way. */
const DASHBOARD_PORT = 9092;

/** A word as a POSIX shell reads it back: quoted only when it has to be. */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

const say = (message: string) => console.log(`demo: ${message}`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'lab-dir': { type: 'string' },
      'exit-when-ready': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const labDir = values['lab-dir'] ?? defaultLabDir;
  const processes: ManagedProcess[] = [];
  let lab: Lab | undefined;
  const stopAll = async () => {
    for (const p of processes.reverse()) await p.stop();
    await lab?.stop();
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    say('stopping everything the demo started ...');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    lab = await startLab({ dir: labDir, lifetime: 'attached', onProgress: (m) => say(`lab: ${m}`) });
    const kubeconfig = lab.kubeconfigPath;
    const dashboardUrl = `http://127.0.0.1:${await preferredPort(DASHBOARD_PORT)}/`;
    const relay = await startRelayProcesses({
      lab,
      labDir,
      workloads: WORKLOADS,
      serverArgs: [`--dashboard-listen=${new URL(dashboardUrl).host}`],
      onProgress: say,
      beforeRegister: async (cluster) => {
        say(`${cluster}: creating the example's namespaces and GatewayClass`);
        const rest = new KubeRest(lab?.kubeConfig(cluster) ?? fail('no lab'));
        for (const obj of readExample('workload-setup.yaml')) await createOrReplace(rest, obj);
      },
    });
    processes.push(...relay.processes);
    const logs = relay.logDir;

    const mgmt = new KubeRest(lab.kubeConfig(MGMT));
    say('applying the reference example in the management cluster (deploy/examples/config-distro.yaml)');
    for (const obj of [...readExample('mgmt-gatewayclass.yaml'), ...readExample('config-distro.yaml')]) {
      await createOrReplace(mgmt, obj);
    }

    const started = Date.now();
    for (const cluster of WORKLOADS) {
      await waitUntil(
        `${cluster} to acknowledge the example`,
        60_000,
        async () => {
          const status = await clusterStatus(mgmt, cluster);
          const upToDate = status?.conditions?.find((c) => c.type === 'UpToDate')?.status === 'True';
          return status?.connected === true && upToDate && (status.counts?.applied ?? 0) >= 3;
        },
        say,
      );
      say(`${cluster}: connected, up to date, 3 copies applied (${Date.now() - started} ms after the apply)`);
    }

    // The URL printed below is checked, not assumed: the dashboard shows what status just said.
    await waitUntil(
      'the dashboard to show both clusters with the example applied',
      10_000,
      async () => {
        const fleet = (await fetch(new URL('api/fleet', dashboardUrl))
          .then((r) => r.json())
          .catch(() => undefined)) as
          | { totals?: { connected: number; counts: Record<string, number> } }
          | undefined;
        return fleet?.totals?.connected === WORKLOADS.length && (fleet.totals.counts.Applied ?? 0) >= 6;
      },
      say,
    );

    for (const cluster of WORKLOADS) await printCopies(lab, cluster);
    // Through bin/relayctl: the command printed is the one that ran, and it works in a new terminal.
    const checkArgs = ['check', '--kubeconfig', kubeconfig, '--kubecontext', MGMT];
    const checkLine = [relayctlCommand, ...checkArgs].map(shellWord).join(' ');
    console.log(`\n$ ${checkLine}`);
    const check = await relayctl(checkArgs, say, { viaWrapper: true });
    console.log(check.trimEnd());

    console.log('\ndemo ready');
    console.log(`
Dashboard: ${dashboardUrl}  (the fleet, the sources × clusters matrix, each source and cluster; live)
Try drift repair: edit a copy in a workload cluster and watch the agent put it back.
  kubectl --kubeconfig ${kubeconfig} --context cluster-1 -n httpbin patch upstream httpbin --type merge -p '{"spec":{"kube":{"servicePort":1234}}}'
  kubectl --kubeconfig ${kubeconfig} --context cluster-1 -n httpbin get upstream httpbin -o jsonpath='{.spec.kube.servicePort}'   # 8000 again
Or edit the source and watch both clusters follow:
  kubectl --kubeconfig ${kubeconfig} --context mgmt -n gloo-mesh label upstream httpbin tier=demo
From another terminal, the same check (or put relayctl and kubectl-relay on PATH first):
  ${checkLine}
  export PATH=${shellWord(dirname(relayctlCommand))}:"$PATH"; kubectl relay ${checkArgs.map(shellWord).join(' ')}
Logs: ${logs}.  Ctrl-C stops everything.`);

    if (values['exit-when-ready']) {
      await stopAll();
      return 0;
    }
    await new Promise(() => {}); // until a signal
    return 0;
  } catch (error) {
    console.error(`demo: error: ${error instanceof Error ? error.message : String(error)}`);
    console.error(`demo: logs are in ${join(labDir, 'logs')}`);
    await stopAll();
    return 1;
  }
}

function readExample(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(repoRoot, 'deploy', 'examples', file), 'utf8'))
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

async function clusterStatus(mgmt: KubeRest, cluster: string): Promise<KubernetesClusterStatus | undefined> {
  const kc = await mgmt
    .request<{ status?: KubernetesClusterStatus }>({
      method: 'GET',
      path: resourcePath({ ...KUBERNETES_CLUSTER, namespace: NAMESPACE, name: cluster }),
    })
    .catch(() => undefined);
  return kc?.status;
}

async function printCopies(lab: Lab, cluster: string): Promise<void> {
  const rest = new KubeRest(lab.kubeConfig(cluster));
  console.log(
    `\n$ kubectl --context ${cluster} get gateways,upstreams,httproutes -A -l relay.solo.io/cluster=${MGMT}`,
  );
  const rows = [['KIND', 'NAMESPACE', 'NAME', 'DETAIL', 'DISTRIBUTED-SOURCE']];
  for (const kind of [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway' },
    { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream' },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
  ]) {
    const list = await rest.request<{ items: Obj[] }>({
      method: 'GET',
      path: pathOf(kind),
      query: { labelSelector: `relay.solo.io/cluster=${MGMT}` },
    });
    for (const o of list.items) {
      const spec = o.spec ?? {};
      const detail =
        o.kind === 'Gateway'
          ? `class=${String(spec.gatewayClassName)}`
          : o.kind === 'HTTPRoute'
            ? `parentRef=${(spec.parentRefs as { namespace?: string; name: string }[] | undefined)?.map((p) => `${p.namespace ?? o.metadata.namespace}/${p.name}`).join(',')}`
            : `port=${String((spec.kube as { servicePort?: number } | undefined)?.servicePort)}`;
      rows.push([
        o.kind,
        o.metadata.namespace ?? '',
        o.metadata.name,
        detail,
        o.metadata.annotations?.['gloo.solo.io/distributed-source'] ?? '',
      ]);
    }
  }
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)) + 2);
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('')
        .trimEnd(),
    );
}

main().then(
  (code) => {
    if (code !== 0 || process.argv.includes('--exit-when-ready')) process.exit(code);
  },
  (error: unknown) => {
    console.error(`demo: error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
