import { DEFAULT_KINDS, type KindInfo, type KubeObject } from '@kuberelay/shared';
import type { ResourceRef } from '@kuberelay/shared/kube';
import { CliError, CliErrorCode, isForbidden, oneLine, UsageError } from './cliErrors.js';
import type { KubeClient } from './kubeClient.js';
import { type LeaseObject, leaseRef } from './kubeResources.js';
import { type DiscoveredKinds, discoverKinds, type ServerReplica, serverReplicas } from './serverLeases.js';

// What relayctl status and plan read from the management cluster alike: the server replicas and
// the kinds they announce, the objects of a kind, and the KIND/NAME argument that names a source.

/** The kind a KIND argument names, or undefined. */
export function findKind(word: string, kinds: readonly KindInfo[] = DEFAULT_KINDS): KindInfo | undefined {
  const w = word.toLowerCase();
  return kinds.find((k) => {
    const names = [k.kind.toLowerCase(), k.plural];
    return names.some((n) => n === w || `${n}.${k.group}` === w);
  });
}

/** KIND/NAME as written; checked before anything is read, so a typo costs no API call. */
export function parseTarget(
  arg: string | undefined,
  command: string,
): { kindWord: string; name: string } | undefined {
  if (arg === undefined) return undefined;
  const slash = arg.indexOf('/');
  const kindWord = slash < 0 ? arg : arg.slice(0, slash);
  const name = slash < 0 ? '' : arg.slice(slash + 1);
  if (name === '' || name.includes('/')) {
    throw new UsageError(`expected KIND/NAME, e.g. httproute/my-route, not "${arg}"`, { command });
  }
  return { kindWord, name };
}

/** The kind KIND names among the kinds the server distributes. */
export function resolveKind(kindWord: string, kinds: readonly KindInfo[], command: string): KindInfo {
  const kind = findKind(kindWord, kinds);
  if (!kind) {
    throw new UsageError(
      `"${kindWord}" is not a distributable kind (one of: ${kinds.map((k) => k.kind).join(', ')})`,
      { command },
    );
  }
  return kind;
}

/**
 * The server replicas (their Leases) and the kinds they announce; the default kinds and no
 * replicas when the Leases cannot be read (then every status is taken as written).
 */
export async function readReplicas(
  kube: KubeClient,
  namespace: string,
  now: Date,
): Promise<{ announced: DiscoveredKinds; replicas: readonly ServerReplica[] | undefined }> {
  try {
    const leases = await kube.list<LeaseObject>(
      leaseRef(namespace),
      `listing the server Leases in ${namespace}`,
    );
    const replicas = serverReplicas(leases, now);
    return { announced: discoverKinds(replicas), replicas };
  } catch (error) {
    if (!isForbidden(error)) throw error;
    return {
      announced: {
        kinds: DEFAULT_KINDS,
        from: 'default',
        note: `the server Leases in ${namespace} cannot be read (${oneLine(error)}); showing the default kinds`,
      },
      replicas: undefined,
    };
  }
}

/** The objects of one kind, or undefined when the kind is not served (CRD not installed). */
export async function listKind(
  kube: KubeClient,
  kind: KindInfo,
  namespace: string | undefined,
): Promise<{ kind: KindInfo; objects: readonly KubeObject[] | undefined }> {
  const ref: ResourceRef = {
    group: kind.group,
    version: kind.version,
    plural: kind.plural,
    namespace: kind.namespaced ? namespace : undefined,
  };
  try {
    const items = await kube.list<KubeObject>(ref, `listing ${kind.plural}.${kind.group}`);
    // Lists omit apiVersion and kind on their items.
    return {
      kind,
      objects: items.map((o) => ({ ...o, apiVersion: `${kind.group}/${kind.version}`, kind: kind.kind })),
    };
  } catch (error) {
    if (error instanceof CliError && error.code === CliErrorCode.NotInstalled)
      return { kind, objects: undefined };
    throw error;
  }
}

/**
 * An object read by GET, with its apiVersion and kind set: a single GET through the client may
 * answer without them, and the pure core keys sources by group and kind.
 */
export const withKind = (o: KubeObject, kind: KindInfo): KubeObject => ({
  ...o,
  apiVersion: `${kind.group}/${kind.version}`,
  kind: kind.kind,
});
