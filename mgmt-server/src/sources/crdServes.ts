import type { KindInfo } from '@kuberelay/shared';

/** The fields of an apiextensions.k8s.io/v1 CustomResourceDefinition we read. */
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

/** `<plural>.<group>`: the name a CRD for `kind` must have. */
export const crdNameOf = (kind: Pick<KindInfo, 'plural' | 'group'>): string => `${kind.plural}.${kind.group}`;

/**
 * Whether `crd` makes the API server serve `kind` as configured: right name, group and kind,
 * Established, not being deleted, and the configured version served. A CRD that serves the kind
 * in another version only does not count (the relay reads exactly the configured version).
 */
export function crdServes(crd: CrdLike, kind: KindInfo): boolean {
  if (crd.metadata?.name !== crdNameOf(kind) || crd.metadata.deletionTimestamp) return false;
  if (crd.spec?.group !== kind.group || crd.spec.names?.kind !== kind.kind) return false;
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  const served = crd.spec.versions?.some((v) => v.name === kind.version && v.served === true);
  return established === true && served === true;
}
