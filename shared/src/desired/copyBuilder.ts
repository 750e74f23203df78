import { buildCopy, type GatewayClassMapping } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { type ResolvedReference, referencedSources } from '../copy/references.js';
import { type RewriteResult, rewriteReferences } from '../copy/rewriteReferences.js';
import type { RelayError } from '../errors/relayError.js';
import { type CopyPolicy, samePolicy } from '../policy/copyPolicy.js';
import { objectKey } from '../source/objectRef.js';
import { contentHash } from './contentHash.js';
import type { DesiredCopy } from './desiredState.js';
import type { ValidPlan } from './planSource.js';

// Step 2 of the pure core: the copy one claim puts in one cluster (docs/spec.md §3), built once per
// (source version, namespace) and rewritten once per distinct placement of what it refers to.

/** One valid source's claim on one copy key: one object per (source version, target namespace),
 * shared by every cluster that selects that namespace. */
export interface FreshClaim {
  readonly type: 'fresh';
  readonly key: string;
  readonly sourceKey: string;
  readonly plan: ValidPlan;
  readonly namespace: string | undefined;
}

/** A copy kept as it is: of an invalid source, or the survivor of a collision. */
export interface HeldClaim {
  readonly type: 'held';
  readonly key: string;
  readonly sourceKey: string;
  readonly copy: DesiredCopy;
}

export type Claim = FreshClaim | HeldClaim;

/** Where a claim's copy lands: undefined for a cluster-scoped kind. */
export const claimNamespace = (claim: Claim): string | undefined =>
  claim.type === 'fresh' ? claim.namespace : claim.copy.object.metadata.namespace;

export const claimSource = (claim: Claim) => (claim.type === 'fresh' ? claim.plan.ref : claim.copy.source);

interface Base {
  readonly object: KubeObject;
  readonly refs: readonly ResolvedReference[];
  /** Source keys the references name. */
  readonly refKeys: readonly string[];
  readonly rewrites: Map<string, RewriteResult>;
}

export interface BuiltCopy {
  readonly object: KubeObject;
  /** Rewrite warnings of this placement (docs/spec.md §3). */
  readonly warnings: readonly RelayError[];
}

/**
 * Builds copies, sharing work: the base copy (class swap, annotation, namespace) once per claim,
 * the reference rewrite once per distinct landing of the sources it names. Caches are keyed by the
 * claim object (WeakMap), so they live exactly as long as the source version that made the claim.
 */
export class CopyBuilder {
  readonly #mgmtCluster: string;
  readonly #classMapping: GatewayClassMapping;
  readonly #bases = new WeakMap<FreshClaim, Base>();

  constructor(options: { readonly mgmtCluster: string; readonly classMapping: GatewayClassMapping }) {
    this.#mgmtCluster = options.mgmtCluster;
    this.#classMapping = options.classMapping;
  }

  /** The source keys a claim's copy refers to (what it must be rebuilt for when they move). */
  references(claim: FreshClaim): readonly string[] {
    return this.#base(claim).refKeys;
  }

  /** The claim's copy where `landingIn(sourceKey)` gives the namespaces (sorted) each source lands in. */
  build(claim: FreshClaim, landingIn: (sourceKey: string) => readonly string[]): BuiltCopy {
    const base = this.#base(claim);
    if (base.refs.length === 0) {
      return { object: base.object, warnings: [] };
    }
    const namespaces = base.refKeys.map((sourceKey) => landingIn(sourceKey));
    // Clusters where the referenced sources land in the same namespaces get the same rewrite.
    const signature = namespaces.map((list) => list.join(',')).join('|');
    let result = base.rewrites.get(signature);
    if (result === undefined) {
      const byKey = new Map(base.refKeys.map((sourceKey, i) => [sourceKey, namespaces[i] ?? []]));
      result = rewriteReferences(base.object, {
        sourceNamespace: claim.plan.ref.namespace,
        placement: { landingNamespaces: (ref) => byKey.get(objectKey(ref)) ?? landingIn(objectKey(ref)) },
      });
      base.rewrites.set(signature, result);
    }
    return { object: result.object, warnings: result.warnings };
  }

  #base(claim: FreshClaim): Base {
    let base = this.#bases.get(claim);
    if (base === undefined) {
      const { plan, namespace } = claim;
      const object = buildCopy({
        source: plan.source,
        targetNamespace: namespace,
        mgmtCluster: this.#mgmtCluster,
        classMapping: this.#classMapping,
      });
      const refs = referencedSources(object, { sourceNamespace: plan.ref.namespace });
      base = { object, refs, refKeys: refs.map(({ target }) => objectKey(target)), rewrites: new Map() };
      this.#bases.set(claim, base);
    }
    return base;
  }
}

/**
 * The copy a claim's built object makes in one cluster: the one in place (`before`) when nothing
 * the agent acts on changed (content, overwrite, policy, source), so unchanged copies keep their
 * identity and diffs skip them; else a new frozen copy.
 */
export function placedCopy(input: {
  readonly key: string;
  readonly cluster: string;
  readonly plan: ValidPlan;
  readonly object: KubeObject;
  readonly before: DesiredCopy | undefined;
}): DesiredCopy {
  const { key, cluster, plan, object, before } = input;
  const hash = contentHash(object);
  if (
    before?.hash === hash &&
    before.overwrite === plan.overwrite &&
    samePolicy(before.policy, plan.policy) &&
    objectKey(before.source) === plan.key
  ) {
    return before;
  }
  return Object.freeze({
    key,
    cluster,
    source: plan.ref,
    object,
    hash,
    overwrite: plan.overwrite,
    policy: plan.policy,
  });
}

/**
 * A paused source's copy already in place (docs/spec.md D10.1): kept as it is, with the pause
 * marked on it; undefined when the slot holds no copy of this source yet (it is built then).
 */
export function frozenCopy(before: DesiredCopy | undefined, plan: ValidPlan): DesiredCopy | undefined {
  if (before === undefined || objectKey(before.source) !== plan.key) return undefined;
  return withPolicy(before, plan.policy);
}

/** `copy` with `policy`: the same object when it has that policy already. */
export function withPolicy(copy: DesiredCopy, policy: CopyPolicy): DesiredCopy {
  return samePolicy(copy.policy, policy) ? copy : Object.freeze({ ...copy, policy });
}
