import { Annotation, type KubeObject, objectKey, parseSourceUri, sourceRefOf } from '@kuberelay/shared';
import { CliError, CliErrorCode, ExitCode, isForbidden, oneLine, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { renderExplanation } from './explainRender.js';
import { explain } from './explainReport.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import type { KubeClient } from './kubeClient.js';
import {
  type EventObject,
  eventsRef,
  type KubernetesClusterObject,
  kubernetesClusterRef,
} from './kubeResources.js';
import { listKind, parseTarget, readReplicas, resolveKind, withKind } from './mgmtReads.js';
import { discoverSettings, parseWorkloadContexts, readLive, refOf } from './planReads.js';
import { computePlan } from './planReport.js';
import { renderJson } from './render.js';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'say where a copy comes from and whether it is current, or the same for every copy of a source',
  usage: `Explain a source and its copies: the annotation and the entry that selected each cluster, the
version the cluster's agent acknowledged and since when it is up to date, whether each copy is
current, pending, drifted (and in which fields; reverted, or left so under kuberelay.dev/drift:
report), paused (kuberelay.dev/paused), failed, conflicting or not connected, when the agent last
wrote it, and the recent Events. A copy whose source is gone, or no longer selects its
cluster, is an orphan, with what will delete it.

Usage:
  relayctl explain KIND/NAME [--source-namespace NS] [--workload-context LIST]     (a source)
  relayctl explain gloo://MGMT/ns/NS/kind/KIND/name/NAME [--workload-context LIST] (a source, by the URI on its copies)
  relayctl explain KIND/NAME --copy-in CLUSTER[=CONTEXT] [--copy-namespace NS]      (a copy in a workload cluster)

What a copy should be is computed as the server computes it (as relayctl plan does). Whether it
is drifted needs the live object: --workload-context reads the listed clusters, --copy-in the one
holding the copy; otherwise the cluster's status (what its agent reported) is all there is.

Flags:
      --source-namespace NS     namespace of the source KIND/NAME (default: default)
      --copy-in CLUSTER[=CONTEXT]  KIND/NAME is a copy in this workload cluster (CONTEXT: its
                                kubeconfig context, default the cluster name)
      --copy-namespace NS       namespace of the copy (with --copy-in; default: default)
      --workload-context LIST   CLUSTER[=CONTEXT],...: read the live copies in these clusters

Exit code: 0 when every copy is current; 3 when one is failed, conflicting or an orphan; 1 on error.

-o json: { "kind": "RelayctlExplain", "schemaVersion": 1, "sourceUri", "sourceExists",
  "distributeTo": string|null, "sourceEvents": [ event ], "copies": [ { "cluster", "key",
  "state": "current"|"pending"|"drifted"|"paused"|"failed"|"conflict"|"not-connected"|"orphan",
  "detail",
  "selectedBy": string|null, "ackedVersion": string|null, "upToDateSince": string|null,
  "lastHeartbeat": string|null, "live": "matches"|"differs"|"missing"|"foreign"|"not-read",
  "driftFields": [ path ], "lastWrittenByAgent": string|null, "events": [ event ] } ] }
  where event is { "type", "reason", "message", "count", "lastSeen": string|null }`,
  options: {
    'source-namespace': { type: 'string' },
    'copy-in': { type: 'string' },
    'copy-namespace': { type: 'string' },
    'workload-context': { type: 'string' },
  },
  run: runExplain,
};

async function runExplain(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [arg = ''] = requirePositionals(parsed, 'explain', ['KIND/NAME|URI']);
  const workloads = new Map(parseWorkloadContexts(parsed.strings['workload-context'], 'explain'));
  const kube = ctx.mgmt();
  const ns = ctx.globals.namespace;
  const { announced, replicas } = await readReplicas(kube, ns, ctx.io.now());
  if (announced.note !== undefined) ctx.io.stderr(`(${announced.note})\n`);
  const settings = discoverSettings(ctx, replicas ?? [], announced.kinds, undefined);

  let named: { cluster: string; key: string } | undefined;
  let sourceUri: string;
  let namedLive: KubeObject | null = null;
  const copyIn = parsed.strings['copy-in'];
  if (copyIn !== undefined) {
    const given = [...parseWorkloadContexts(copyIn, 'explain')];
    if (given.length !== 1) {
      throw new UsageError('--copy-in takes one CLUSTER[=CONTEXT]: the cluster that holds the copy', {
        command: 'explain',
      });
    }
    const [[cluster, context] = ['', '']] = given;
    const written = parseTarget(arg, 'explain');
    if (written === undefined) throw new UsageError('missing KIND/NAME of the copy', { command: 'explain' });
    const kind = resolveKind(written.kindWord, settings.kinds, 'explain');
    const namespace = kind.namespaced ? (parsed.strings['copy-namespace'] ?? 'default') : undefined;
    const client = ctx.client(context, '--copy-in');
    const copy = await client.get<KubeObject>(
      refOf(kind, namespace, written.name),
      `reading ${kind.kind} ${written.name} in ${cluster}`,
    );
    const where = `${kind.kind} ${namespace === undefined ? '' : `${namespace}/`}${written.name} in cluster ${cluster}`;
    if (copy === undefined)
      throw new CliError({ code: CliErrorCode.NotFound, message: `${where} not found` });
    const uri = copy.metadata.annotations?.[Annotation.DistributedSource];
    if (uri === undefined) {
      throw new CliError({
        code: CliErrorCode.NotFound,
        message: `${where} is not a copy (it has no ${Annotation.DistributedSource} annotation): the relay does not own it`,
      });
    }
    sourceUri = uri;
    named = {
      cluster,
      key: objectKey(
        sourceRefOf({ ...copy, apiVersion: `${kind.group}/${kind.version}`, kind: kind.kind }, kind),
      ),
    };
    namedLive = copy;
    workloads.set(cluster, context);
  } else if (arg.startsWith('gloo://')) {
    sourceUri = arg;
  } else {
    const written = parseTarget(arg, 'explain');
    if (written === undefined) throw new UsageError('missing KIND/NAME', { command: 'explain' });
    const kind = resolveKind(written.kindWord, settings.kinds, 'explain');
    const namespace = kind.namespaced ? (parsed.strings['source-namespace'] ?? 'default') : undefined;
    sourceUri = `gloo://${settings.mgmtCluster}${namespace === undefined ? '' : `/ns/${namespace}`}/kind/${kind.kind}/name/${written.name}`;
  }
  const uri = parseSourceUri(sourceUri);
  if (!uri.ok)
    throw new UsageError(`${sourceUri}: ${uri.errors[0]?.message ?? 'not a source URI'}`, {
      command: 'explain',
    });
  if (uri.value.mgmtCluster !== settings.mgmtCluster) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${sourceUri} is from management cluster "${uri.value.mgmtCluster}", and --kubecontext ${kube.context} is the management cluster "${settings.mgmtCluster}"`,
    });
  }
  const sourceKind = settings.kinds.find((k) => k.kind === uri.value.kind);
  if (sourceKind === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${sourceUri}: ${uri.value.kind} is not a kind the relay distributes`,
    });
  }
  const source = await kube.get<KubeObject>(
    refOf(sourceKind, sourceKind.namespaced ? uri.value.namespace : undefined, uri.value.name),
    `reading the source ${sourceUri}`,
  );
  const [listed, clusters] = await Promise.all([
    Promise.all(settings.kinds.map((kind) => listKind(kube, kind, undefined))),
    kube.list<KubernetesClusterObject>(kubernetesClusterRef(ns), `listing KubernetesClusters in ${ns}`),
  ]);
  const sourceObject = source === undefined ? undefined : withKind(source, sourceKind);
  const planInput = {
    proposed: sourceObject === undefined ? [] : [sourceObject],
    current: listed.flatMap((l) => l.objects ?? []),
    clusters: clusters.map((c) => ({ name: c.metadata.name, status: c.status })),
    settings,
  };
  let plan = sourceObject === undefined ? undefined : computePlan(planInput);
  const live = await readLive(ctx, workloads, plan?.copies ?? [], settings.kinds);
  if (named !== undefined) {
    const inCluster = live.get(named.cluster) ?? new Map<string, KubeObject | null>();
    inCluster.set(named.key, namedLive);
    live.set(named.cluster, inCluster);
  }
  if (plan !== undefined && live.size > 0) plan = computePlan({ ...planInput, live });
  const explanation = explain({
    sourceUri,
    source: sourceObject,
    plan,
    clusters: planInput.clusters,
    live,
    sourceEvents: sourceObject === undefined ? [] : await eventsOf(ctx, kube, sourceObject, 'Warning'),
    copyEvents: await copyEvents(ctx, workloads, live),
    ...(named === undefined ? {} : { named }),
  });
  if (ctx.globals.output === OutputFormat.json) {
    ctx.io.stdout(renderJson({ kind: 'RelayctlExplain', schemaVersion: 1, ...explanation }));
  } else {
    ctx.io.stdout(renderExplanation(explanation, ctx.io.now()));
  }
  const bad = explanation.copies.some(
    (c) => c.state === 'failed' || c.state === 'conflict' || c.state === 'orphan',
  );
  return bad ? 3 : ExitCode.ok;
}

/** Events about `object` (only `type` ones when given); none, with a note, when they cannot be read. */
async function eventsOf(
  ctx: CommandContext,
  kube: KubeClient,
  object: KubeObject,
  type?: string,
): Promise<EventObject[]> {
  const namespace = object.metadata.namespace ?? 'default';
  const selector = [`involvedObject.name=${object.metadata.name}`, `involvedObject.kind=${object.kind}`];
  if (type !== undefined) selector.push(`type=${type}`);
  try {
    const events = await kube.list<EventObject>(eventsRef(namespace), `listing Events in ${namespace}`, {
      fieldSelector: selector.join(','),
    });
    return [...events].sort((a, b) => (lastSeen(b) < lastSeen(a) ? -1 : 1)).slice(0, 10);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    ctx.io.stderr(`(Events of ${object.kind} ${object.metadata.name} not shown: ${oneLine(error)})\n`);
    return [];
  }
}

const lastSeen = (e: EventObject) =>
  e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '';

async function copyEvents(
  ctx: CommandContext,
  workloads: ReadonlyMap<string, string>,
  live: ReadonlyMap<string, ReadonlyMap<string, KubeObject | null>>,
): Promise<Map<string, Map<string, EventObject[]>>> {
  const out = new Map<string, Map<string, EventObject[]>>();
  for (const [cluster, copies] of live) {
    const context = workloads.get(cluster);
    if (context === undefined) continue;
    const client = ctx.client(context, '--workload-context');
    const byKey = new Map<string, EventObject[]>();
    for (const [key, object] of copies)
      if (object !== null) byKey.set(key, await eventsOf(ctx, client, object));
    out.set(cluster, byKey);
  }
  return out;
}
