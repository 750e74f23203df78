import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { LimitCode } from '../limits/limitRefusal.js';
import { StreamEndCode } from '../stream/streamError.js';
import { type FleetMetricsOptions, registerFleetMetrics } from './fleetMetrics.js';

/**
 * The management server's Prometheus metrics, on a registry of its own (several servers in one
 * process, as in tests, must not share counters). Names are `kuberelay_mgmt_*`.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly connectedAgents: Gauge;
  readonly versionsSent: Counter<'cluster'>;
  readonly versionsAcked: Counter<'cluster'>;
  readonly nacks: Counter<'cluster' | 'reason'>;
  readonly rejectedStreams: Counter<'code'>;
  /** Streams that held their cluster and ended, by how (a takeover by a newer stream is not one). */
  readonly streamDisconnects: Counter<'code'>;
  readonly refusedConnections: Counter<'code'>;
  readonly openConnections: Gauge;
  /** Seconds from the source change that produced a version to the agent's Ack of it. */
  readonly editToAck: Histogram;
  readonly recomputeSeconds: Histogram;
  readonly kubeRequests: Counter<'verb' | 'code'>;
}

export interface ServerMetricsOptions {
  readonly connectedAgents: () => number;
  /** TCP connections open on the gRPC port (agents, probes, and anything else that dialled). */
  readonly openConnections: () => number;
  /** The per-cluster, certificate and readiness gauges (fleetMetrics.ts). */
  readonly fleet: Omit<FleetMetricsOptions, 'registers'>;
}

export function createServerMetrics(options: ServerMetricsOptions): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  // The process metrics every Node service exposes (CPU, RSS, heap, GC, event-loop delay p99 and
  // max since the last scrape), under their usual names so standard dashboards work.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  registerFleetMetrics({ ...options.fleet, registers });
  // Labelled by a closed set of codes: every series exists from the start at 0, so rate() and the
  // alerts see the first one, and a dashboard shows 0 rather than "no data".
  const codes = [...Object.values(StreamEndCode), 'Closed'];
  const rejectedStreams = new Counter({
    name: 'kuberelay_mgmt_rejected_streams_total',
    help: 'Agent streams refused (authentication, registration, protocol), by code.',
    labelNames: ['code'],
    registers,
  });
  const streamDisconnects = new Counter({
    name: 'kuberelay_mgmt_stream_disconnects_total',
    help: 'Agent streams that held their cluster and ended, by code (Closed: the agent or the network closed it).',
    labelNames: ['code'],
    registers,
  });
  const refusedConnections = new Counter({
    name: 'kuberelay_mgmt_refused_connections_total',
    help: 'TCP connections to the gRPC port closed before TLS because a connection limit was reached, by code.',
    labelNames: ['code'],
    registers,
  });
  for (const code of codes) {
    rejectedStreams.inc({ code }, 0);
    streamDisconnects.inc({ code }, 0);
  }
  for (const code of [LimitCode.TooManyConnections, LimitCode.TooManyConnectionsFromAddress]) {
    refusedConnections.inc({ code }, 0);
  }
  return {
    registry,
    connectedAgents: new Gauge({
      name: 'kuberelay_mgmt_connected_agents',
      help: 'Agent streams this replica holds.',
      registers,
      collect() {
        this.set(options.connectedAgents());
      },
    }),
    versionsSent: new Counter({
      name: 'kuberelay_mgmt_versions_sent_total',
      help: 'Snapshot versions sent, per cluster.',
      labelNames: ['cluster'],
      registers,
    }),
    versionsAcked: new Counter({
      name: 'kuberelay_mgmt_versions_acked_total',
      help: 'Snapshot versions acknowledged, per cluster.',
      labelNames: ['cluster'],
      registers,
    }),
    nacks: new Counter({
      name: 'kuberelay_mgmt_nacks_total',
      help: 'Snapshot versions rejected by agents, per cluster and reason.',
      labelNames: ['cluster', 'reason'],
      registers,
    }),
    rejectedStreams,
    streamDisconnects,
    refusedConnections,
    openConnections: new Gauge({
      name: 'kuberelay_mgmt_open_connections',
      help: 'TCP connections open on the gRPC port, whatever they carry (counted before TLS).',
      registers,
      collect() {
        this.set(options.openConnections());
      },
    }),
    editToAck: new Histogram({
      name: 'kuberelay_mgmt_edit_to_ack_seconds',
      help: 'Time from the source change that produced a version to its acknowledgement by the agent.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    recomputeSeconds: new Histogram({
      name: 'kuberelay_mgmt_desired_state_compute_seconds',
      help: 'Time to compute the desired state of every cluster.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    kubeRequests: new Counter({
      name: 'kuberelay_mgmt_kube_requests_total',
      help: 'Requests this replica sent to the management API server (watches included), by verb and HTTP status.',
      labelNames: ['verb', 'code'],
      registers,
    }),
  };
}
