import { Counter, Gauge, Registry } from 'prom-client';
import type { WriteVerb } from '../apply/copyApplier.js';
import { Outcome } from '../apply/copyResult.js';

/**
 * The agent's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * several agents in one process (tests) never share counters. Every series carries the agent's
 * `cluster`: the workload clusters' metrics usually meet in one place (federation, remote write,
 * Thanos), and the shipped alerts and dashboard group by it; the agent knows its name from its
 * registration, so no chart value can get it wrong.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly #writes: Counter<'verb'>;
  readonly #driftRepairs: Counter;
  readonly #pruneFailures: Counter;
  readonly #connected: Gauge;
  readonly #ackedVersion: Gauge;
  #countCopies: () => ReadonlyMap<Outcome, number> = () => new Map();
  #leading: () => boolean = () => true;
  #certificateNotAfter: () => number | undefined = () => undefined;

  constructor(cluster: string) {
    this.registry.setDefaultLabels({ cluster });
    this.#writes = new Counter({
      name: 'kuberelay_agent_writes_total',
      help: 'Writes to the workload API server, by verb. Zero growth in steady state.',
      labelNames: ['verb'],
      registers: [this.registry],
    });
    this.#driftRepairs = new Counter({
      name: 'kuberelay_agent_drift_repairs_total',
      help: 'Copies changed or deleted in the workload cluster that the agent reverted.',
      registers: [this.registry],
    });
    this.#pruneFailures = new Counter({
      name: 'kuberelay_agent_prune_failures_total',
      help: 'Deletes of copies no longer wanted that failed (each attempt; they are retried).',
      registers: [this.registry],
    });
    const notAfter = () => this.#certificateNotAfter();
    new Gauge({
      name: 'kuberelay_agent_certificate_expiry_timestamp_seconds',
      help: 'When the client certificate the agent presents expires (seconds since the epoch); absent while it has none.',
      registers: [this.registry],
      collect() {
        this.reset();
        const at = notAfter();
        if (at !== undefined) this.set(at / 1000);
      },
    });
    const countCopies = () => this.#countCopies();
    new Gauge({
      name: 'kuberelay_agent_copies',
      help: 'Copies the agent holds, by the outcome of their last apply.',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const counts = countCopies();
        for (const outcome of Object.values(Outcome)) this.set({ outcome }, counts.get(outcome) ?? 0);
      },
    });
    this.#connected = new Gauge({
      name: 'kuberelay_agent_connected',
      help: '1 while a stream to the management server is open and welcomed.',
      registers: [this.registry],
    });
    this.#ackedVersion = new Gauge({
      name: 'kuberelay_agent_acked_version',
      help: 'The last version the agent acknowledged.',
      registers: [this.registry],
    });
    const leading = () => this.#leading();
    new Gauge({
      name: 'kuberelay_agent_leader',
      help: '1 while this replica leads (writes copies, holds the stream); 0 while it stands by.',
      registers: [this.registry],
      collect() {
        this.set(leading() ? 1 : 0);
      },
    });
    for (const verb of ['create', 'update', 'delete']) this.#writes.inc({ verb }, 0);
  }

  recordWrite(verb: WriteVerb): void {
    this.#writes.inc({ verb });
  }

  recordDriftRepair(): void {
    this.#driftRepairs.inc();
  }

  recordPruneFailure(): void {
    this.#pruneFailures.inc();
  }

  setConnected(connected: boolean): void {
    this.#connected.set(connected ? 1 : 0);
  }

  setAckedVersion(version: number): void {
    this.#ackedVersion.set(version);
  }

  /** Where the leader gauge reads whether this replica leads, at scrape time. */
  leadingWith(leading: () => boolean): void {
    this.#leading = leading;
  }

  /** Where the certificate gauge reads the client certificate's notAfter (ms), at scrape time. */
  certificateWith(notAfter: () => number | undefined): void {
    this.#certificateNotAfter = notAfter;
  }

  /** Where the copies gauge reads its counts at scrape time. */
  countCopiesWith(count: () => ReadonlyMap<Outcome, number>): void {
    this.#countCopies = count;
  }
}
