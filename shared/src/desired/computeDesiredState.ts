import { type BuildCopyOptions, buildCopy, type GatewayClassMapping } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { type ResolvedReference, referencedSources } from '../copy/references.js';
import { type Placement, type RewriteResult, rewriteReferences } from '../copy/rewriteReferences.js';
import { validateSource } from '../copy/validateSource.js';
import { parseDistributeTo } from '../distributeTo/parseDistributeTo.js';
import { type RegisteredClusters, registeredClusters, selectTargets } from '../distributeTo/selectTargets.js';
import { ErrorCode } from '../errors/errorCode.js';
import {
  createKindRegistry,
  groupKindOf,
  type KindInfo,
  type KindRegistry,
  splitApiVersion,
} from '../kinds/kindInfo.js';
import { Annotation, ConflictResolution } from '../source/annotations.js';
import { objectKey, objectRefOf, type SourceRef, sourceRefOf } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import { contentHash } from './contentHash.js';
import {
  type Claim,
  collectClaims,
  type FreshClaim,
  heldCopies,
  type LandingIndex,
  resolveCollisions,
  type SourcePlan,
} from './copyClaims.js';
import type { ClusterCopies, DesiredCopy, DesiredState } from './desiredState.js';
import { Severity } from './desiredState.js';
import { ReportCollector } from './reportCollector.js';

export interface DesiredStateInput {
  /** Objects of distributable kinds in the management cluster; those without the distribute-to
   * annotation, or being deleted, are ignored. */
  readonly sources: readonly KubeObject[];
  /** Registered workload cluster names (any order, duplicates allowed). */
  readonly clusters: readonly string[];
  readonly mgmtCluster: string;
  readonly classMapping: GatewayClassMapping;
  readonly kinds: readonly KindInfo[];
  /** The state computed last time: source of copies kept as they are, and of DesiredCopy
   * objects reused when unchanged. */
  readonly previous?: DesiredState | undefined;
}

/**
 * Computes what every registered cluster should hold (docs/spec.md §2–§3). Pure and deterministic: the
 * result depends only on the input, not on the order of `sources` or `clusters` (when one source
 * key appears twice, the later object wins).
 *
 * Decisions where the contract is silent or leaves a choice (docs/spec.md §2–§4):
 * - Invalid distribute-to value: the source's copies in `previous` are kept unchanged (docs/spec.md §2),
 *   in the clusters still registered. Without `previous` (a fresh server) there is nothing to
 *   keep, and nothing is sent for the source.
 * - Invalid source (name, non-Upstream backend, namespaced without namespace): the new version
 *   is not distributed and the reason is reported; copies an earlier valid version made are kept
 *   as they were, exactly as for an invalid annotation. A source can only become invalid by an
 *   edit, and an edit that breaks an HTTPRoute must not take its routes down in every cluster
 *   ("nothing deleted by accident"); the person sees the error and fixes or deletes the source.
 * - Being deleted (deletionTimestamp set): treated as deleted, its copies are removed.
 * - Collision (two sources want the same copy key in one cluster, e.g. the same Gateway name
 *   from two namespaces into one target namespace): an error on both sources for that cluster
 *   and namespace, and neither is sent. A copy of one of them that `previous` had at that key is
 *   kept as it was, so adding a clashing source never deletes a copy that works. Copies kept from
 *   an invalid annotation take part in collisions like any other.
 * - Reference placement counts every copy in the final set, including kept ones.
 * - `kuberelay.dev/conflict-resolution` with a value other than `overwrite`: a warning, and no
 *   overwrite.
 */
export function computeDesiredState(input: DesiredStateInput): DesiredState {
  const clusters = registeredClusters(input.clusters);
  const reports = new ReportCollector();
  const { plans, held, invalid } = planSources(input, createKindRegistry(input.kinds), clusters, reports);
  const claims = collectClaims(plans, heldCopies(held, input.previous, clusters), clusters);
  resolveCollisions(claims, input.previous, reports);
  const builder = new CopyBuilder(input, reports, claims.landing);
  const out = new Map<string, ClusterCopies>();
  for (const [cluster, chosen] of claims.byCluster) {
    out.set(cluster, builder.clusterCopies(cluster, chosen, input.previous?.clusters.get(cluster)));
  }
  return Object.freeze({ clusters: out, reports: reports.done(), invalidSources: invalid });
}

interface Planned {
  readonly plans: readonly SourcePlan[];
  /** Keys of sources whose existing copies are kept (invalid annotation or invalid source). */
  readonly held: ReadonlySet<string>;
  readonly invalid: ReadonlySet<string>;
}

function planSources(
  input: DesiredStateInput,
  registry: KindRegistry,
  clusters: RegisteredClusters,
  reports: ReportCollector,
): Planned {
  const plans: SourcePlan[] = [];
  const held = new Set<string>();
  const invalid = new Set<string>();
  for (const { key, ref, source, kind } of annotatedSources(input.sources, registry)) {
    if (kind === undefined) {
      invalid.add(key);
      reports.add(ref, {
        code: ErrorCode.KindNotDistributable,
        severity: Severity.Error,
        message: `${groupKindOf(ref)} is not one of the distributable kinds`,
      });
      continue;
    }
    const sourceErrors = validateSource(source, kind);
    const parsed = parseDistributeTo(source.metadata.annotations?.[Annotation.DistributeTo] ?? '', {
      clusterScoped: !kind.namespaced,
    });
    reports.addErrors(ref, sourceErrors, Severity.Error);
    if (!parsed.ok) {
      reports.addErrors(ref, parsed.errors, Severity.Error);
    }
    if (sourceErrors.length > 0 || !parsed.ok) {
      invalid.add(key);
      held.add(key);
      continue;
    }
    const selection = selectTargets(parsed.value, { clusters, sourceNamespace: ref.namespace });
    for (const cluster of selection.unregistered) {
      reports.add(ref, {
        code: ErrorCode.UnregisteredCluster,
        severity: Severity.Warning,
        message: `cluster "${cluster}" named in ${Annotation.DistributeTo} is not registered; it is ignored`,
        cluster,
      });
    }
    plans.push({
      key,
      ref,
      source,
      targets: selection.targets,
      overwrite: overwriteOf(source, ref, reports),
    });
  }
  return { plans, held, invalid };
}

interface AnnotatedSource {
  readonly key: string;
  readonly ref: SourceRef;
  readonly source: KubeObject;
  readonly kind: KindInfo | undefined;
}

/** Annotated, not-deleting sources in key order; the last object wins for a repeated key. */
function annotatedSources(sources: readonly KubeObject[], registry: KindRegistry): AnnotatedSource[] {
  const byKey = new Map<string, AnnotatedSource>();
  for (const source of sources) {
    const { annotations, deletionTimestamp } = source.metadata;
    if (
      annotations?.[Annotation.DistributeTo] === undefined ||
      (deletionTimestamp !== undefined && deletionTimestamp !== null)
    ) {
      continue;
    }
    const kind = registry.byGroupKind(splitApiVersion(source.apiVersion).group, source.kind);
    const ref = kind === undefined ? objectRefOf(source) : sourceRefOf(source, kind);
    const key = objectKey(ref);
    byKey.set(key, { key, ref, source, kind });
  }
  return [...byKey.values()].sort((a, b) => compareStrings(a.key, b.key));
}

function overwriteOf(source: KubeObject, ref: SourceRef, reports: ReportCollector): boolean {
  const value = source.metadata.annotations?.[Annotation.ConflictResolution];
  if (value === undefined) {
    return false;
  }
  if (value.trim() === ConflictResolution.Overwrite) {
    return true;
  }
  reports.add(ref, {
    code: ErrorCode.InvalidAnnotation,
    severity: Severity.Warning,
    message: `${Annotation.ConflictResolution} "${value}" is not understood (the only value is "${ConflictResolution.Overwrite}"); conflicting objects are left untouched`,
  });
  return false;
}

/** A base copy and the sources its references name, resolved once per (source, namespace). */
interface Base {
  readonly object: KubeObject;
  readonly refs: readonly ResolvedReference[];
  readonly refKeys: readonly string[];
  readonly rewrites: Map<string, RewriteResult>;
}

/**
 * Builds DesiredCopy values, sharing work across clusters: one base copy per fresh claim (source,
 * namespace), one rewrite per distinct placement of the sources it refers to, one hash per
 * distinct object. Lives for one computeDesiredState call.
 */
class CopyBuilder {
  readonly #input: DesiredStateInput;
  readonly #reports: ReportCollector;
  readonly #landing: LandingIndex;
  readonly #bases = new WeakMap<FreshClaim, Base>();

  constructor(input: DesiredStateInput, reports: ReportCollector, landing: LandingIndex) {
    this.#input = input;
    this.#reports = reports;
    this.#landing = landing;
  }

  clusterCopies(
    cluster: string,
    chosen: ReadonlyMap<string, Claim | Claim[]>,
    previous: ClusterCopies | undefined,
  ): ClusterCopies {
    const winners: Claim[] = [];
    for (const claimed of chosen.values()) {
      if (!Array.isArray(claimed)) {
        winners.push(claimed);
      }
    }
    winners.sort((a, b) => a.rank - b.rank);
    const copies = new Map<string, DesiredCopy>();
    for (const claim of winners) {
      copies.set(
        claim.key,
        claim.type === 'held' ? claim.copy : this.#fresh(cluster, claim, chosen, previous),
      );
    }
    return copies;
  }

  #fresh(
    cluster: string,
    claim: FreshClaim,
    chosen: ReadonlyMap<string, Claim | Claim[]>,
    previous: ClusterCopies | undefined,
  ): DesiredCopy {
    const { plan, key } = claim;
    const object = this.#rewritten(cluster, claim, chosen);
    const hash = contentHash(object);
    const before = previous?.get(key);
    if (
      before !== undefined &&
      before.hash === hash &&
      before.overwrite === plan.overwrite &&
      objectKey(before.source) === plan.key
    ) {
      return before;
    }
    return Object.freeze({ key, cluster, source: plan.ref, object, hash, overwrite: plan.overwrite });
  }

  #rewritten(cluster: string, claim: FreshClaim, chosen: ReadonlyMap<string, Claim | Claim[]>): KubeObject {
    const base = this.#base(claim);
    if (base.refs.length === 0) {
      return base.object;
    }
    const landingIn = (sourceKey: string): string[] => landingNamespaces(this.#landing, chosen, sourceKey);
    // Clusters where the referenced sources land in the same namespaces get the same rewrite.
    const signature = base.refKeys.map((sourceKey) => landingIn(sourceKey).join(',')).join('|');
    let result = base.rewrites.get(signature);
    if (result === undefined) {
      const placement: Placement = { landingNamespaces: (ref) => landingIn(objectKey(ref)) };
      result = rewriteReferences(base.object, { sourceNamespace: claim.plan.ref.namespace, placement });
      base.rewrites.set(signature, result);
    }
    this.#reports.addErrors(claim.plan.ref, result.warnings, Severity.Warning, {
      cluster,
      namespace: claim.namespace,
    });
    return result.object;
  }

  #base(claim: FreshClaim): Base {
    let base = this.#bases.get(claim);
    if (base === undefined) {
      const { plan, namespace } = claim;
      const options: BuildCopyOptions = {
        source: plan.source,
        targetNamespace: namespace,
        mgmtCluster: this.#input.mgmtCluster,
        classMapping: this.#input.classMapping,
      };
      const object = buildCopy(options);
      const refs = referencedSources(object, { sourceNamespace: plan.ref.namespace });
      base = { object, refs, refKeys: refs.map(({ target }) => objectKey(target)), rewrites: new Map() };
      this.#bases.set(claim, base);
    }
    return base;
  }
}

/** Namespaces (sorted) where `sourceKey`'s copies are in one cluster's final set. */
function landingNamespaces(
  landing: LandingIndex,
  chosen: ReadonlyMap<string, Claim | Claim[]>,
  sourceKey: string,
): string[] {
  const namespaces: string[] = [];
  for (const { namespace, key } of landing.get(sourceKey) ?? []) {
    const claim = chosen.get(key);
    if (claim !== undefined && !Array.isArray(claim) && claim.sourceKey === sourceKey) {
      namespaces.push(namespace);
    }
  }
  return namespaces;
}
