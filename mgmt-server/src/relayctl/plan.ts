import { readFile } from 'node:fs/promises';
import { Annotation, type KindInfo, type KubeObject, splitApiVersion } from '@kuberelay/shared';
import { parseAllDocuments } from 'yaml';
import { CliError, CliErrorCode, ExitCode, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import type { KubeClient } from './kubeClient.js';
import { type KubernetesClusterObject, kubernetesClusterRef } from './kubeResources.js';
import { listKind, parseTarget, readReplicas, resolveKind } from './mgmtReads.js';
import { discoverSettings, parseWorkloadContexts, readLive, refOf } from './planReads.js';
import { renderPlan } from './planRender.js';
import { computePlan, type PlanInput } from './planReport.js';
import { renderJson } from './render.js';

export const planCommand: Command = {
  name: 'plan',
  summary: 'show what a source (or a new distribute-to) would do, before anything is written',
  usage: `Show what the relay would do with a source, without writing anything: the clusters and
namespaces it selects (and names that are not registered), each copy as it would be rendered
(GatewayClass swapped, references rewritten) with the warnings, and per cluster whether each
copy would be created, updated (with a diff), pruned, or would conflict with an object the
relay does not own, or is paused (kuberelay.dev/paused on the source: nothing is written). Copies
of other sources that the change affects (references, clashes) are listed too. It runs the server's own desired-state computation over the sources and registered
clusters of the management cluster, with the settings the server replicas announce on their
Leases (management cluster name, GatewayClass mapping, kinds).

Usage:
  relayctl plan -f FILE [--workload-context LIST] [--kubecontext MGMT] [-n NAMESPACE] [-o table|json]
  relayctl plan KIND/NAME [--source-namespace NS] [--distribute-to VALUE | --no-distribute] [...]

  -f FILE     the source(s) as they would be: YAML or JSON, several documents or a List; - for
              stdin. Each replaces the object of the same kind, namespace and name (if any).
  KIND/NAME   an existing source, with --distribute-to VALUE as its new annotation, or
              --no-distribute to see what removing the annotation would prune; with neither,
              as it is.

Without --workload-context, a copy is compared with what its cluster's agent was told to hold
(and a conflict is what the agent last reported). With it, each listed cluster's objects are read
and compared with the copies (only the fields a copy sets: defaults the API server adds are not
differences), and an object the relay does not own is a conflict.

Flags:
  -f, --filename FILE            the proposed source(s); - reads stdin
      --source-namespace NS      namespace of KIND/NAME (namespaced kinds; default: default)
      --distribute-to VALUE      the annotation to plan for KIND/NAME
      --no-distribute            plan KIND/NAME without the annotation (what would be pruned)
      --workload-context LIST    CLUSTER[=CONTEXT],...: read these clusters' live objects through
                                 these kubeconfig contexts (CONTEXT defaults to the cluster name)
      --mgmt-cluster NAME        the management cluster's name, when no server Lease says it

Exit code: 0 when nothing would conflict or fail; 3 when a source has errors (it would not be
distributed as asked) or a copy would conflict; 1 on error; 2 on a wrong command line.

-o json: { "kind": "RelayctlPlan", "schemaVersion": 1, "context", "namespace", "settings":
  { "mgmtCluster", "classMapping", "kinds": [ "Kind.group" ... ] },
  "sources": [ { "key", "kind", "namespace": string|null, "name", "distributeTo": string|null,
      "targets": [ { "cluster", "namespace": string|null } ],
      "errors"|"warnings": [ { "code", "message", "cluster"?, "namespace"? } ] } ],
  "copies": [ { "cluster", "key", "source", "action": "create"|"update"|"unchanged"|"prune"|"conflict"|"paused",
      "against": "desired"|"live", "reason"?, "before"?: object, "after"?: object } ],
  "problems": N }`,
  options: {
    filename: { type: 'string', short: 'f' },
    'source-namespace': { type: 'string' },
    'distribute-to': { type: 'string' },
    'no-distribute': { type: 'boolean' },
    'workload-context': { type: 'string' },
    'mgmt-cluster': { type: 'string' },
  },
  run: runPlan,
};

/** relayctl plan's exit code when the plan itself has problems (errors or conflicts). */
export const PLAN_PROBLEMS_EXIT = 3;

async function runPlan(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [arg] = requirePositionals(parsed, 'plan', ['KIND/NAME'], { optional: 1 });
  const file = parsed.strings.filename;
  if ((file === undefined) === (arg === undefined)) {
    throw new UsageError('give either -f FILE or KIND/NAME', { command: 'plan' });
  }
  if (parsed.strings['distribute-to'] !== undefined && parsed.booleans.has('no-distribute')) {
    throw new UsageError('--distribute-to and --no-distribute exclude each other', { command: 'plan' });
  }
  if (
    file !== undefined &&
    (parsed.strings['distribute-to'] !== undefined || parsed.booleans.has('no-distribute'))
  ) {
    throw new UsageError('--distribute-to and --no-distribute go with KIND/NAME, not -f', {
      command: 'plan',
    });
  }
  const workloads = parseWorkloadContexts(parsed.strings['workload-context'], 'plan');
  const kube = ctx.mgmt();
  const ns = ctx.globals.namespace;
  const { announced, replicas } = await readReplicas(kube, ns, ctx.io.now());
  if (announced.note !== undefined) ctx.io.stderr(`(${announced.note})\n`);
  const settings = discoverSettings(ctx, replicas ?? [], announced.kinds, parsed.strings['mgmt-cluster']);

  const proposed =
    file !== undefined
      ? await readProposed(ctx, file, settings.kinds)
      : [await existingSource(kube, arg ?? '', parsed, settings.kinds)];
  const [listed, clusters] = await Promise.all([
    Promise.all(settings.kinds.map((kind) => listKind(kube, kind, undefined))),
    kube.list<KubernetesClusterObject>(kubernetesClusterRef(ns), `listing KubernetesClusters in ${ns}`),
  ]);
  const input: PlanInput = {
    proposed,
    current: listed.flatMap((l) => l.objects ?? []),
    clusters: clusters.map((c) => ({ name: c.metadata.name, status: c.status })),
    settings,
  };
  let plan = computePlan(input);
  if (workloads.size > 0) {
    const live = await readLive(ctx, workloads, plan.copies, settings.kinds);
    plan = computePlan({ ...input, live });
  }
  if (ctx.globals.output === OutputFormat.json) {
    ctx.io.stdout(
      renderJson({
        kind: 'RelayctlPlan',
        schemaVersion: 1,
        context: kube.context,
        namespace: ns,
        settings: {
          mgmtCluster: settings.mgmtCluster,
          classMapping: settings.classMapping,
          kinds: settings.kinds.map((k) => `${k.kind}.${k.group}`),
        },
        ...plan,
      }),
    );
  } else {
    ctx.io.stdout(renderPlan(plan));
  }
  return plan.problems > 0 ? PLAN_PROBLEMS_EXIT : ExitCode.ok;
}

/** The objects of -f: every document (and List item), each of a distributable kind. */
async function readProposed(
  ctx: CommandContext,
  file: string,
  kinds: readonly KindInfo[],
): Promise<KubeObject[]> {
  const where = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = await (ctx.io.readInput ?? defaultReadInput)(file);
  } catch (error) {
    throw new CliError({ code: CliErrorCode.NotFound, message: `cannot read ${where}: ${String(error)}` });
  }
  const objects: KubeObject[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) {
      throw new UsageError(`${where}: document ${i + 1} is not YAML: ${doc.errors[0]?.message ?? ''}`, {
        command: 'plan',
      });
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const items = isList(value) ? value.items : [value];
    for (const item of items) objects.push(proposedObject(item, where, kinds));
  }
  if (objects.length === 0) throw new UsageError(`${where} holds no object`, { command: 'plan' });
  return objects;
}

const isList = (v: unknown): v is { items: unknown[] } =>
  typeof v === 'object' &&
  v !== null &&
  (v as { kind?: unknown }).kind === 'List' &&
  Array.isArray((v as { items?: unknown }).items);

function proposedObject(value: unknown, where: string, kinds: readonly KindInfo[]): KubeObject {
  const o = value as Partial<KubeObject> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.apiVersion !== 'string' ||
    typeof o.kind !== 'string' ||
    typeof o.metadata?.name !== 'string'
  ) {
    throw new UsageError(`${where}: every object needs apiVersion, kind and metadata.name`, {
      command: 'plan',
    });
  }
  const { group } = splitApiVersion(o.apiVersion);
  if (!kinds.some((k) => k.group === group && k.kind === o.kind)) {
    throw new UsageError(
      `${where}: ${o.kind} (${o.apiVersion}) is not a kind the relay distributes (${kinds.map((k) => k.kind).join(', ')})`,
      { command: 'plan' },
    );
  }
  return o as KubeObject;
}

async function defaultReadInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** KIND/NAME read from the management cluster, with the annotation the flags propose. */
async function existingSource(
  kube: KubeClient,
  arg: string,
  parsed: ParsedCommandLine,
  kinds: readonly KindInfo[],
): Promise<KubeObject> {
  const written = parseTarget(arg, 'plan');
  if (written === undefined) throw new UsageError('missing KIND/NAME', { command: 'plan' });
  const kind = resolveKind(written.kindWord, kinds, 'plan');
  const namespace = kind.namespaced ? (parsed.strings['source-namespace'] ?? 'default') : undefined;
  const object = await kube.get<KubeObject>(
    refOf(kind, namespace, written.name),
    `reading ${kind.kind} ${written.name}`,
  );
  if (object === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${kind.kind} ${namespace === undefined ? '' : `${namespace}/`}${written.name} not found`,
    });
  }
  const annotations = { ...(object.metadata.annotations ?? {}) };
  const value = parsed.strings['distribute-to'];
  if (value !== undefined) annotations[Annotation.DistributeTo] = value;
  if (parsed.booleans.has('no-distribute')) delete annotations[Annotation.DistributeTo];
  return {
    ...object,
    apiVersion: `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata: { ...object.metadata, annotations },
  };
}
