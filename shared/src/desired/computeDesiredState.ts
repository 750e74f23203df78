import type { GatewayClassMapping } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import type { KindInfo } from '../kinds/kindInfo.js';
import type { DesiredState } from './desiredState.js';
import { DesiredStateEngine, type RolloutAdmission } from './desiredStateEngine.js';

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
  /** How far each source's rollout reached (docs/spec.md D10.5); see EngineInput.rollouts. */
  readonly rollouts?: ReadonlyMap<string, RolloutAdmission> | undefined;
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
 *
 * It is DesiredStateEngine run once from `previous`: the server keeps one engine and feeds it each
 * change, which gives the same states (the engine's property test) at the cost of what changed.
 */
export function computeDesiredState(input: DesiredStateInput): DesiredState {
  const engine = new DesiredStateEngine({
    mgmtCluster: input.mgmtCluster,
    classMapping: input.classMapping,
    kinds: input.kinds,
    previous: input.previous,
  });
  return engine.update({ sources: input.sources, clusters: input.clusters, rollouts: input.rollouts }).state;
}
