import { Annotation, groupKindOf, type KindInfo } from '@kuberelay/shared';
import { CliError, CliErrorCode, ExitCode, isForbidden, oneLine } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import type { KubeClient } from './kubeClient.js';
import {
  type EventObject,
  eventsRef,
  type KubernetesClusterObject,
  kubernetesClusterRef,
} from './kubeResources.js';
import { listKind, parseTarget, readReplicas, resolveKind } from './mgmtReads.js';
import { renderJson } from './render.js';
import { probeReplicas, withVerifiedConnection } from './replicaLiveness.js';
import {
  buildSourceStatuses,
  orphanedCopies,
  renderOrphanedCopies,
  renderSourceStatuses,
  type StatusSourceInput,
} from './statusReport.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show where each distributed source was copied, and what failed',
  usage: `Show, for every source (an object of a distributable kind carrying gloo.solo.io/distribute-to),
the result of each copy: per selected cluster and target namespace.

Usage:
  relayctl status [KIND/NAME] [--source-namespace NS] [--kubecontext MGMT] [-n NAMESPACE] [-o table|json] [--no-probe]

KIND is case-insensitive: the kind, its plural or either with its group (httproute/foo,
httproutes.gateway.networking.k8s.io/foo). Without KIND/NAME, every source is shown.

Results:
  applied        the copy is in the workload cluster as the source says
  pending        the agent has not reported it yet (or another source's copy is in its place)
  failed         the agent could not apply it (missing namespace or kind, API error, ...)
  conflict       an object the relay does not own is in its place (see kuberelay.dev/conflict-resolution)
  drifted        the copy differs from its source in the fields named, and the source says
                 kuberelay.dev/drift: report, so the agent leaves it so
  paused         the source says kuberelay.dev/paused: "true": the agent writes nothing for the copy
                 (the reason says whether it is current, behind, drifted or missing)
  not-connected  the cluster's agent is not connected (as relayctl check judges it: a status left
                 saying connected by a server replica that is gone, whose /readyz does not
                 answer or whose Lease is stale, counts as not connected)
  unknown        the cluster's status lists only part of its copies (at most 500), not this one
Targets are computed from the annotation and the registered clusters, and joined with what each
agent reported (KubernetesCluster status.copies); an invalid annotation shows its errors, and the
copies that exist are kept. The source's recent Warning Events are shown too.
The kinds listed are those the running server replicas announce on their Leases (their --kinds,
annotation kuberelay.dev/kinds); when no Lease says (or Leases cannot be read), the default kinds,
and a note on stderr says so. Copies of deleted sources that an agent could not delete are listed
under "Orphaned copies" (from each cluster's status: their sources are gone).
Exit code: 0 when the status could be read (whatever the results), 1 on error, 2 on a wrong command line.

Flags:
      --source-namespace NS   only sources in this namespace (default: all namespaces)
      --no-probe              do not probe the server replicas' /readyz (as relayctl check
                              --no-probe): a crashed replica's clusters then read not connected
                              only once its Lease is 30s old

-o json: { "kind": "RelayctlStatus", "schemaVersion": 1, "context", "namespace",
  "sourceNamespace": string|null, "skippedKinds": [ "Kind.group" ... (not installed) ],
  "kinds": [ "Kind.group" ... (listed) ], "kindsFrom": "Lease <names>"|"default",
  "sources": [ { "kind", "group", "namespace": string|null, "name", "distributeTo",
      "health": "ok"|"warning"|"error", "valid": bool, "errors": [ { "code", "message" } ],
      "warnings": [ { "code", "message" } ],
      "targets": [ { "cluster", "namespace": string|null, "result", "code": string|null,
          "message": string|null, "selected": bool } ],
      "events": [ { "reason", "message", "count", "lastSeen": string|null } ] } ],
  "orphans": [ { "cluster", "key", "message" } ] (copies whose source is gone and whose delete
      failed; the agents retry; listed without KIND/NAME only) }`,
  options: {
    'source-namespace': { type: 'string' },
    'no-probe': { type: 'boolean' },
  },
  run: runStatus,
};

async function runStatus(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [arg] = requirePositionals(parsed, 'status', ['KIND/NAME'], { optional: 1 });
  const written = parseTarget(arg, 'status');
  const sourceNamespace = parsed.strings['source-namespace'];
  const { io, globals } = ctx;
  const kube = ctx.mgmt();
  const ns = globals.namespace;
  const { announced, replicas } = await readReplicas(kube, ns, io.now());
  if (announced.note !== undefined) io.stderr(`(${announced.note})\n`);
  const target =
    written === undefined
      ? undefined
      : { kind: resolveKind(written.kindWord, announced.kinds, 'status'), name: written.name };
  const kinds = target ? [target.kind] : announced.kinds;

  const [listed, clusters] = await Promise.all([
    Promise.all(kinds.map((kind) => listKind(kube, kind, sourceNamespace))),
    kube.list<KubernetesClusterObject>(kubernetesClusterRef(ns), `listing KubernetesClusters in ${ns}`),
  ]);
  const skippedKinds = listed.filter((l) => l.objects === undefined).map((l) => groupKindOf(l.kind));
  const candidates = listed.flatMap((l) =>
    (l.objects ?? []).map((object): StatusSourceInput => ({ kind: l.kind, object })),
  );
  const named = target ? candidates.filter((c) => c.object.metadata.name === target.name) : candidates;
  const sources = named.filter((c) => c.object.metadata.annotations?.[Annotation.DistributeTo] !== undefined);
  if (target) checkTargetFound(target, named, sources, sourceNamespace, skippedKinds);

  const events = await warningEvents(ctx, kube, sources);
  const observed = clusters.map((c) => ({ name: c.metadata.name, status: c.status }));
  // Leases unreadable (403): nothing to verify against, so each status is taken as written.
  const statusClusters =
    replicas === undefined
      ? observed
      : withVerifiedConnection({
          clusters: observed,
          replicas,
          readyz: parsed.booleans.has('no-probe') ? new Map() : await probeReplicas(io, replicas),
          now: io.now(),
        });
  const statuses = buildSourceStatuses({ sources, clusters: statusClusters, events });
  const orphans = target ? [] : orphanedCopies(statusClusters);
  if (globals.output === OutputFormat.json) {
    io.stdout(
      renderJson({
        kind: 'RelayctlStatus',
        schemaVersion: 1,
        context: kube.context,
        namespace: ns,
        sourceNamespace: sourceNamespace ?? null,
        skippedKinds,
        kinds: announced.kinds.map(groupKindOf),
        kindsFrom: announced.from,
        sources: statuses,
        orphans,
      }),
    );
    return ExitCode.ok;
  }
  if (statuses.length === 0) {
    const where = sourceNamespace ? `namespace ${sourceNamespace}` : 'any namespace';
    // A workload cluster has copies but no KubernetesClusters: the likeliest mistake is the context.
    const hint =
      clusters.length === 0
        ? ` No workload cluster is registered in namespace ${ns} of context "${kube.context}" either: is that the management cluster (--kubecontext)?`
        : '';
    io.stdout(
      `No sources: no object in ${where} carries the ${Annotation.DistributeTo} annotation.${hint}\n`,
    );
  } else {
    io.stdout(renderSourceStatuses(statuses, { now: io.now() }));
  }
  if (orphans.length > 0) io.stdout(`\n${renderOrphanedCopies(orphans)}`);
  if (skippedKinds.length > 0 && !target) {
    io.stderr(`(not installed in the management cluster, skipped: ${skippedKinds.join(', ')})\n`);
  }
  return ExitCode.ok;
}

function checkTargetFound(
  target: { kind: KindInfo; name: string },
  named: readonly StatusSourceInput[],
  sources: readonly StatusSourceInput[],
  sourceNamespace: string | undefined,
  skippedKinds: readonly string[],
): void {
  const what = `${target.kind.kind} ${target.name}${sourceNamespace && target.kind.namespaced ? ` in namespace ${sourceNamespace}` : ''}`;
  if (skippedKinds.length > 0) {
    throw new CliError({
      code: CliErrorCode.NotInstalled,
      message: `${groupKindOf(target.kind)} is not installed in the management cluster`,
    });
  }
  if (named.length === 0) {
    throw new CliError({ code: CliErrorCode.NotFound, message: `${what} not found` });
  }
  if (sources.length === 0) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${what} has no ${Annotation.DistributeTo} annotation: it is not distributed`,
    });
  }
}

/**
 * Warning Events of the sources' namespaces (cluster-scoped sources' Events are in `default`).
 * Events are a help, not the answer: when they cannot be read, the status is still shown.
 */
async function warningEvents(
  ctx: CommandContext,
  kube: KubeClient,
  sources: readonly StatusSourceInput[],
): Promise<EventObject[]> {
  const namespaces = [
    ...new Set(sources.map((s) => (s.kind.namespaced ? (s.object.metadata.namespace ?? '') : 'default'))),
  ];
  const lists = await Promise.all(
    namespaces.map((namespace) =>
      kube
        .list<EventObject>(eventsRef(namespace), `listing Events in ${namespace}`, {
          fieldSelector: 'type=Warning',
        })
        .catch((error: unknown) => {
          if (!isForbidden(error)) throw error;
          ctx.io.stderr(`(Events of namespace ${namespace} not shown: ${oneLine(error)})\n`);
          return [];
        }),
    ),
  );
  return lists.flat();
}
