import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Informer, KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { MGMT, startRelayProcesses, waitUntil } from '../demo/relayProcesses.js';
import { startLab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import type { ManagedProcess } from '../lab/processes.js';
import { createOrReplace, type Obj } from '../support/objects.js';

const usage = `Usage: pnpm bench:latency [--edits N] [--drifts N]

Measures, on the local lab with the management server and two agents running as processes:
  edit-to-copy   time from a PATCH of a source in the management cluster until a workload
                 cluster's watch shows the new copy (both clusters, every edit)
  drift-repair   time from a PATCH that changes a copy in a workload cluster until its watch
                 shows the copy reverted
beside two raw baselines measured in the same run against the same API servers:
  apply          one PATCH round trip to a workload API server
  apply+watch    one PATCH until the same API server's watch delivers it
Prints p50/p90/p99/max and ratios against the apply baseline. Goals: edit-to-copy p99 <= 300 ms,
drift-repair p99 <= 1 s. Figures, not a pass/fail test: a slow machine prints slow numbers.

Options:
  --edits N    edits of the source (default 300)
  --drifts N   drifts to repair (default 200)`;

type Upstream = Obj & {
  spec: { kube: { serviceName: string; serviceNamespace: string; servicePort: number } };
};
const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
const say = (m: string) => console.error(`bench: ${m}`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { edits: { type: 'string' }, drifts: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const edits = Number(values.edits ?? 300);
  const drifts = Number(values.drifts ?? 200);
  if (!Number.isInteger(edits) || edits < 1 || !Number.isInteger(drifts) || drifts < 1) {
    throw new Error('--edits and --drifts take whole numbers of at least 1');
  }

  const labDir = join(repoRoot, '.lab', 'bench');
  const lab = await startLab({
    dir: labDir,
    clusters: [MGMT, ...WORKLOADS],
    lifetime: 'attached',
    onProgress: (m) => say(`lab: ${m}`),
  });
  const processes: ManagedProcess[] = [];
  const abort = new AbortController();
  try {
    const relay = await startRelayProcesses({ lab, labDir, workloads: WORKLOADS, onProgress: say });
    processes.push(...relay.processes);
    const mgmt = new KubeRest(lab.kubeConfig(MGMT));
    const rest = Object.fromEntries(WORKLOADS.map((c) => [c, new KubeRest(lab.kubeConfig(c))])) as Record<
      string,
      KubeRest
    >;

    // Watches in each workload cluster: when did each port value first appear?
    const seen = Object.fromEntries(
      WORKLOADS.map((c) => [c, new Map<string, Map<number, number>>()]),
    ) as Record<string, Map<string, Map<number, number>>>;
    for (const cluster of WORKLOADS) {
      const informer = new Informer<Upstream>({
        rest: rest[cluster] as KubeRest,
        resource: { group: 'gloo.solo.io', version: 'v1', plural: 'upstreams', namespace: 'httpbin' },
        signal: abort.signal,
        logger: pino({ level: 'silent' }),
        onEvent: (e) => {
          const byName = seen[cluster] as Map<string, Map<number, number>>;
          const ports = byName.get(e.object.metadata.name) ?? new Map<number, number>();
          byName.set(e.object.metadata.name, ports);
          const port = e.object.spec?.kube?.servicePort;
          if (e.type !== 'DELETED' && port !== undefined) ports.set(port, performance.now());
        },
      });
      void informer.start();
      await informer.synced;
    }
    const seenAt = (cluster: string, name: string, port: number) => seen[cluster]?.get(name)?.get(port);
    const waitSeen = async (cluster: string, name: string, port: number, after: number) => {
      await waitUntil(
        `${cluster} to show ${name} port ${port}`,
        30_000,
        async () => (seenAt(cluster, name, port) ?? -1) >= after,
      );
      return (seenAt(cluster, name, port) as number) - after;
    };

    // Baselines against cluster-1's API server.
    const baseline = upstreamObject('baseline', 'httpbin', 1);
    await createOrReplace(rest['cluster-1'] as KubeRest, baseline);
    const apply: number[] = [];
    const applyWatch: number[] = [];
    say(`baseline: ${edits} PATCHes to cluster-1`);
    for (let i = 0; i < edits; i++) {
      const port = 20_000 + i;
      const t0 = performance.now();
      await patchPort(rest['cluster-1'] as KubeRest, 'httpbin', 'baseline', port);
      apply.push(performance.now() - t0);
      applyWatch.push(await waitSeen('cluster-1', 'baseline', port, t0));
    }

    // Edit to copy.
    const source = upstreamObject('bench', 'gloo-mesh', 10_000, '*/httpbin');
    await createOrReplace(mgmt, source);
    for (const c of WORKLOADS) await waitSeen(c, 'bench', 10_000, 0);
    const editToCopy: number[] = [];
    say(`edit-to-copy: ${edits} edits of the source`);
    for (let i = 1; i <= edits; i++) {
      const port = 10_000 + i;
      const t0 = performance.now();
      await patchPort(mgmt, 'gloo-mesh', 'bench', port);
      for (const c of WORKLOADS) editToCopy.push(await waitSeen(c, 'bench', port, t0));
    }
    const desired = 10_000 + edits;

    // Drift repair: someone edits the copy; the agent puts it back.
    const repair: number[] = [];
    say(`drift-repair: ${drifts} edits of the copy in cluster-1`);
    for (let i = 0; i < drifts; i++) {
      const t0 = performance.now();
      await patchPort(rest['cluster-1'] as KubeRest, 'httpbin', 'bench', 30_000 + i);
      await waitSeen('cluster-1', 'bench', 30_000 + i, t0);
      repair.push(await waitSeen('cluster-1', 'bench', desired, t0));
      seen['cluster-1']?.get('bench')?.delete(desired); // so the next round waits for a new revert
    }

    const base = percentile(apply, 50);
    const rows = [
      ['metric', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p50 / apply p50', 'p99 / apply p99'],
      row('apply (raw baseline)', apply, base, percentile(apply, 99)),
      row('apply+watch (raw)', applyWatch, base, percentile(apply, 99)),
      row('edit-to-copy', editToCopy, base, percentile(apply, 99)),
      row('drift-repair', repair, base, percentile(apply, 99)),
    ];
    const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)) + 2);
    console.log('');
    for (const r of rows)
      console.log(
        r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(''),
      );
    console.log('');
    console.log(goal('edit-to-copy p99', percentile(editToCopy, 99), 300));
    console.log(goal('drift-repair p99', percentile(repair, 99), 1000));
  } finally {
    abort.abort();
    for (const p of processes.reverse()) await p.stop();
    await lab.stop();
  }
}

function upstreamObject(name: string, namespace: string, port: number, distributeTo?: string): Upstream {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name,
      namespace,
      ...(distributeTo ? { annotations: { 'gloo.solo.io/distribute-to': distributeTo } } : {}),
    },
    spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: port } },
  };
}

function patchPort(rest: KubeRest, namespace: string, name: string, port: number): Promise<unknown> {
  return rest.request({
    method: 'PATCH',
    path: `/apis/gloo.solo.io/v1/namespaces/${namespace}/upstreams/${name}`,
    contentType: 'application/merge-patch+json',
    body: { spec: { kube: { servicePort: port } } },
  });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

function row(name: string, values: readonly number[], base50: number, base99: number): string[] {
  const f = (n: number) => n.toFixed(1);
  const p50 = percentile(values, 50);
  const p99 = percentile(values, 99);
  return [
    name,
    String(values.length),
    f(p50),
    f(percentile(values, 90)),
    f(p99),
    f(Math.max(...values)),
    `${(p50 / base50).toFixed(1)}x`,
    `${(p99 / base99).toFixed(1)}x`,
  ];
}

function goal(what: string, value: number, limitMs: number): string {
  return `${what}: ${value.toFixed(1)} ms (goal <= ${limitMs} ms: ${value <= limitMs ? 'met' : 'NOT met'})`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
