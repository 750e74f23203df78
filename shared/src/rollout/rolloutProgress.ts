import { compareStrings } from '../util/compare.js';
import { type Rollout, waveOf } from './rollout.js';

// Where a source's rollout stands (docs/spec.md D10.5), derived from what the clusters report
// rather than stored: a restarted server, or a second replica, reads the same progress from the
// same statuses. The only memory is the caller's: when each wave was first seen complete (the
// soak counts from there) and how far the revision was admitted (never taken back). Pure.

/** How one cluster stands with the revision being rolled out (asked only of admitted waves). */
export type ClusterStanding =
  | { readonly state: 'applied' }
  | { readonly state: 'pending' }
  | { readonly state: 'failed'; readonly message: string }
  | { readonly state: 'disconnected' };

export const RolloutPhase = {
  /** The current wave's clusters are applying the revision. */
  rolling: 'rolling',
  /** The current wave applied it; the next one gets it when the soak ends. */
  soaking: 'soaking',
  /** A cluster of the current wave failed: nothing goes further until resumed or edited. */
  halted: 'halted',
  /** A cluster of the current wave is not connected: the rollout waits for it. */
  holding: 'holding',
  /** Every wave applied the revision. */
  complete: 'complete',
} as const;
export type RolloutPhase = (typeof RolloutPhase)[keyof typeof RolloutPhase];

export interface RolloutInput {
  readonly rollout: Rollout;
  /** The selected clusters (any order). */
  readonly clusters: readonly string[];
  readonly standing: (cluster: string) => ClusterStanding;
  /** When each wave was first seen complete with this revision (wave index → clock ms). */
  readonly completedAt: ReadonlyMap<number, number>;
  /** How many waves this revision had been admitted to already (0: none yet). */
  readonly admittedBefore: number;
  /** `kuberelay.dev/rollout-resume` names this revision: a failed cluster no longer halts it. */
  readonly resumed: boolean;
  readonly now: number;
}

export interface RolloutProgress {
  /**
   * The selected clusters of each wave, in the annotation's order, with the implicit last wave
   * (clusters no wave names) at the end: `rollout.waves.length + 1` entries, some maybe empty.
   */
  readonly waves: readonly (readonly string[])[];
  /** Waves 0 .. admitted-1 get the revision; the clusters of the others keep what they have. */
  readonly admitted: number;
  readonly phase: RolloutPhase;
  /** The wave the phase is about (0-based, an index into `waves`). */
  readonly wave: number;
  /** What a person reads: which cluster holds or halted it, and why. */
  readonly reason: string;
  readonly soakUntil?: number;
  /** completedAt with the waves first seen complete now. */
  readonly completedAt: ReadonlyMap<number, number>;
}

export function rolloutProgress(input: RolloutInput): RolloutProgress {
  const waves = clustersByWave(input.rollout, input.clusters);
  const completedAt = new Map(input.completedAt);
  const all = waves.length;
  const last = waves.findLastIndex((wave) => wave.length > 0);
  const label = (wave: number) =>
    wave === all - 1
      ? 'the last wave (clusters no wave names)'
      : `wave ${wave + 1} of ${waves[all - 1]?.length ? all : all - 1}`;
  let admitted = Math.min(Math.max(1, input.admittedBefore), all);
  // Waves before the last admitted one were complete when the next one was admitted: a cluster
  // there failing later is its own copy's problem (status says so), not the rollout's. A wave no
  // selected cluster is in is done at once, without a soak: there is nothing to watch.
  for (let wave = Math.max(0, admitted - 1); wave <= last; wave += 1) {
    admitted = Math.max(admitted, wave + 1);
    const clusters = waves[wave] ?? [];
    if (clusters.length === 0) continue;
    const at = (phase: RolloutPhase, reason: string, soakUntil?: number): RolloutProgress => ({
      waves,
      admitted: phase === RolloutPhase.complete ? all : admitted,
      phase,
      wave,
      reason,
      ...(soakUntil === undefined ? {} : { soakUntil }),
      completedAt,
    });
    const standings = clusters.map((cluster) => ({ cluster, standing: input.standing(cluster) }));
    const failed = standings.find((s) => s.standing.state === 'failed');
    if (failed !== undefined && !input.resumed) {
      const message = failed.standing.state === 'failed' ? failed.standing.message : '';
      return at(RolloutPhase.halted, `${label(wave)}: ${failed.cluster} failed: ${message}`);
    }
    const away = standings.find((s) => s.standing.state === 'disconnected');
    if (away !== undefined)
      return at(RolloutPhase.holding, `${label(wave)}: ${away.cluster} is not connected`);
    const pending = standings.filter((s) => s.standing.state === 'pending').map((s) => s.cluster);
    if (pending.length > 0) {
      return at(RolloutPhase.rolling, `${label(wave)}: waiting for ${listed(pending)} to apply it`);
    }
    const doneAt = completedAt.get(wave) ?? input.now;
    completedAt.set(wave, doneAt);
    if (wave === last) return at(RolloutPhase.complete, 'every wave applied it');
    const soakUntil = doneAt + input.rollout.soakMs;
    if (input.now < soakUntil)
      return at(RolloutPhase.soaking, `${label(wave)} applied it; soaking`, soakUntil);
  }
  // No selected cluster at all: nothing to roll out.
  return {
    waves,
    admitted: all,
    phase: RolloutPhase.complete,
    wave: 0,
    reason: 'no cluster selected',
    completedAt,
  };
}

/** The selected clusters by wave: the annotation's waves, then the implicit last one. */
export function clustersByWave(rollout: Rollout, clusters: readonly string[]): string[][] {
  const byWave: string[][] = Array.from({ length: rollout.waves.length + 1 }, () => []);
  for (const cluster of [...new Set(clusters)].sort(compareStrings))
    byWave[waveOf(rollout, cluster)]?.push(cluster);
  return byWave;
}

function listed(names: readonly string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
