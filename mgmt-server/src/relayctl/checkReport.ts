import { compareStrings, type KubernetesClusterStatus, type RejectedAgentRecord } from '@kuberelay/shared';
import { formatAge, HEALTH_EMOJI, Health, healthLine, renderTable, worstHealth } from './render.js';
import { SERVER_LEASE_STALE_AFTER_MS, type ServerReplica } from './serverLeases.js';

// The pure half of `relayctl check`: from what was read (Leases, KubernetesClusters, the
// rejected-agents ConfigMap, /readyz probes) to a report value, and from the report to text.

export const ReadyzState = { ready: 'ready', notReady: 'not-ready', unreachable: 'unreachable' } as const;
export type ReadyzState = (typeof ReadyzState)[keyof typeof ReadyzState];

export interface ReadyzResult {
  readonly url: string;
  readonly state: ReadyzState;
  /** `HTTP 200`, or why it could not be reached. */
  readonly detail: string;
}

export interface ClusterObservation {
  readonly name: string;
  readonly status: KubernetesClusterStatus | undefined;
}

/** One key of the rejected-agents ConfigMap, as decoded by the shared codec. */
export type RejectedObservation = RejectedAgentRecord;

export interface CheckInput {
  readonly context: string;
  readonly namespace: string;
  readonly now: Date;
  readonly namespaceExists: boolean;
  readonly replicas: readonly ServerReplica[];
  /** By Lease name; only fresh replicas with an http-address are probed. */
  readonly readyz: ReadonlyMap<string, ReadyzResult>;
  readonly clusters: readonly ClusterObservation[];
  readonly rejected: readonly RejectedObservation[];
}

export interface Finding {
  readonly health: Health;
  readonly message: string;
}

export const SectionId = { server: 'server', connectivity: 'connectivity', rejected: 'rejected' } as const;
export type SectionId = (typeof SectionId)[keyof typeof SectionId];

export interface CheckSection {
  readonly id: SectionId;
  readonly title: string;
  readonly health: Health;
  readonly findings: readonly Finding[];
}

export interface ReplicaReport {
  readonly pod: string;
  readonly lease: string;
  readonly holder: string | null;
  readonly renewTime: string | null;
  readonly renewedSecondsAgo: number | null;
  readonly fresh: boolean;
  readonly grpcAddress: string | null;
  readonly httpAddress: string | null;
  readonly mgmtCluster: string | null;
  readonly readyz: ReadyzResult | null;
}

export interface ClusterReport {
  readonly name: string;
  readonly registered: true;
  /** Connected, and the replica holding the stream is alive (its Lease is fresh). */
  readonly connected: boolean;
  /** `status.connected` as the server last wrote it. */
  readonly reportedConnected: boolean;
  readonly connectedPod: string | null;
  readonly agentVersion: string | null;
  readonly agentPod: string | null;
  readonly lastHeartbeat: string | null;
  readonly sentVersion: string | null;
  readonly ackedVersion: string | null;
  /** The UpToDate condition: null when absent or Unknown. */
  readonly upToDate: boolean | null;
  readonly counts: {
    applied: number;
    failed: number;
    conflict: number;
    pending: number;
    /** 0 when the status comes from a server that did not count warnings yet. */
    warnings: number;
  } | null;
}

export interface ConnectedPodReport {
  readonly pod: string;
  readonly clusters: readonly string[];
}

export interface RejectedReport {
  readonly cluster: string;
  readonly registered: boolean;
  readonly lastAttempt: string | null;
  readonly reason: string | null;
  readonly code: string | null;
  readonly peer: string | null;
  readonly count: number | null;
}

/**
 * `relayctl check -o json`. Stable: fields are only ever added. Absent values are null, never
 * missing. `ok` is true exactly when the exit code is 0.
 */
export interface CheckReport {
  readonly kind: 'RelayctlCheck';
  readonly schemaVersion: 1;
  readonly context: string;
  readonly namespace: string;
  readonly checkedAt: string;
  readonly ok: boolean;
  readonly health: Health;
  readonly server: { readonly health: Health; readonly replicas: readonly ReplicaReport[] };
  readonly clusters: readonly ClusterReport[];
  readonly connectedPods: readonly ConnectedPodReport[];
  readonly rejectedAgents: readonly RejectedReport[];
  readonly sections: readonly CheckSection[];
}

const TITLES: Readonly<Record<SectionId, string>> = {
  server: 'Mgmt server',
  connectivity: 'Mgmt server connectivity to workload agents',
  rejected: 'Agents refused by the mgmt server',
};

export function buildCheckReport(input: CheckInput): CheckReport {
  const replicas = input.replicas.map((r) => replicaReport(r, input.readyz.get(r.lease)));
  const server = serverSection(input, replicas);
  const clusters = [...input.clusters]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((c) => clusterReport(c, input.replicas));
  const connectivity = connectivitySection(input, clusters);
  const registered = new Set(clusters.map((c) => c.name));
  const rejectedAgents = [...input.rejected]
    .sort((a, b) => compareStrings(a.cluster, b.cluster))
    .map((r) => rejectedReport(r, registered));
  const rejected = rejectedSection(input.rejected, rejectedAgents);
  const sections = [server, connectivity, rejected];
  const serverUp = replicas.some((r) => r.fresh) && input.namespaceExists;
  return {
    kind: 'RelayctlCheck',
    schemaVersion: 1,
    context: input.context,
    namespace: input.namespace,
    checkedAt: input.now.toISOString(),
    ok: serverUp && clusters.every((c) => c.connected),
    health: worstHealth(sections.map((s) => s.health)),
    server: { health: server.health, replicas },
    clusters,
    connectedPods: connectedPods(clusters),
    rejectedAgents,
    sections,
  };
}

function replicaReport(r: ServerReplica, readyz: ReadyzResult | undefined): ReplicaReport {
  return {
    pod: r.pod,
    lease: r.lease,
    holder: r.holder ?? null,
    renewTime: r.renewTime ?? null,
    renewedSecondsAgo: r.ageMs === undefined ? null : Math.max(0, Math.floor(r.ageMs / 1000)),
    fresh: r.fresh,
    grpcAddress: r.grpcAddress ?? null,
    httpAddress: r.httpAddress ?? null,
    mgmtCluster: r.mgmtCluster ?? null,
    readyz: readyz ?? null,
  };
}

function serverSection(input: CheckInput, replicas: readonly ReplicaReport[]): CheckSection {
  const findings: Finding[] = [];
  const staleAfter = formatAge(SERVER_LEASE_STALE_AFTER_MS);
  if (!input.namespaceExists) {
    findings.push({
      health: Health.error,
      message: `namespace ${input.namespace} does not exist in context "${input.context}": is the management server installed there? (-n selects its namespace)`,
    });
  } else if (replicas.length === 0) {
    findings.push({
      health: Health.error,
      message: `no management server is running: no Lease kuberelay-mgmt-server-* in namespace ${input.namespace}`,
    });
  } else if (!replicas.some((r) => r.fresh)) {
    findings.push({
      health: Health.error,
      message: `no management server is running: no replica renewed its Lease in the last ${staleAfter}`,
    });
  }
  const anyFresh = replicas.some((r) => r.fresh);
  for (const r of replicas) {
    const renewed =
      r.renewedSecondsAgo === null ? 'never renewed' : `renewed ${formatAge(r.renewedSecondsAgo * 1000)} ago`;
    if (!r.fresh) {
      findings.push({
        health: anyFresh ? Health.warning : Health.error,
        message: `replica ${r.pod}: Lease ${renewed} (stopped? a replica renews it every 10s)`,
      });
      continue;
    }
    const parts = [`replica ${r.pod}: running (Lease ${renewed})`];
    if (r.grpcAddress) parts.push(`gRPC ${r.grpcAddress}`);
    let health: Health = Health.ok;
    if (r.readyz) {
      if (r.readyz.state === ReadyzState.ready)
        parts.push(`${r.readyz.url} answers ready (${r.readyz.detail})`);
      else if (r.readyz.state === ReadyzState.notReady) {
        health = Health.warning;
        parts.push(`${r.readyz.url} answers NOT ready (${r.readyz.detail})`);
      } else parts.push(`${r.readyz.url} is not reachable from here (${r.readyz.detail})`);
    }
    findings.push({ health, message: parts.join('; ') });
  }
  return section(SectionId.server, findings);
}

function clusterReport(c: ClusterObservation, replicas: readonly ServerReplica[]): ClusterReport {
  const s = c.status ?? {};
  const pod = s.connectedPod ? s.connectedPod : null;
  const reported = s.connected === true;
  const podName = pod?.slice(pod.lastIndexOf('/') + 1);
  const holder = replicas.find((r) => r.pod === podName);
  const upToDate = s.conditions?.find((cond) => cond.type === 'UpToDate');
  return {
    name: c.name,
    registered: true,
    connected: reported && holder?.fresh === true,
    reportedConnected: reported,
    connectedPod: pod,
    agentVersion: s.agentVersion || null,
    agentPod: s.agentPod || null,
    lastHeartbeat: s.lastHeartbeat || null,
    sentVersion: s.sentVersion || null,
    ackedVersion: s.ackedVersion || null,
    upToDate: upToDate?.status === 'True' ? true : upToDate?.status === 'False' ? false : null,
    counts: s.counts ? { ...s.counts, warnings: s.counts.warnings ?? 0 } : null,
  };
}

function connectivitySection(input: CheckInput, clusters: readonly ClusterReport[]): CheckSection {
  const findings: Finding[] = [];
  if (clusters.length === 0) {
    findings.push({
      health: Health.warning,
      message: `no workload clusters are registered; run relayctl register <cluster> --kubecontext ${input.context} --remote-context <workload-context>`,
    });
  }
  const byName = new Map(input.clusters.map((c) => [c.name, c.status]));
  for (const c of clusters) {
    const status = byName.get(c.name);
    if (!c.connected) findings.push({ health: Health.error, message: notConnectedMessage(c, input) });
    // A disconnected agent is behind by definition, and already reported above.
    if (c.connected && c.upToDate === false) {
      const cond = status?.conditions?.find((x) => x.type === 'UpToDate');
      const versions = `sent ${c.sentVersion ?? '-'}, acknowledged ${c.ackedVersion ?? '-'}`;
      const rejected = status?.lastRejectedAttempt
        ? `; last rejected version ${status.lastRejectedAttempt.version}: ${status.lastRejectedAttempt.message}`
        : '';
      const why = cond?.message ? `: ${cond.message}` : '';
      findings.push({
        health: Health.warning,
        message: `${c.name}: the agent has not acknowledged the latest version (${versions})${why}${rejected}`,
      });
    }
    if (c.counts && (c.counts.failed > 0 || c.counts.conflict > 0)) {
      findings.push({
        health: Health.warning,
        message: `${c.name}: ${c.counts.failed} ${c.counts.failed === 1 ? 'copy' : 'copies'} failed, ${c.counts.conflict} in conflict (relayctl status shows which)`,
      });
    }
    const warned = c.counts?.warnings ?? 0; // (null counts: nothing reported yet)
    if (warned > 0) {
      findings.push({
        health: Health.warning,
        message: `${c.name}: ${warned} applied ${warned === 1 ? 'copy differs' : 'copies differ'} from the source where the workload cluster dropped or changed fields (an older CRD?); relayctl status names them`,
      });
    }
  }
  return section(SectionId.connectivity, findings);
}

function notConnectedMessage(c: ClusterReport, input: CheckInput): string {
  if (c.reportedConnected) {
    return `${c.name}: not connected: its status says connected to ${c.connectedPod ?? '?'}, but that server replica is not running (no fresh Lease); the agent should reconnect to another replica`;
  }
  const heartbeat = c.lastHeartbeat
    ? `last heartbeat ${formatAge(input.now.getTime() - Date.parse(c.lastHeartbeat))} ago`
    : 'it never connected';
  return `${c.name}: agent not connected (${heartbeat}); check the agent in that cluster and its credentials Secret`;
}

function connectedPods(clusters: readonly ClusterReport[]): ConnectedPodReport[] {
  const byPod = new Map<string, string[]>();
  for (const c of clusters) {
    if (!c.connected || c.connectedPod === null) continue;
    const list = byPod.get(c.connectedPod) ?? [];
    list.push(c.name);
    byPod.set(c.connectedPod, list);
  }
  return [...byPod.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([pod, names]) => ({ pod, clusters: names }));
}

function rejectedReport(r: RejectedObservation, registered: ReadonlySet<string>): RejectedReport {
  return {
    cluster: r.cluster,
    registered: registered.has(r.cluster),
    lastAttempt: r.entry.lastAttempt ?? null,
    reason: r.entry.reason ?? r.problem ?? null,
    code: r.entry.code ?? null,
    peer: r.entry.peer ?? null,
    count: r.entry.count ?? null,
  };
}

function rejectedSection(
  observed: readonly RejectedObservation[],
  reports: readonly RejectedReport[],
): CheckSection {
  if (reports.length === 0) return section(SectionId.rejected, []);
  const findings = reports.map((r): Finding => {
    const hint = r.registered ? '' : `; if it should connect, run relayctl register ${r.cluster}`;
    const code = r.code ? `${r.code}: ` : '';
    const unreadable = observed.find((o) => o.cluster === r.cluster)?.problem;
    return {
      health: Health.warning,
      message: unreadable
        ? `agent claiming "${r.cluster}": unreadable record (${unreadable})`
        : `agent claiming "${r.cluster}"${r.registered ? '' : ' (not registered)'} was refused ${r.count ?? '?'} time(s), last from ${r.peer ?? '?'}: ${code}${r.reason ?? ''}${hint}`,
    };
  });
  return section(SectionId.rejected, findings);
}

function section(id: SectionId, findings: readonly Finding[]): CheckSection {
  return { id, title: TITLES[id], health: worstHealth(findings.map((f) => f.health)), findings };
}

/** The report as meshctl-style text. */
export function renderCheckReport(report: CheckReport, options: { now: Date }): string {
  const out: string[] = [];
  for (const s of report.sections) {
    out.push(`${HEALTH_EMOJI[s.health]} ${s.title}`);
    if (s.id === SectionId.connectivity && report.clusters.length > 0) {
      out.push(
        renderTable(
          ['Cluster', 'Registered', 'Connected Pod'],
          report.clusters.map((c) => [
            c.name,
            String(c.registered),
            c.connected ? (c.connectedPod ?? '') : '-',
          ]),
          { separator: ' | ' },
        ).trimEnd(),
      );
      if (report.connectedPods.length > 0) {
        out.push(
          '',
          renderTable(
            ['Connected Pod', 'Clusters'],
            report.connectedPods.map((p) => [p.pod, String(p.clusters.length)]),
            { separator: ' | ' },
          ).trimEnd(),
        );
      }
    }
    if (s.id === SectionId.rejected && report.rejectedAgents.length > 0) {
      out.push(
        renderTable(
          ['Claimed Cluster', 'Registered', 'Attempts', 'Last Attempt', 'Code', 'Peer'],
          report.rejectedAgents.map((r) => [
            r.cluster,
            String(r.registered),
            r.count === null ? '-' : String(r.count),
            r.lastAttempt ? `${formatAge(options.now.getTime() - Date.parse(r.lastAttempt))} ago` : '-',
            r.code ?? '-',
            r.peer ?? '-',
          ]),
          { separator: ' | ' },
        ).trimEnd(),
      );
    }
    if (s.findings.length === 0) out.push(`  ${s.id === SectionId.rejected ? 'no agent was refused' : 'ok'}`);
    for (const f of s.findings) out.push(`  ${healthLine(f.health, f.message)}`);
    out.push('');
  }
  return `${out.join('\n')}`;
}
