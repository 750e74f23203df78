import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RELAY_CA_SECRET } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { relayCaOf } from '@kuberelay/shared/pki';
import { MGMT, NAMESPACE, startRelayProcesses, waitUntil } from '../../demo/relayProcesses.js';
import { startLab } from '../../lab/lab.js';
import { repoRoot } from '../../lab/paths.js';
import type { ManagedProcess } from '../../lab/processes.js';
import { inParallel } from '../../support/inParallel.js';
import {
  createEditedSource,
  deleteDistributed,
  editLatency,
  fullDistribution,
  PortTracker,
  rapidEdits,
  rawPatch,
  SOURCE_NS,
} from './phases.js';
import { startRawFanout } from './rawFanout.js';
import { cpuSeconds, percentile, rssKiB, scrape } from './serverProbe.js';
import { simClusterName, startFleet } from './simAgents.js';

const usage = `Usage: pnpm bench:scale [--agents 10,100,1000] [--edits N] [--rapid N] [--sources S]

Runs the management server as a process on the lab's management API server and, for each fleet
size N, N simulated agents in this process: each registered as relayctl registers a cluster, given
its client certificate by the real Bootstrap RPC, and running the agent's own protocol session over
its own mutual-TLS connection (copies are acknowledged at once: no workload cluster). Prints, per N:
  edit -> every agent acked    p50/p90/p99 over --edits sequential edits of one source
  rapid edits                  --rapid back-to-back edits, until the last agent has the last one
  full distribution            --sources new sources for every cluster, until every agent holds them
  resync after restart         the server restarted, until every agent acked a version again
  server memory per idle stream, idle server CPU, event-loop delay p99/max, requests per second
  the server sends to the management API server (idle and busy), stream drops, and the CPU of
  this harness (it must not be the bottleneck)
beside raw baselines measured in the same run: a bare grpc-js server process writing the same
number of messages to N streams, and PATCH round trips / throughput of the same API server.
Figures, not a pass/fail test: a slow machine prints slow numbers.

Options:
  --agents LIST   fleet sizes (default 10,100,1000)
  --edits N       sequential edits per fleet (default 20)
  --rapid N       back-to-back edits per fleet (default 100)
  --sources S     sources of the full distribution (default 100)
  --server-cpu-prof DIR  write the server's V8 CPU profiles (one per process) into DIR
  --server-heap-mib M    the server's V8 heap cap (default: the shipped manifest's); raise it for
                         fleets the shipped 512Mi limit does not hold (docs/scaling.md)`;

const say = (m: string) => console.error(`bench: ${m}`);
const ms = (v: number) => `${Math.round(v)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      edits: { type: 'string' },
      rapid: { type: 'string' },
      sources: { type: 'string' },
      'server-cpu-prof': { type: 'string' },
      'server-heap-mib': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const sizes = (values.agents ?? '10,100,1000').split(',').map(Number);
  const edits = Number(values.edits ?? 20);
  const rapid = Number(values.rapid ?? 100);
  const sources = Number(values.sources ?? 100);
  for (const n of [...sizes, edits, rapid, sources]) {
    if (!Number.isInteger(n) || n < 1)
      throw new Error('--agents, --edits, --rapid and --sources take whole numbers of at least 1');
  }

  const heapMib = values['server-heap-mib'] === undefined ? undefined : Number(values['server-heap-mib']);
  if (heapMib !== undefined && (!Number.isInteger(heapMib) || heapMib < 64))
    throw new Error('--server-heap-mib takes a whole number of MiB, at least 64');
  // Later V8 flags win over the shipped NODE_OPTIONS' own --max-old-space-size.
  const serverNodeOptions = [
    values['server-cpu-prof'] === undefined
      ? ''
      : `--cpu-prof --cpu-prof-dir=${resolve(values['server-cpu-prof'])}`,
    heapMib === undefined ? '' : `--max-old-space-size=${heapMib}`,
  ]
    .filter((o) => o !== '')
    .join(' ');

  const labDir = join(repoRoot, '.lab', 'bench-scale');
  const lab = await startLab({
    dir: labDir,
    clusters: [MGMT],
    lifetime: 'attached',
    onProgress: (m) => say(`lab: ${m}`),
  });
  const processes: ManagedProcess[] = [];
  const rows: string[] = [];
  try {
    const mgmt = new KubeRest(lab.kubeConfig(MGMT));
    for (const name of [NAMESPACE, SOURCE_NS]) {
      await mgmt
        .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } })
        .catch(() => {});
    }
    const relay = await startRelayProcesses({
      lab,
      labDir,
      workloads: [],
      onProgress: say,
      ...(serverNodeOptions === '' ? {} : { serverNodeOptions }),
      // Every simulated agent dials from 127.0.0.1.
      serverArgs: ['--max-connections-per-address=0'],
    });
    let server = relay.processes[0] as ManagedProcess;
    processes.push(server);
    const caSecret = await mgmt.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${NAMESPACE}/secrets/${RELAY_CA_SECRET}`,
    });
    const ca = relayCaOf(caSecret);
    if (!ca.ok) throw ca.errors[0];
    const raw = await rawPatch(mgmt, SOURCE_NS);
    rows.push(
      `raw API server: PATCH round trip p50 ${raw.roundTripMs.toFixed(1)} ms; ${Math.round(raw.perSecond)} PATCH/s at 16 in flight`,
    );
    say(rows.at(-1) ?? '');

    let first = 0;
    for (const n of sizes) {
      say(`--- ${n} agents ---`);
      const idleBefore = rssKiB(server.pid);
      const heapBefore =
        (await scrape(relay.serverHttpPort)).get('nodejs_heap_size_used_bytes') ?? Number.NaN;
      const fleet = await startFleet({
        count: n,
        first,
        mgmt,
        namespace: NAMESPACE,
        serverAddress: relay.serverAddress,
        caPem: ca.value.bundlePem,
        onProgress: say,
      });
      first += n;
      const tracker = new PortTracker(fleet);
      await createEditedSource(mgmt, tracker);
      await new Promise((r) => setTimeout(r, 5_000));
      const idleAfter = rssKiB(server.pid);
      const heapAfter = (await scrape(relay.serverHttpPort)).get('nodejs_heap_size_used_bytes') ?? Number.NaN;
      const idleRequests0 = kubeRequests(await scrape(relay.serverHttpPort));
      // The CPU window holds no scrape of ours: formatting /metrics (~7,000 per-cluster series at
      // 1,000 clusters) is a Prometheus cost, once per scrape interval, not idle work.
      const cpu0 = cpuSeconds(server.pid);
      await new Promise((r) => setTimeout(r, 10_000));
      const idleCores = (cpuSeconds(server.pid) - cpu0) / 10;
      const idleRequestRate = (kubeRequests(await scrape(relay.serverHttpPort)) - idleRequests0) / 10;

      // Also resets the event-loop delay window.
      const busyRequests0 = kubeRequests(await scrape(relay.serverHttpPort));
      const harness0 = process.cpuUsage();
      const wall0 = performance.now();
      const serverCpu0 = cpuSeconds(server.pid);
      const editTimes = await editLatency(mgmt, tracker, edits);
      say(`edits: p50 ${ms(percentile(editTimes, 50))}, p99 ${ms(percentile(editTimes, 99))}`);
      const rapidMs = await rapidEdits(mgmt, tracker, rapid);
      say(`rapid edits: ${ms(rapidMs)}`);
      const distributionMs = await fullDistribution(mgmt, fleet, sources, 900_000);
      say(`full distribution: ${ms(distributionMs)}`);
      const loop = await scrape(relay.serverHttpPort);
      const busyRequestRate = (kubeRequests(loop) - busyRequests0) / ((performance.now() - wall0) / 1000);
      const harnessCores = (() => {
        const used = process.cpuUsage(harness0);
        return (used.user + used.system) / 1e3 / (performance.now() - wall0);
      })();
      const serverCores = (cpuSeconds(server.pid) - serverCpu0) / ((performance.now() - wall0) / 1000);
      const rawFan = await startRawFanout(n);
      const rawEdit: number[] = [];
      for (let i = 0; i < edits; i++) rawEdit.push(await rawFan.broadcast(1, 600));
      const rawBulkMs = await rawFan.broadcast(sources, 600);
      await rawFan.stop();

      // Resync: the server restarted with every source in place.
      const versionsBefore = fleet.agents.map((a) => a.versions);
      const restartedAt = performance.now();
      await server.stop();
      server = relay.startServer();
      processes.push(server);
      await waitUntil(
        'every agent acked a version from the restarted server',
        900_000,
        async () => fleet.agents.every((a, i) => a.versions > (versionsBefore[i] ?? 0)),
        say,
      );
      const resyncedAt = performance.now();
      const resyncMs = resyncedAt - restartedAt;
      const drops = fleet.agents.reduce(
        (sum, a) => sum + a.ended.filter((at) => at < restartedAt || at > resyncedAt).length,
        0,
      );

      await deleteDistributed(mgmt, fleet);
      await fleet.stop();
      await inParallel(
        Array.from({ length: n }, (_, i) => simClusterName(first - n + i)),
        16,
        (cluster) =>
          mgmt.request({
            method: 'DELETE',
            path: `/apis/admin.gloo.solo.io/v2/namespaces/${NAMESPACE}/kubernetesclusters/${cluster}`,
          }),
      );
      const deliveries = sources * n;
      rows.push(
        [
          `N = ${n} agents`,
          `  edit -> every agent acked: p50 ${ms(percentile(editTimes, 50))} / p90 ${ms(percentile(editTimes, 90))} / p99 ${ms(percentile(editTimes, 99))} (raw grpc-js fan-out of one message: p50 ${ms(percentile(rawEdit, 50))} / p99 ${ms(percentile(rawEdit, 99))})`,
          `  ${rapid} rapid edits -> last agent complete: ${ms(rapidMs)} after the last edit`,
          `  ${sources} sources x ${n} clusters: ${ms(distributionMs)}, ${Math.round(deliveries / (distributionMs / 1000))} deliveries/s (raw grpc-js: ${Math.round(deliveries / (rawBulkMs / 1000))} deliveries/s, ratio ${(deliveries / distributionMs / (deliveries / rawBulkMs)).toFixed(2)})`,
          `  resync of every agent after a server restart: ${ms(resyncMs)}`,
          `  server memory per idle stream: RSS ${((idleAfter - idleBefore) / n).toFixed(0)} KiB (${Math.round(idleBefore / 1024)} -> ${Math.round(idleAfter / 1024)} MiB), heap ${((heapAfter - heapBefore) / 1024 / n).toFixed(0)} KiB; idle CPU ${idleCores.toFixed(3)} cores; CPU while measuring ${serverCores.toFixed(2)} cores`,
          `  server event-loop delay during the edits and the distribution: p99 ${ms((loop.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000)}, max ${ms((loop.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000)}`,
          `  requests to the management API server: ${idleRequestRate.toFixed(1)}/s idle, ${busyRequestRate.toFixed(1)}/s during the edits and the distribution (raw PATCH capacity ${Math.round(raw.perSecond)}/s)`,
          `  welcomed streams that ended outside the restart: ${drops}; harness CPU ${harnessCores.toFixed(2)} cores`,
        ].join('\n'),
      );
      say(rows.at(-1) ?? '');
    }
  } finally {
    for (const proc of processes) await proc.stop().catch(() => {});
    await lab.stop();
  }
  console.log(rows.join('\n'));
}

/** Requests the server sent to the API server so far (kuberelay_mgmt_kube_requests_total, all labels). */
function kubeRequests(metrics: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const [name, value] of metrics)
    if (name.startsWith('kuberelay_mgmt_kube_requests_total')) sum += value;
  return sum;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
