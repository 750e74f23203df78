import type { GatewayClassMapping } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { type RegisteredClusters, registeredClusters, type Target } from '../distributeTo/selectTargets.js';
import { createKindRegistry, type KindInfo, type KindRegistry } from '../kinds/kindInfo.js';
import { copyPolicy } from '../policy/copyPolicy.js';
import { waveOf } from '../rollout/rollout.js';
import { Annotation } from '../source/annotations.js';
import { objectKey } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import { ClusterSlots } from './clusterSlots.js';
import { collisionReports, winnerOf } from './collisions.js';
import {
  type Claim,
  CopyBuilder,
  type FreshClaim,
  frozenCopy,
  type HeldClaim,
  placedCopy,
  withPolicy,
} from './copyBuilder.js';
import { CopySet } from './copySet.js';
import type { ClusterCopies, DesiredCopy, DesiredState, ReportItem } from './desiredState.js';
import {
  planSource,
  type SourcePlan,
  sameItems,
  sameVersion,
  sourceKeyOf,
  targetsOf,
  unregisteredReports,
  type ValidPlan,
} from './planSource.js';
import { SlotReports } from './slotReports.js';

export interface DesiredStateEngineOptions {
  readonly mgmtCluster: string;
  readonly classMapping: GatewayClassMapping;
  readonly kinds: readonly KindInfo[];
  /** A state to continue from (copies kept for invalid sources and collisions come from it). */
  readonly previous?: DesiredState | undefined;
}

export interface EngineInput {
  /** Every object of the distributable kinds (unannotated and deleting ones are ignored). */
  readonly sources: readonly KubeObject[];
  /** Registered workload cluster names (any order, duplicates allowed). */
  readonly clusters: readonly string[];
  /**
   * How far each source's rollout reached (docs/spec.md D10.5), by source key. A source with
   * `kuberelay.dev/rollout` and no admission for its current revision has reached its first wave.
   */
  readonly rollouts?: ReadonlyMap<string, RolloutAdmission> | undefined;
}

/** Waves 0 .. admitted-1 of the source's rollout get `revision`; the other clusters are held. */
export interface RolloutAdmission {
  readonly revision: string;
  readonly admitted: number;
}

export interface EngineUpdate {
  readonly state: DesiredState;
  /** Per cluster, the copy keys whose DesiredCopy differs from the previous state's. */
  readonly changed: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A source the engine knows: its plan and the claims it makes. */
interface Entry {
  readonly plan: SourcePlan;
  /** Fresh claims by target namespace ('' when cluster-scoped), shared by clusters. */
  readonly byNamespace: Map<string, FreshClaim>;
  /** A valid source's targets among the registered clusters (what #withdraw unclaims). */
  targets: readonly Target[];
  /** An invalid source's held claims, per cluster. */
  readonly held: Map<string, HeldClaim[]>;
  /** Reports that depend on the registered clusters (names not registered). */
  unregistered: readonly ReportItem[];
  /** Source keys this source's copies refer to (registered in #referencedBy). */
  readonly refKeys: Set<string>;
  /** A rollout's waves that get this version (Infinity without a rollout). */
  readonly admitted: number;
  /** Per wave not admitted, the plan its clusters' claims carry: the same version, held paused. */
  readonly heldPlans: Map<number, ValidPlan>;
}

/**
 * The desired state, kept up to date change by change (docs/design.md "Flow", step 2). `update`
 * takes the complete current inputs, finds what changed (sources by object identity or
 * resourceVersion, the cluster set by name) and recomputes only the copy slots (cluster, key) that
 * change touches: the changed sources' own claims, collisions at those keys, and the copies that
 * refer to a source whose landing in a cluster moved. One edit at 1,000 sources × 1,000 clusters
 * costs what that source's 1,000 copies cost, not 10⁶ (issue 10).
 *
 * computeDesiredState is this engine run once from `previous`, so the whole-state function and the
 * incremental one are one implementation; the property test checks that a sequence of updates
 * equals computing each state from scratch.
 */
export class DesiredStateEngine {
  readonly #registry: KindRegistry;
  readonly #builder: CopyBuilder;
  readonly #entries = new Map<string, Entry>();
  readonly #slots = new Map<string, ClusterSlots>();
  /** Source key → the sources whose copies refer to it. */
  readonly #referencedBy = new Map<string, Set<string>>();
  readonly #reports = new SlotReports();
  /** Fresh claims whose references are registered in #referencedBy. */
  readonly #referred = new WeakSet<FreshClaim>();
  #clusters: RegisteredClusters = registeredClusters([]);
  #rollouts: ReadonlyMap<string, RolloutAdmission> | undefined;
  #state: DesiredState;
  #invalidDirty = true;
  #first = true;
  /** Scratch of one update: slots to resolve, slots to rebuild, sources whose report changes. */
  #resolve = new Map<string, Set<string>>();
  #rebuild = new Map<string, Set<string>>();

  constructor(options: DesiredStateEngineOptions) {
    this.#registry = createKindRegistry(options.kinds);
    this.#builder = new CopyBuilder(options);
    this.#state = Object.freeze({
      clusters: new Map(),
      reports: new Map(),
      invalidSources: new Set<string>(),
    });
    for (const [cluster, copies] of options.previous?.clusters ?? []) {
      // Seeded slots hold the previous copies with no claim: the first update resolves them all.
      const slots = new ClusterSlots(
        cluster,
        copies instanceof CopySet ? copies : CopySet.of(copies.values()),
      );
      this.#slots.set(cluster, slots);
      for (const key of copies.keys()) this.#mark(this.#resolve, cluster, key);
    }
  }

  get state(): DesiredState {
    return this.#state;
  }

  update(input: EngineInput): EngineUpdate {
    const clusters = registeredClusters(input.clusters);
    const added = clusters.names.filter((name) => !this.#slots.has(name));
    const clustersChanged = this.#first || !sameNames(clusters.names, this.#clusters.names);
    const removedAny = clustersChanged && [...this.#slots.keys()].some((name) => !clusters.has(name));
    this.#first = false;
    this.#clusters = clusters;
    if (clustersChanged) this.#syncClusters();
    const newcomers = registeredClusters(added);
    this.#rollouts = input.rollouts;
    const current = new Map<string, KubeObject>();
    for (const source of input.sources) {
      const { annotations, deletionTimestamp } = source.metadata;
      if (annotations?.[Annotation.DistributeTo] === undefined) continue;
      if (deletionTimestamp !== undefined && deletionTimestamp !== null) continue;
      current.set(sourceKeyOf(source, this.#registry), source);
    }
    for (const [key, entry] of this.#entries) {
      if (!current.has(key)) this.#replace(key, entry, undefined);
    }
    for (const [key, source] of current) {
      const entry = this.#entries.get(key);
      if (
        entry === undefined ||
        !sameVersion(entry.plan.source, source) ||
        (entry.plan.type === 'valid' && this.#admitted(key, entry.plan) !== entry.admitted)
      )
        this.#replace(key, entry, source);
      else if (clustersChanged && entry.plan.type === 'valid') {
        this.#extend(key, entry, entry.plan, { removedAny, newcomers });
      }
    }
    const landingMoved = this.#resolveSlots();
    this.#propagate(landingMoved);
    const changed = this.#rebuildSlots();
    this.#state = this.#publish();
    return { state: this.#state, changed };
  }

  /** Drops clusters no longer registered (and every claim and report in them); adds new ones. */
  #syncClusters(): void {
    for (const [cluster] of this.#slots) {
      if (this.#clusters.has(cluster)) continue;
      this.#slots.delete(cluster);
      this.#resolve.delete(cluster);
      this.#rebuild.delete(cluster);
      this.#reports.dropCluster(cluster);
      for (const entry of this.#entries.values()) entry.held.delete(cluster);
    }
    for (const cluster of this.#clusters.names) {
      if (!this.#slots.has(cluster)) this.#slots.set(cluster, new ClusterSlots(cluster, CopySet.empty));
    }
  }

  /** Replaces the entry of `key` with the plan of `source` (undefined: the source is gone). */
  #replace(key: string, old: Entry | undefined, source: KubeObject | undefined): void {
    const plan = source === undefined ? undefined : planSource(source, this.#registry);
    // Held copies are the ones in place now: read them before the old claims are withdrawn. A
    // paused source holds them too (docs/spec.md D10.1), marked paused, so that no edit, selection
    // change or namespace change reaches the clusters until the pause is lifted.
    const holds = plan !== undefined && (plan.type === 'invalid' ? plan.held : plan.policy.paused);
    const held = holds ? this.#landedCopies(key) : undefined;
    if (old !== undefined) this.#withdraw(key, old);
    this.#invalidDirty = true;
    this.#reports.touch(key);
    if (plan === undefined) {
      this.#entries.delete(key);
      return;
    }
    const entry: Entry = {
      plan,
      byNamespace: new Map(),
      targets: [],
      held: new Map(),
      unregistered: [],
      refKeys: new Set(),
      admitted: plan.type === 'valid' ? this.#admitted(key, plan) : Number.POSITIVE_INFINITY,
      heldPlans: new Map(),
    };
    this.#entries.set(key, entry);
    if (held !== undefined) this.#hold(entry, plan, held);
    // A paused source is placed too, where none of its copies landed (a cluster registered during
    // the pause, a slot lost to a collision, anything on a freshly started server): those copies
    // carry the pause, so the agent writes none of them (docs/spec.md D10.1), and status shows them.
    if (plan.type === 'valid') this.#place(key, entry, plan, held);
  }

  #withdraw(key: string, entry: Entry): void {
    for (const target of entry.targets) {
      const claim = entry.byNamespace.get(claimSlot(entry, target).id);
      if (claim !== undefined) this.#unclaim(target.cluster, claim);
    }
    for (const [cluster, claims] of entry.held) for (const claim of claims) this.#unclaim(cluster, claim);
    entry.targets = [];
    entry.held.clear();
    for (const target of entry.refKeys) this.#referencedBy.get(target)?.delete(key);
  }

  /** Claims a new valid source's targets, but the slots where it holds a copy. */
  #place(
    key: string,
    entry: Entry,
    plan: ValidPlan,
    holding?: ReadonlyMap<string, readonly DesiredCopy[]>,
  ): void {
    const selection = targetsOf(plan, this.#clusters);
    const targets =
      holding === undefined || holding.size === 0
        ? selection.targets
        : selection.targets.filter(
            ({ cluster, namespace }) =>
              !holding.get(cluster)?.some((copy) => copy.key === objectKey({ ...plan.ref, namespace })),
          );
    entry.unregistered = selection.reports;
    entry.targets = targets;
    for (const target of targets) this.#claim(target.cluster, this.#claimFor(key, entry, plan, target));
  }

  /**
   * Follows a cluster-set change for an unchanged valid source: targets in removed clusters went
   * with their slots, and only the newcomers are matched (not every cluster again: adding one
   * cluster to 1,000 must not re-select 10⁶ targets).
   */
  #extend(
    key: string,
    entry: Entry,
    plan: ValidPlan,
    change: { readonly removedAny: boolean; readonly newcomers: RegisteredClusters },
  ): void {
    const reports = unregisteredReports(plan, this.#clusters);
    if (!sameItems(reports, entry.unregistered)) this.#reports.touch(key);
    entry.unregistered = reports;
    const kept = change.removedAny
      ? entry.targets.filter((t) => this.#clusters.has(t.cluster))
      : entry.targets;
    const added = change.newcomers.names.length === 0 ? [] : targetsOf(plan, change.newcomers).targets;
    for (const target of added) this.#claim(target.cluster, this.#claimFor(key, entry, plan, target));
    entry.targets = added.length === 0 ? kept : [...kept, ...added];
  }

  /**
   * The claim of one target: shared by every cluster of a namespace, apart for clusters a rollout
   * has not reached, whose claim (one per wave) carries the same version held paused: the copy they
   * have stays as it is (#copyAt freezes a paused copy), and where they have none, the agent
   * creates nothing (docs/spec.md D10.5).
   */
  #claimFor(key: string, entry: Entry, plan: ValidPlan, target: Target): FreshClaim {
    const { namespace } = target;
    const slot = claimSlot(entry, target);
    let claim = entry.byNamespace.get(slot.id);
    if (claim === undefined) {
      const claimPlan = slot.wave === undefined ? plan : this.#heldPlan(entry, plan, slot.wave);
      claim = {
        type: 'fresh',
        key: objectKey({ ...plan.ref, namespace }),
        sourceKey: key,
        plan: claimPlan,
        namespace,
      };
      entry.byNamespace.set(slot.id, claim);
    }
    return claim;
  }

  #heldPlan(entry: Entry, plan: ValidPlan, wave: number): ValidPlan {
    let held = entry.heldPlans.get(wave);
    if (held === undefined) {
      held = {
        ...plan,
        policy: copyPolicy({ ...plan.policy, paused: true, holdReason: holdReason(plan, wave) }),
      };
      entry.heldPlans.set(wave, held);
    }
    return held;
  }

  /** How many waves of a valid source's rollout get its current version. */
  #admitted(key: string, plan: ValidPlan): number {
    if (plan.rollout === undefined) return Number.POSITIVE_INFINITY;
    const admission = this.#rollouts?.get(key);
    return admission !== undefined && admission.revision === plan.rollout.revision
      ? Math.max(1, admission.admitted)
      : 1;
  }

  #hold(entry: Entry, plan: SourcePlan, held: ReadonlyMap<string, readonly DesiredCopy[]>): void {
    // An invalid source's copies keep the policy they had; a paused one's take the new policy.
    const policy = plan.type === 'valid' ? plan.policy : undefined;
    for (const [cluster, copies] of held) {
      const claims = copies.map((landed): HeldClaim => {
        const copy = policy === undefined ? landed : withPolicy(landed, policy);
        return { type: 'held', key: copy.key, sourceKey: plan.key, copy };
      });
      for (const claim of claims) this.#claim(cluster, claim);
      entry.held.set(cluster, claims);
    }
  }

  #claim(cluster: string, claim: Claim): void {
    this.#slots.get(cluster)?.addClaim(claim);
    this.#mark(this.#resolve, cluster, claim.key);
  }

  #unclaim(cluster: string, claim: Claim): void {
    this.#slots.get(cluster)?.removeClaim(claim);
    this.#mark(this.#resolve, cluster, claim.key);
  }

  /** The copies of source `key` in place now, per cluster. */
  #landedCopies(key: string): Map<string, DesiredCopy[]> {
    const out = new Map<string, DesiredCopy[]>();
    for (const [cluster, slots] of this.#slots) {
      const copies = slots.landedCopies(key);
      if (copies.length > 0) out.set(cluster, copies);
    }
    return out;
  }

  /** Chooses each marked slot's occupant; answers the (cluster, source) pairs whose landing moved. */
  #resolveSlots(): Map<string, Set<string>> {
    const moved = new Map<string, Set<string>>();
    for (const [cluster, keys] of this.#resolve) {
      const slots = this.#slots.get(cluster);
      if (slots === undefined) continue;
      for (const key of keys) {
        const claims = slots.claimsAt(key);
        const before = slots.copies.get(key);
        const winner = winnerOf(claims, before);
        if (claims.length > 1)
          this.#reports.set(cluster, key, collisionReports(cluster, key, claims, winner));
        else this.#reports.clear(cluster, key);
        for (const sourceKey of slots.occupy(key, winner)) this.#mark(moved, cluster, sourceKey);
        this.#mark(this.#rebuild, cluster, key);
      }
    }
    this.#resolve = new Map();
    return moved;
  }

  /** Marks the copies that refer to a source whose landing moved in their cluster. */
  #propagate(moved: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [cluster, sourceKeys] of moved) {
      const slots = this.#slots.get(cluster);
      if (slots === undefined) continue;
      for (const sourceKey of sourceKeys) {
        for (const referrer of this.#referencedBy.get(sourceKey) ?? []) {
          for (const key of slots.freshKeysOf(referrer)) this.#mark(this.#rebuild, cluster, key);
        }
      }
    }
  }

  #rebuildSlots(): Map<string, ReadonlySet<string>> {
    const changed = new Map<string, ReadonlySet<string>>();
    for (const [cluster, keys] of this.#rebuild) {
      const slots = this.#slots.get(cluster);
      if (slots === undefined) continue;
      const changes = new Map<string, DesiredCopy | undefined>();
      for (const key of keys) {
        const next = this.#copyAt(slots, key);
        if (next !== slots.copies.get(key)) changes.set(key, next);
      }
      if (changes.size > 0) {
        slots.copies = slots.copies.with(changes);
        changed.set(cluster, new Set(changes.keys()));
      }
    }
    this.#rebuild = new Map();
    return changed;
  }

  #copyAt(slots: ClusterSlots, key: string): DesiredCopy | undefined {
    const claim = slots.occupant(key);
    if (claim === undefined) return undefined;
    if (claim.type === 'held') return claim.copy;
    // Once per claim, not once per cluster it lands in (a claim is one source version's).
    if (!this.#referred.has(claim)) {
      this.#referred.add(claim);
      for (const target of this.#builder.references(claim)) this.#refer(claim.sourceKey, target);
    }
    const before = slots.copies.get(key);
    const { plan } = claim;
    // A paused source's copy, once built, stays as it is: a referenced source moving must not
    // reach it either (and a server started from this state holds exactly it: the same states).
    // Its rewrite warnings wait for the resume too, as a held copy's do.
    if (plan.policy.paused) {
      this.#reports.setWarnings(slots.cluster, key, claim, []);
      const frozen = frozenCopy(before, plan);
      if (frozen !== undefined) return frozen;
    }
    const built = this.#builder.build(claim, (sourceKey) => slots.landingNamespaces(sourceKey));
    if (!plan.policy.paused) this.#reports.setWarnings(slots.cluster, key, claim, built.warnings);
    return placedCopy({ key, cluster: slots.cluster, plan, object: built.object, before });
  }

  #refer(referrer: string, target: string): void {
    this.#entries.get(referrer)?.refKeys.add(target);
    let set = this.#referencedBy.get(target);
    if (set === undefined) {
      set = new Set();
      this.#referencedBy.set(target, set);
    }
    set.add(referrer);
  }

  #publish(): DesiredState {
    const clusters = new Map<string, ClusterCopies>();
    for (const cluster of this.#clusters.names) {
      clusters.set(cluster, this.#slots.get(cluster)?.copies ?? CopySet.empty);
    }
    let { reports, invalidSources } = this.#state;
    const touched = this.#reports.takeTouched();
    if (touched.size > 0) {
      reports = this.#reports.sourceReports(reports, touched, (key) => {
        const entry = this.#entries.get(key);
        return entry && { ref: entry.plan.ref, items: [...entry.plan.reports, ...entry.unregistered] };
      });
    }
    if (this.#invalidDirty) {
      const invalid = [...this.#entries.values()]
        .filter((e) => e.plan.type === 'invalid')
        .map((e) => e.plan.key);
      invalidSources = new Set(invalid.sort(compareStrings));
      this.#invalidDirty = false;
    }
    return Object.freeze({ clusters, reports, invalidSources });
  }

  #mark(into: Map<string, Set<string>>, cluster: string, key: string): void {
    let set = into.get(cluster);
    if (set === undefined) {
      set = new Set();
      into.set(cluster, set);
    }
    set.add(key);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * Which claim a target takes: its namespace's, or, in a cluster of a rollout wave the version has
 * not reached (an explicit pause holds every cluster already), that wave's held one.
 */
function claimSlot(
  entry: Entry,
  { cluster, namespace }: Target,
): { readonly id: string; readonly wave?: number } {
  const ns = namespace ?? '';
  const { plan } = entry;
  if (plan.type !== 'valid' || plan.rollout === undefined || plan.policy.paused) return { id: ns };
  const wave = waveOf(plan.rollout.waves, cluster);
  return wave < entry.admitted ? { id: ns } : { id: `${ns}\u0000${wave}`, wave };
}

function holdReason(plan: ValidPlan, wave: number): string {
  const waves = plan.rollout?.waves.waves ?? [];
  const which = wave < waves.length ? `wave ${wave + 1}` : 'the last wave (clusters no wave names)';
  return `${Annotation.Rollout}: ${which} has not been reached yet`;
}
