import {
  DEFAULT_CLASS_MAPPING,
  type GatewayClassMapping,
  type KindInfo,
  type KubeObject,
  parseClassMapping,
} from '@kuberelay/shared';
import type { ResourceRef } from '@kuberelay/shared/kube';
import { CliError, CliErrorCode, UsageError } from './cliErrors.js';
import type { CommandContext } from './commandContext.js';
import type { PlanSettings } from './planReport.js';
import { discoverFromLeases, type ServerReplica } from './serverLeases.js';

// What relayctl plan and explain read besides the sources: the settings the server replicas
// announce, and the objects at the copies' places in the workload clusters they may read.

/** The management cluster's name and the GatewayClass mapping, as the server replicas announce them. */
export function discoverSettings(
  ctx: CommandContext,
  replicas: readonly ServerReplica[],
  kinds: readonly KindInfo[],
  mgmtFlag: string | undefined,
): PlanSettings {
  let mgmtCluster = mgmtFlag;
  if (mgmtCluster === undefined) {
    const found = discoverFromLeases(replicas, (r) => r.mgmtCluster, 'management cluster name');
    if (!found.ok) {
      throw new CliError({
        code: CliErrorCode.MissingValue,
        message: `the management cluster's name is not known (${found.problem}): pass --mgmt-cluster`,
      });
    }
    mgmtCluster = found.value;
  }
  let classMapping: GatewayClassMapping = DEFAULT_CLASS_MAPPING;
  const mapping = discoverFromLeases(replicas, (r) => r.classMapping, 'GatewayClass mapping');
  const parsedMapping = mapping.ok ? parseClassMapping(mapping.value) : undefined;
  if (parsedMapping?.ok) classMapping = parsedMapping.value;
  else ctx.io.stderr('(no server Lease announces its GatewayClass mapping; planning with the default one)\n');
  return { mgmtCluster, classMapping, kinds };
}

/** `CLUSTER[=CONTEXT],...` */
export function parseWorkloadContexts(
  value: string | undefined,
  command: string,
): ReadonlyMap<string, string> {
  const contexts = new Map<string, string>();
  for (const entry of (value ?? '').split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [cluster = '', context = cluster, ...rest] = entry.split('=').map((p) => p.trim());
    if (cluster === '' || context === '' || rest.length > 0) {
      throw new UsageError(`--workload-context entry "${entry}" must be CLUSTER or CLUSTER=CONTEXT`, {
        command,
      });
    }
    contexts.set(cluster, context);
  }
  return contexts;
}

export const refOf = (kind: KindInfo, namespace: string | undefined, name: string): ResourceRef => ({
  group: kind.group,
  version: kind.version,
  plural: kind.plural,
  namespace,
  name,
});

/** The objects at the planned copies' places in the listed workload clusters (null: none there). */
export async function readLive(
  ctx: CommandContext,
  workloads: ReadonlyMap<string, string>,
  copies: readonly { cluster: string; key: string; action: string }[],
  kinds: readonly KindInfo[],
): Promise<Map<string, Map<string, KubeObject | null>>> {
  const live = new Map<string, Map<string, KubeObject | null>>();
  for (const [cluster, context] of workloads) {
    const keys = copies.filter((c) => c.cluster === cluster && c.action !== 'prune').map((c) => c.key);
    if (keys.length === 0) continue;
    const client = ctx.client(context, '--workload-context');
    const objects = new Map<string, KubeObject | null>();
    for (const key of keys) {
      const [group = '', kindName = '', namespace = '', ...name] = key.split('/');
      const kind = kinds.find((k) => k.group === group && k.kind === kindName);
      if (kind === undefined) continue;
      const ref = refOf(kind, namespace === '' ? undefined : namespace, name.join('/'));
      objects.set(key, (await client.get<KubeObject>(ref, `reading ${key} in ${cluster}`)) ?? null);
    }
    live.set(cluster, objects);
  }
  return live;
}
