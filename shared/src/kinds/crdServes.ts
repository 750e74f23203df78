import type { KindInfo } from './kindInfo.js';

/**
 * The fields of an apiextensions.k8s.io/v1 CustomResourceDefinition we read. Every field is
 * optional and crdServes checks each type, so any JSON object from the API server can be passed.
 */
export interface CrdLike {
  readonly metadata?: { readonly name?: string; readonly deletionTimestamp?: string };
  readonly spec?: {
    readonly group?: string;
    readonly names?: { readonly kind?: string; readonly plural?: string };
    readonly scope?: string;
    readonly versions?: readonly {
      readonly name?: string;
      readonly served?: boolean;
      readonly storage?: boolean;
    }[];
  };
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

/** What identifies a served kind: the configured group, version, kind and resource (plural). */
export type ServedKind = Pick<KindInfo, 'group' | 'version' | 'kind' | 'plural'>;

/** `<plural>.<group>`: the name a CRD for `kind` must have. */
export const crdNameOf = (kind: Pick<KindInfo, 'plural' | 'group'>): string => `${kind.plural}.${kind.group}`;

/**
 * Whether `crd` makes the API server serve `kind` as configured: right name, group and kind,
 * Established, not being deleted, and the configured version served. A CRD that serves the kind
 * in another version only does not count (the relay reads and writes exactly the configured
 * version). The one definition of "a kind is installed" for the management server (which sources
 * to watch) and the agent (which copies to watch, and KindNotInstalled).
 */
export function crdServes(crd: CrdLike, kind: ServedKind): boolean {
  if (crd.metadata?.name !== crdNameOf(kind) || crd.metadata.deletionTimestamp) return false;
  if (crd.spec?.group !== kind.group || crd.spec.names?.kind !== kind.kind) return false;
  const conditions = crd.status?.conditions;
  const versions = crd.spec.versions;
  const established =
    Array.isArray(conditions) && conditions.some((c) => c?.type === 'Established' && c.status === 'True');
  const served =
    Array.isArray(versions) && versions.some((v) => v?.name === kind.version && v.served === true);
  return established && served;
}
