import { compareStrings } from '@kuberelay/shared';
import {
  type CheckInput,
  type CheckReport,
  type ClusterReport,
  type ConnectedPodReport,
  ReadyzState,
  SectionId,
} from './checkReportTypes.js';
import {
  clusterReport,
  connectivitySection,
  rejectedReport,
  rejectedSection,
  replicaReport,
  serverSection,
} from './checkSections.js';
import { formatAge, HEALTH_EMOJI, healthLine, renderTable, worstHealth } from './render.js';

// The pure half of `relayctl check`: from what was read (Leases, KubernetesClusters, the
// rejected-agents ConfigMap, /readyz probes) to a report value, and from the report to text. The
// report's shape is in checkReportTypes.ts and its sections in checkSections.ts; the types are
// re-exported here, where other modules import them.

export * from './checkReportTypes.js';

export function buildCheckReport(input: CheckInput): CheckReport {
  const replicas = input.replicas.map((r) => replicaReport(r, input.readyz.get(r.lease)));
  const server = serverSection(input, replicas);
  const clusters = [...input.clusters]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((c) => clusterReport(c, input.replicas, input.readyz, input.now));
  const connectivity = connectivitySection(input, clusters);
  const registered = new Set(clusters.map((c) => c.name));
  const rejectedAgents = [...input.rejected]
    .sort((a, b) => compareStrings(a.cluster, b.cluster))
    .map((r) => rejectedReport(r, registered));
  const rejected = rejectedSection(input.rejected, rejectedAgents);
  const sections = [server, connectivity, rejected];
  // Two processes behind one Lease make every status of that replica doubtful: not ok either.
  const serverUp =
    replicas.some((r) => r.fresh && r.readyz?.state !== ReadyzState.unreachable) &&
    !replicas.some((r) => r.fresh && r.sharedWith !== null) &&
    input.namespaceExists;
  return {
    kind: 'RelayctlCheck',
    schemaVersion: 1,
    context: input.context,
    namespace: input.namespace,
    checkedAt: input.now.toISOString(),
    ok: serverUp && clusters.every((c) => c.connected && !c.behind && (c.counts?.notPruned ?? 0) === 0),
    health: worstHealth(sections.map((s) => s.health)),
    server: { health: server.health, replicas },
    clusters,
    connectedPods: connectedPods(input, clusters),
    rejectedAgents,
    sections,
  };
}

/**
 * Each server replica that can hold streams (a fresh Lease and a /readyz that answers, or was not
 * probed) with the clusters it holds, replicas holding none included: where the fleet's streams
 * are, and that a replica which died has none left. Pods a connected cluster names are listed too.
 */
function connectedPods(input: CheckInput, clusters: readonly ClusterReport[]): ConnectedPodReport[] {
  const byPod = new Map<string, string[]>();
  for (const r of input.replicas) {
    if (r.fresh && input.readyz.get(r.lease)?.state !== ReadyzState.unreachable) {
      byPod.set(`${input.namespace}/${r.pod}`, []);
    }
  }
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

/** Names shown per replica in the text table (JSON lists all). */
const CLUSTER_NAMES_SHOWN = 10;

/** `2 (cluster-1, cluster-2)`; past CLUSTER_NAMES_SHOWN names, `and N more`. */
export function clustersCell(names: readonly string[]): string {
  if (names.length === 0) return '0';
  const shown = names.slice(0, CLUSTER_NAMES_SHOWN).join(', ');
  const more = names.length > CLUSTER_NAMES_SHOWN ? `, and ${names.length - CLUSTER_NAMES_SHOWN} more` : '';
  return `${names.length} (${shown}${more})`;
}

/** The report as meshctl-style text. */
export function renderCheckReport(report: CheckReport, options: { now: Date }): string {
  const out: string[] = [];
  for (const s of report.sections) {
    out.push(`${HEALTH_EMOJI[s.health]} ${s.title}`);
    if (s.id === SectionId.connectivity && report.clusters.length > 0) {
      out.push(
        renderTable(
          ['Cluster', 'Registered', 'Connected Pod', 'Agent Replicas'],
          report.clusters.map((c) => [
            c.name,
            String(c.registered),
            c.connected ? (c.connectedPod ?? '') : '-',
            c.connected && c.agentReplicas !== null ? String(c.agentReplicas) : '-',
          ]),
          { separator: ' | ' },
        ).trimEnd(),
      );
      if (report.connectedPods.length > 0) {
        out.push(
          '',
          renderTable(
            ['Connected Pod', 'Clusters'],
            report.connectedPods.map((p) => [p.pod, clustersCell(p.clusters)]),
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
