import { CopyOutcomeName } from '@kuberelay/shared';
import { parseCertificate } from '@kuberelay/shared/pki';
import { Gauge, type Registry } from 'prom-client';
import type { HeldClusterFacts } from '../status/clusterStatusReporter.js';

/**
 * Per-cluster gauges, what the shipped alerts and dashboard read (deploy/charts/kuberelay/files),
 * and the expiry of the certificates this replica presents or signs with. All read at scrape time
 * from the replica's own memory: a scrape costs no request to the management API server.
 *
 * Series: `cluster_connected` has one per registered cluster on every replica (1 on the replica
 * holding the stream), so `max by (cluster)` over replicas is the fleet's answer and a cluster no
 * replica holds still has a series at 0 to alert on. The others exist only on the holder: at
 * 1,000 clusters that is ~7,000 series per replica in all.
 */
export interface FleetMetricsOptions {
  readonly registers: Registry[];
  /** Every registered cluster (the desired state's cluster set). */
  readonly registered: () => readonly string[];
  readonly held: () => readonly HeldClusterFacts[];
  /** The certificates to watch, by name, as PEM (read at each scrape; parsed once per PEM). */
  readonly certificates: () => Readonly<Record<string, string>>;
  readonly ready: () => boolean;
  readonly now: () => number;
}

/**
 * One scrape reads five gauges from the same facts: they are gathered once per this period (the
 * reporter recounts a cluster's copies only when they or its agent's results changed).
 */
const FACTS_REUSE_MS = 1_000;

export function registerFleetMetrics(options: FleetMetricsOptions): void {
  const { registers } = options;
  let facts: { at: number; held: readonly HeldClusterFacts[] } | undefined;
  const held = () => {
    const now = options.now();
    if (facts === undefined || now - facts.at >= FACTS_REUSE_MS) facts = { at: now, held: options.held() };
    return facts.held;
  };
  new Gauge({
    name: 'kuberelay_mgmt_cluster_connected',
    help: "1 for each registered cluster whose agent's stream this replica holds, 0 for the others.",
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      const holding = new Set(held().map((f) => f.cluster));
      for (const cluster of options.registered()) this.set({ cluster }, holding.has(cluster) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kuberelay_mgmt_cluster_copies',
    help: 'Desired copies of each cluster this replica holds, by the outcome its agent last reported.',
    labelNames: ['cluster', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const f of held()) {
        for (const outcome of Object.values(CopyOutcomeName)) {
          this.set({ cluster: f.cluster, outcome }, f.copies[outcome]);
        }
      }
    },
  });
  new Gauge({
    name: 'kuberelay_mgmt_copies',
    help: 'Copies by last reported outcome, over the clusters this replica serves.',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      for (const outcome of Object.values(CopyOutcomeName)) {
        let n = 0;
        for (const f of held()) n += f.copies[outcome];
        this.set({ outcome }, n);
      }
    },
  });
  new Gauge({
    name: 'kuberelay_mgmt_cluster_not_pruned',
    help: 'Copies no longer desired that the agent of each held cluster could not delete.',
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      for (const f of held()) this.set({ cluster: f.cluster }, f.notPruned);
    },
  });
  new Gauge({
    name: 'kuberelay_mgmt_cluster_behind_seconds',
    help: "Seconds since each held cluster's desired state first differed from what its agent acknowledged; 0 when up to date.",
    labelNames: ['cluster'],
    registers,
    collect() {
      this.reset();
      for (const f of held()) this.set({ cluster: f.cluster }, f.behindSeconds);
    },
  });
  const notAfter = new Map<string, number>();
  new Gauge({
    name: 'kuberelay_mgmt_certificate_expiry_timestamp_seconds',
    help: 'When each certificate expires (seconds since the epoch): relay-ca signs agent and server certificates; server is what agents see.',
    labelNames: ['certificate'],
    registers,
    collect() {
      this.reset();
      const current = options.certificates();
      for (const pem of [...notAfter.keys()]) if (!Object.values(current).includes(pem)) notAfter.delete(pem);
      for (const [certificate, pem] of Object.entries(current)) {
        let at = notAfter.get(pem);
        if (at === undefined) {
          at = parseCertificate(pem).notAfter.getTime() / 1000;
          notAfter.set(pem, at);
        }
        this.set({ certificate }, at);
      }
    },
  });
  new Gauge({
    name: 'kuberelay_mgmt_ready',
    help: '1 while this replica is ready (/readyz): informers synced and gRPC serving.',
    registers,
    collect() {
      this.set(options.ready() ? 1 : 0);
    },
  });
}
