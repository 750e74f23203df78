import {
  Annotation,
  decodeRevisions,
  type KubeObject,
  objectKey,
  ROLLOUT_REVISIONS_CONFIGMAP,
  restoreRevision,
  revisionKey,
  rolloutRevision,
  sourceRefOf,
  undoTarget,
} from '@kuberelay/shared';
import type { ResourceRef } from '@kuberelay/shared/kube';
import { CliError, CliErrorCode, ExitCode, isForbidden, oneLine, UsageError } from './cliErrors.js';
import type { Command } from './command.js';
import type { CommandContext } from './commandContext.js';
import { OutputFormat, type ParsedCommandLine, requirePositionals } from './flags.js';
import type { KubeClient } from './kubeClient.js';
import {
  type ConfigMapObject,
  type EventObject,
  eventsRef,
  type KubernetesClusterObject,
  kubernetesClusterRef,
  rolloutRevisionsRef,
} from './kubeResources.js';
import { parseTarget, readReplicas, resolveKind, withKind } from './mgmtReads.js';
import { refOf } from './planReads.js';
import { renderJson } from './render.js';
import { buildRolloutStatus, renderRolloutStatus } from './rolloutReport.js';

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: "show or steer a source's rollout waves (kuberelay.dev/rollout): status, resume, undo",
  usage: `Show or steer the rollout of a source that carries kuberelay.dev/rollout (docs/spec.md D10.5):
its revision reaches the clusters of each wave only after every cluster of the wave before applied
it and the soak (kuberelay.dev/rollout-soak) passed; the clusters of later waves keep the copy
they have meanwhile. A failed cluster halts the rollout where it is.

Usage:
  relayctl rollout status KIND/NAME [--source-namespace NS] [-o table|json]
  relayctl rollout resume KIND/NAME [--source-namespace NS]
  relayctl rollout undo KIND/NAME [--source-namespace NS]

  status  each selected cluster by wave: applied, held (its wave not reached), pending, failed,
          paused or not-connected; and the phase the server last recorded for this revision
          (rolling, soaking, halted, holding, complete). Exit 3 when halted or a cluster failed.
  resume  lets a halted rollout go on past its failed clusters: writes the current revision
          into kuberelay.dev/rollout-resume on the source (a later edit is a new revision and
          halts again on a failure).
  undo    puts the source back to the last revision every wave applied (while a newer one
          rolls out or is halted), or to the one before it (once the current one is complete),
          as the server recorded them in ConfigMap kuberelay-rollout-revisions: spec, labels
          and annotations; distribute-to and the kuberelay.dev/ annotations stay. That is a new
          edit, rolled out in waves like any other. A source managed by GitOps is put back in
          git instead (the next sync would undo the undo).

-o json (status): { "kind": "RelayctlRolloutStatus", "schemaVersion": 1, "source": { "kind",
  "namespace": string|null, "name" }, "revision", "waves", "soak": string|null, "resumed": bool,
  "phase": string|null, "phaseMessage": string|null,
  "clusters": [ { "cluster", "wave", "state", "message": string|null } ] }`,
  options: { 'source-namespace': { type: 'string' } },
  run: runRollout,
};

async function runRollout(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number> {
  const [action = '', arg] = requirePositionals(parsed, 'rollout', ['status|resume|undo', 'KIND/NAME']);
  if (action !== 'status' && action !== 'resume' && action !== 'undo') {
    throw new UsageError(`rollout takes status, resume or undo, not "${action}"`, { command: 'rollout' });
  }
  const written = parseTarget(arg, 'rollout');
  if (written === undefined) throw new UsageError('rollout needs KIND/NAME', { command: 'rollout' });
  const kube = ctx.mgmt();
  const ns = ctx.globals.namespace;
  const { announced } = await readReplicas(kube, ns, ctx.io.now());
  const kind = resolveKind(written.kindWord, announced.kinds, 'rollout');
  const sourceNamespace = kind.namespaced ? (parsed.strings['source-namespace'] ?? 'default') : undefined;
  const ref = refOf(kind, sourceNamespace, written.name);
  const what = `${kind.kind} ${sourceNamespace === undefined ? '' : `${sourceNamespace}/`}${written.name}`;
  const read = await kube.get<KubeObject>(ref, `reading ${what}`);
  if (read === undefined) throw new CliError({ code: CliErrorCode.NotFound, message: `${what} not found` });
  const source = withKind(read, kind);
  if (action === 'resume') return resume(ctx, kube, source, ref, what);
  if (action === 'undo') return undo(ctx, kube, source, ref, what, objectKey(sourceRefOf(source, kind)));
  const [clusters, events] = await Promise.all([
    kube.list<KubernetesClusterObject>(kubernetesClusterRef(ns), `listing KubernetesClusters in ${ns}`),
    eventsOf(ctx, kube, source),
  ]);
  const built = buildRolloutStatus({
    source,
    kinds: announced.kinds,
    clusters: clusters.map((c) => ({ name: c.metadata.name, status: c.status })),
    events,
  });
  if (!built.ok)
    throw new CliError({ code: CliErrorCode.NotFound, message: `${what} has no rollout: ${built.message}` });
  const view = built.value;
  if (ctx.globals.output === OutputFormat.json) {
    const { kind: sourceKind, namespace, name, ...rest } = view;
    ctx.io.stdout(
      renderJson({
        kind: 'RelayctlRolloutStatus',
        schemaVersion: 1,
        source: { kind: sourceKind, namespace, name },
        ...rest,
      }),
    );
  } else {
    ctx.io.stdout(renderRolloutStatus(view));
  }
  const bad = view.phase === 'halted' || view.clusters.some((c) => c.state === 'failed');
  return bad ? 3 : ExitCode.ok;
}

async function resume(
  ctx: CommandContext,
  kube: KubeClient,
  source: KubeObject,
  ref: ResourceRef,
  what: string,
): Promise<number> {
  if (source.metadata.annotations?.[Annotation.Rollout] === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${what} has no ${Annotation.Rollout} annotation`,
    });
  }
  const revision = rolloutRevision(source);
  // A replace carrying the resourceVersion read: an edit meanwhile (a new revision) makes the API
  // server refuse, so a resume never applies to a revision nobody looked at.
  const body = {
    ...source,
    metadata: {
      ...source.metadata,
      annotations: { ...source.metadata.annotations, [Annotation.RolloutResume]: revision },
    },
  };
  await kube.replace(ref, body, `writing ${Annotation.RolloutResume} on ${what}`);
  ctx.io.stdout(`${what}: the rollout of revision ${revision} goes on past its failed clusters\n`);
  return ExitCode.ok;
}

async function undo(
  ctx: CommandContext,
  kube: KubeClient,
  source: KubeObject,
  ref: ResourceRef,
  what: string,
  sourceKey: string,
): Promise<number> {
  if (source.metadata.annotations?.[Annotation.Rollout] === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `${what} has no ${Annotation.Rollout} annotation`,
    });
  }
  const ns = ctx.globals.namespace;
  const stored = await kube.get<ConfigMapObject>(
    rolloutRevisionsRef(ns),
    `reading the ConfigMap ${ns}/${ROLLOUT_REVISIONS_CONFIGMAP}`,
  );
  const current = rolloutRevision(source);
  const target = undoTarget(decodeRevisions(stored?.data).get(revisionKey(sourceKey)), current);
  if (target === undefined) {
    throw new CliError({
      code: CliErrorCode.NotFound,
      message: `no earlier revision of ${what} is recorded: the server records a revision once every wave applied it (in ConfigMap ${ns}/${ROLLOUT_REVISIONS_CONFIGMAP}); put the source back by hand`,
    });
  }
  // The same compare-and-swap as resume: an edit meanwhile is refused, never overwritten.
  await kube.replace(
    ref,
    restoreRevision(source, target.content),
    `putting ${what} back to revision ${target.revision}`,
  );
  ctx.io.stdout(
    `${what}: back to revision ${target.revision} (applied by every wave at ${target.at}), from ${current}; it rolls out in waves like any change\n`,
  );
  return ExitCode.ok;
}

async function eventsOf(
  ctx: CommandContext,
  kube: KubeClient,
  object: KubeObject,
): Promise<readonly EventObject[]> {
  const namespace = object.metadata.namespace ?? 'default';
  try {
    return await kube.list<EventObject>(eventsRef(namespace), `listing Events in ${namespace}`, {
      fieldSelector: `involvedObject.name=${object.metadata.name},involvedObject.kind=${object.kind}`,
    });
  } catch (error) {
    if (!isForbidden(error)) throw error;
    ctx.io.stderr(
      `(Events of ${object.kind} ${object.metadata.name} not read: ${oneLine(error)}; the phase is not shown)\n`,
    );
    return [];
  }
}
