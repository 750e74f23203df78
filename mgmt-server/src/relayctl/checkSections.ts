import {
  type CheckInput,
  type CheckSection,
  type ClusterObservation,
  type ClusterReport,
  type Finding,
  type ReadyzResult,
  ReadyzState,
  type RejectedObservation,
  type RejectedReport,
  type ReplicaReport,
  SectionId,
} from './checkReportTypes.js';
import { formatAge, Health, worstHealth } from './render.js';
import { SERVER_LEASE_STALE_AFTER_MS, type ServerReplica } from './serverLeases.js';

// The three sections of `relayctl check`, one block each: the server replicas, the clusters'
// connectivity, and the refused agents. Each turns observations into report rows and findings.

const TITLES: Readonly<Record<SectionId, string>> = {
  server: 'Mgmt server',
  connectivity: 'Mgmt server connectivity to workload agents',
  rejected: 'Agents refused by the mgmt server',
};

export function replicaReport(r: ServerReplica, readyz: ReadyzResult | undefined): ReplicaReport {
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
    sharedWith: r.sharedWith ?? null,
    readyz: readyz ?? null,
  };
}

export function serverSection(input: CheckInput, replicas: readonly ReplicaReport[]): CheckSection {
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
    if (r.sharedWith !== null) {
      findings.push({
        health: Health.error,
        message: `replica ${r.pod}: two server processes renew its Lease (${r.holder ?? '?'} and ${r.sharedWith}): each must run with its own --pod-name, or their statuses mix and one is invisible here`,
      });
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
      } else {
        // Trusted over the Lease, which stays fresh for up to 30 s after a crash or a freeze.
        health = Health.error;
        parts.push(
          `${r.readyz.url} does not answer (${r.readyz.detail}): crashed or frozen? (if relayctl cannot reach the server's HTTP port from here, run it where it can, or pass --no-probe to trust the Lease alone)`,
        );
      }
    }
    findings.push({ health, message: parts.join('; ') });
  }
  return section(SectionId.server, findings);
}

/**
 * A heartbeat in status older than this means the holder stopped refreshing it: the server
 * writes it every 30 s while the agent is connected (StatusWriter), so twice that is a bound no
 * live connection exceeds.
 */
export const HEARTBEAT_STALE_AFTER_MS = 60_000;

export function clusterReport(
  c: ClusterObservation,
  replicas: readonly ServerReplica[],
  readyz: ReadonlyMap<string, ReadyzResult>,
  now: Date,
): ClusterReport {
  const s = c.status ?? {};
  const pod = s.connectedPod ? s.connectedPod : null;
  const reported = s.connected === true;
  const podName = pod?.slice(pod.lastIndexOf('/') + 1);
  const holder = replicas.find((r) => r.pod === podName);
  const upToDate = s.conditions?.find((cond) => cond.type === 'UpToDate');
  const heartbeatAge = s.lastHeartbeat ? now.getTime() - Date.parse(s.lastHeartbeat) : undefined;
  let notConnectedReason: string | null = null;
  if (reported) {
    if (holder?.fresh !== true) {
      notConnectedReason = `its status says connected to ${pod ?? '?'}, but that server replica is not running (no fresh Lease); the agent should reconnect to another replica`;
    } else if (s.serverInstance && holder.holder !== s.serverInstance) {
      notConnectedReason = `its status was written by server process ${s.serverInstance}, which is gone (${holder.pod} now runs ${holder.holder ?? '?'}), and the agent has not reconnected since`;
    } else if (readyz.get(holder.lease)?.state === ReadyzState.unreachable) {
      notConnectedReason = `the server replica ${pod ?? '?'} holding its stream does not answer /readyz (crashed or frozen?)`;
    } else if (heartbeatAge !== undefined && heartbeatAge > HEARTBEAT_STALE_AFTER_MS) {
      notConnectedReason = `its last heartbeat in status is ${formatAge(heartbeatAge)} old (refreshed every 30s while connected): the server holding it is stuck`;
    }
  }
  const connected = reported && notConnectedReason === null;
  return {
    name: c.name,
    registered: true,
    connected,
    reportedConnected: reported,
    notConnectedReason,
    connectedPod: pod,
    serverInstance: s.serverInstance || null,
    agentVersion: s.agentVersion || null,
    agentPod: s.agentPod || null,
    agentReplicas: typeof s.agentReplicas === 'number' ? s.agentReplicas : null,
    lastHeartbeat: s.lastHeartbeat || null,
    sentVersion: s.sentVersion || null,
    ackedVersion: s.ackedVersion || null,
    upToDate: upToDate?.status === 'True' ? true : upToDate?.status === 'False' ? false : null,
    behind: connected && upToDate?.status !== 'True' && upToDate?.reason !== 'DistributionDisabled',
    counts: s.counts
      ? { ...s.counts, warnings: s.counts.warnings ?? 0, notPruned: s.counts.notPruned ?? 0 }
      : null,
  };
}

export function connectivitySection(input: CheckInput, clusters: readonly ClusterReport[]): CheckSection {
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
    if (c.behind) {
      const cond = status?.conditions?.find((x) => x.type === 'UpToDate');
      const versions = `sent ${c.sentVersion ?? '-'}, acknowledged ${c.ackedVersion ?? '-'}`;
      const rejected = status?.lastRejectedAttempt
        ? `; last rejected version ${status.lastRejectedAttempt.version}: ${status.lastRejectedAttempt.message}`
        : '';
      const why = cond?.message ? `: ${cond.message}` : '';
      findings.push({
        health: Health.error,
        message: `${c.name}: behind: the agent has not acknowledged the current desired state (${versions})${why}${rejected}`,
      });
    }
    if (c.counts && (c.counts.failed > 0 || c.counts.conflict > 0)) {
      findings.push({
        health: Health.warning,
        message: `${c.name}: ${c.counts.failed} ${c.counts.failed === 1 ? 'copy' : 'copies'} failed, ${c.counts.conflict} in conflict (relayctl status shows which)`,
      });
    }
    const orphans = c.counts?.notPruned ?? 0;
    if (orphans > 0) {
      findings.push({
        health: Health.error,
        message: `${c.name}: ${orphans} ${orphans === 1 ? 'copy whose source is gone' : 'copies whose sources are gone'} could not be deleted (the agent retries); relayctl status lists them under "Orphaned copies"`,
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
  if (c.notConnectedReason !== null) {
    return `${c.name}: not connected: ${c.notConnectedReason}`;
  }
  const heartbeat = c.lastHeartbeat
    ? `last heartbeat ${formatAge(input.now.getTime() - Date.parse(c.lastHeartbeat))} ago`
    : 'it never connected';
  return `${c.name}: agent not connected (${heartbeat}); check the agent in that cluster and its credentials Secret`;
}

export function rejectedReport(r: RejectedObservation, registered: ReadonlySet<string>): RejectedReport {
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

export function rejectedSection(
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

export function section(id: SectionId, findings: readonly Finding[]): CheckSection {
  return { id, title: TITLES[id], health: worstHealth(findings.map((f) => f.health)), findings };
}
