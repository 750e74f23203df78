import { decodeRejectedAgents } from '@kuberelay/shared';
import { buildCheckReport, type ClusterObservation, renderCheckReport } from './checkReport.js';
import { ExitCode, isForbidden } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, requirePositionals } from './flags.js';
import {
  type ConfigMapObject,
  type KubernetesClusterObject,
  kubernetesClusterRef,
  type LeaseObject,
  leaseRef,
  namespaceRef,
  rejectedAgentsRef,
} from './kubeResources.js';
import { renderJson } from './render.js';
import { probeReplicas } from './replicaLiveness.js';
import { serverReplicas } from './serverLeases.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'check the management server and the connection of every registered workload cluster',
  usage: `Check the management server and its connections to the workload agents (like meshctl check).

Usage:
  relayctl check [--kubecontext MGMT] [-n NAMESPACE] [-o table|json] [--no-probe]

Sections:
  Mgmt server                       a replica is running when its Lease kuberelay-mgmt-server-<pod>
                                    was renewed in the last 30s and its /readyz answers (a crashed
                                    or frozen replica keeps a fresh Lease for up to 30s)
  Mgmt server connectivity to       every registered cluster (KubernetesCluster): connected only
    workload agents                 while the server process that wrote its status still holds
                                    the replica's Lease, answers /readyz, and refreshed the
                                    heartbeat in the last 60s; and whether its agent acknowledged
                                    the current desired state. Then "Connected Pod | Clusters":
                                    each replica that can hold streams (fresh Lease, /readyz
                                    answers) and the clusters it holds (0 for none; a dead
                                    replica is not listed, and its clusters are not connected)
  Agents refused by the mgmt server agents that tried to connect with a cluster name that is not
                                    registered, or with wrong credentials (ConfigMap
                                    kuberelay-rejected-agents)

Options:
      --no-probe   do not probe /readyz (when relayctl runs where the server's HTTP port cannot be
                   reached); a crashed replica is then seen only once its Lease is 30s old

Exit code: 0 when a server replica is running and every registered cluster is connected and up
to date (its agent acknowledged the current desired state, and left no copy of a deleted source
behind), 1 otherwise (or on error), 2 on a
wrong command line.

-o json prints one object (fields are only ever added; absent values are null):
  { "kind": "RelayctlCheck", "schemaVersion": 1, "context", "namespace", "checkedAt",
    "ok": bool (exit code 0), "health": "ok"|"warning"|"error",
    "server": { "health", "replicas": [ { "pod", "lease", "holder", "renewTime",
        "renewedSecondsAgo", "fresh", "grpcAddress", "httpAddress", "mgmtCluster", "sharedWith",
        "readyz": null | { "url", "state": "ready"|"not-ready"|"unreachable", "detail" } } ] },
    "clusters": [ { "name", "registered", "connected", "reportedConnected", "notConnectedReason",
        "connectedPod", "serverInstance", "agentVersion", "agentPod", "agentReplicas", "lastHeartbeat",
        "sentVersion", "ackedVersion", "upToDate": bool|null, "behind", "counts": null | { "applied", "failed", "conflict", "pending", "warnings", "notPruned" } } ],
    "connectedPods": [ { "pod": "<namespace>/<pod>", "clusters": [names] } ] (every replica that
        can hold streams, also those holding none),
    "rejectedAgents": [ { "cluster", "registered", "lastAttempt", "reason", "code", "peer", "count" } ],
    "sections": [ { "id": "server"|"connectivity"|"rejected", "title", "health",
        "findings": [ { "health", "message" } ] } ] }`,
  options: { 'no-probe': { type: 'boolean' } },
  run: runCheck,
};

async function runCheck(ctx: CommandContext, parsed: Parameters<Command['run']>[1]): Promise<number> {
  requirePositionals(parsed, 'check', []);
  const { io, globals } = ctx;
  const kube = ctx.mgmt();
  const ns = globals.namespace;
  const now = io.now();
  const [namespace, leases, clusters, rejected] = await Promise.all([
    // Reading a namespace is cluster-scoped: a user allowed only inside it gets 403, which
    // still tells us nothing is wrong with it.
    kube.get(namespaceRef(ns), `reading namespace ${ns}`).then(
      (found) => found !== undefined,
      (error: unknown) => (isForbidden(error) ? true : Promise.reject(error)),
    ),
    kube.list<LeaseObject>(leaseRef(ns), `listing the server Leases in ${ns}`),
    kube.list<KubernetesClusterObject>(kubernetesClusterRef(ns), `listing KubernetesClusters in ${ns}`),
    kube.get<ConfigMapObject>(rejectedAgentsRef(ns), `reading the rejected-agents ConfigMap in ${ns}`),
  ]);
  const replicas = serverReplicas(leases, now);
  const report = buildCheckReport({
    context: kube.context,
    namespace: ns,
    now,
    namespaceExists: namespace,
    replicas,
    readyz: parsed.booleans.has('no-probe') ? new Map() : await probeReplicas(ctx.io, replicas),
    clusters: clusters.map((c): ClusterObservation => ({ name: c.metadata.name, status: c.status })),
    rejected: decodeRejectedAgents(rejected?.data),
  });
  io.stdout(globals.output === OutputFormat.json ? renderJson(report) : renderCheckReport(report, { now }));
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
