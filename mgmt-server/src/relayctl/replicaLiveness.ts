import { type ClusterObservation, type ReadyzResult, ReadyzState } from './checkReportTypes.js';
import { clusterReport } from './checkSections.js';
import type { CliIo } from './cliIo.js';
import { readyzUrl, type ServerReplica } from './serverLeases.js';

// Whether the server replica a cluster's status names is still alive, for every command that
// shows "connected": a status is only as true as the process that wrote it, and a replica killed
// with SIGKILL writes nothing on its way out. `check` and `status` judge it the same way.

/** Probes /readyz of every running replica that announces an HTTP address, in parallel. */
export async function probeReplicas(
  io: Pick<CliIo, 'probeHttp'>,
  replicas: readonly ServerReplica[],
): Promise<ReadonlyMap<string, ReadyzResult>> {
  const probed = await Promise.all(
    replicas
      .filter((r) => r.fresh && r.httpAddress !== undefined)
      .map(async (r): Promise<[string, ReadyzResult]> => {
        const url = readyzUrl(r.httpAddress ?? '');
        const res = await io.probeHttp(url);
        if (!res.ok) return [r.lease, { url, state: ReadyzState.unreachable, detail: res.error }];
        const state = res.status >= 200 && res.status < 300 ? ReadyzState.ready : ReadyzState.notReady;
        return [r.lease, { url, state, detail: `HTTP ${res.status}` }];
      }),
  );
  return new Map(probed);
}

/**
 * The clusters with `connected` as relayctl can verify it (checkSections' clusterReport: the
 * holder's Lease fresh and held by the process that wrote the status, its /readyz answering when
 * probed, the heartbeat recent): a status left saying connected by a dead replica reads
 * disconnected. Pure.
 */
export function withVerifiedConnection(options: {
  readonly clusters: readonly ClusterObservation[];
  readonly replicas: readonly ServerReplica[];
  readonly readyz: ReadonlyMap<string, ReadyzResult>;
  readonly now: Date;
}): ClusterObservation[] {
  const { replicas, readyz, now } = options;
  return options.clusters.map((c) => {
    if (c.status?.connected !== true || clusterReport(c, replicas, readyz, now).connected) return c;
    return { ...c, status: { ...c.status, connected: false } };
  });
}
