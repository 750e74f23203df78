import type { KubeObject } from '../copy/kubeObject.js';
import { type ClusterMatcher, compileClusterPattern } from '../distributeTo/clusterMatcher.js';
import { globProblem, splitEntries } from '../distributeTo/globSyntax.js';
import { countExpansions, patternLimitProblem } from '../distributeTo/valueLimits.js';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { Annotation } from '../source/annotations.js';
import { revisionContent, revisionOf } from './revisions.js';

// `kuberelay.dev/rollout` and `kuberelay.dev/rollout-soak` (docs/spec.md D10.5): ordered waves of
// cluster globs a change of the source reaches one after the other. Pure: parsing, wave
// membership and the revision a rollout is about; the progress is rolloutProgress.ts.

export const ROLLOUT_LIMITS = Object.freeze({
  characters: 2048,
  waves: 16,
  /** Cluster patterns over all waves. */
  patterns: 64,
  /** Brace alternatives over all waves (as distribute-to's). */
  expansions: 1024,
  /** The longest soak: a rollout that needs days is several rollouts. */
  soakMs: 24 * 60 * 60 * 1000,
});

export interface Rollout {
  /** The annotation's waves as written, trimmed (what the Events and relayctl show). */
  readonly text: string;
  /** Cluster patterns of each wave, in order. */
  readonly waves: readonly (readonly ClusterMatcher[])[];
  /** How long every cluster of a wave must have applied a revision before the next wave gets it. */
  readonly soakMs: number;
}

/** A source's rollout, or undefined without the annotation; errors for a bad value. */
export function sourceRollout(source: KubeObject): {
  readonly rollout: Rollout | undefined;
  readonly errors: readonly RelayError[];
} {
  const annotations = source.metadata.annotations ?? {};
  const value = annotations[Annotation.Rollout];
  const soak = annotations[Annotation.RolloutSoak];
  const errors: RelayError[] = [];
  if (value === undefined) {
    if (soak !== undefined)
      errors.push(
        invalid(`${Annotation.RolloutSoak} is set without ${Annotation.Rollout}`, Annotation.RolloutSoak),
      );
    return { rollout: undefined, errors };
  }
  const waves = parseWaves(value, errors);
  const soakMs = soak === undefined ? 0 : parseSoak(soak, errors);
  if (errors.length > 0 || waves === undefined) return { rollout: undefined, errors };
  return { rollout: Object.freeze({ text: normalText(value), waves, soakMs }), errors };
}

/**
 * The wave a cluster is in: the first whose patterns match it, counted from 0. A cluster no wave
 * names is in the implicit last wave (`waves.length`): a typo in a pattern delays a cluster, it
 * never strands it.
 */
export function waveOf(rollout: Rollout, cluster: string): number {
  const index = rollout.waves.findIndex((wave) => wave.some((m) => m.matches(cluster)));
  return index < 0 ? rollout.waves.length : index;
}

/**
 * What a rollout is a rollout of: the source's content as the copies carry it (revisionContent:
 * every top-level field but status, labels, annotations), without distribute-to and the
 * project's own annotations. Selecting another cluster, resuming or pausing is no new revision;
 * an edit of the spec or of a label is. 16 hex digits.
 */
export function rolloutRevision(source: KubeObject): string {
  return revisionOf(revisionContent(source));
}

function parseWaves(value: string, errors: RelayError[]): ClusterMatcher[][] | undefined {
  const annotation = Annotation.Rollout;
  if (value.length > ROLLOUT_LIMITS.characters) {
    errors.push(invalid(`${annotation} is longer than ${ROLLOUT_LIMITS.characters} characters`, annotation));
    return undefined;
  }
  const parts = value.split(';').map((part) => part.trim());
  // A trailing ";" is harmless; an empty wave in the middle is a mistake worth saying.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > ROLLOUT_LIMITS.waves) {
    errors.push(
      invalid(
        `${annotation} has ${parts.length} waves; at most ${ROLLOUT_LIMITS.waves} are allowed`,
        annotation,
      ),
    );
    return undefined;
  }
  let patterns = 0;
  let expansions = 0;
  const waves: ClusterMatcher[][] = [];
  for (const [i, part] of parts.entries()) {
    const globs = splitEntries(part)
      .map((glob) => glob.trim())
      .filter((glob) => glob !== '');
    if (globs.length === 0) {
      errors.push(invalid(`${annotation}: wave ${i + 1} names no cluster`, annotation));
      continue;
    }
    const wave: ClusterMatcher[] = [];
    for (const glob of globs) {
      patterns += 1;
      const problem =
        (glob.startsWith('!')
          ? 'is an exclusion, which a wave cannot have (exclude it in distribute-to)'
          : undefined) ??
        globProblem(glob) ??
        patternLimitProblem(glob);
      if (problem !== undefined) {
        errors.push(invalid(`${annotation}: wave ${i + 1}: "${glob.slice(0, 64)}" ${problem}`, annotation));
        continue;
      }
      expansions += countExpansions(glob);
      if (expansions > ROLLOUT_LIMITS.expansions) {
        errors.push(
          invalid(`${annotation} expands to more than ${ROLLOUT_LIMITS.expansions} patterns`, annotation),
        );
        return undefined;
      }
      try {
        wave.push(compileClusterPattern(glob));
      } catch (error) {
        errors.push(
          invalid(
            `${annotation}: wave ${i + 1}: "${glob.slice(0, 64)}" is not a valid glob (${String(error)})`,
            annotation,
          ),
        );
      }
    }
    waves.push(wave);
  }
  if (patterns > ROLLOUT_LIMITS.patterns) {
    errors.push(
      invalid(
        `${annotation} has ${patterns} cluster patterns; at most ${ROLLOUT_LIMITS.patterns} are allowed`,
        annotation,
      ),
    );
  }
  return errors.length > 0 ? undefined : waves;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `5m`, `1h`, `0`: a whole number and one unit, at most 24 h. */
function parseSoak(value: string, errors: RelayError[]): number {
  const annotation = Annotation.RolloutSoak;
  const text = value.trim();
  const match = /^(\d{1,6})(s|m|h)$/.exec(text);
  const ms = text === '0' ? 0 : match === null ? undefined : Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 0);
  if (ms === undefined) {
    errors.push(
      invalid(
        `${annotation} ${JSON.stringify(text.slice(0, 32))} is not a duration such as "90s", "5m" or "1h"`,
        annotation,
      ),
    );
    return 0;
  }
  if (ms > ROLLOUT_LIMITS.soakMs) {
    errors.push(invalid(`${annotation} ${text} is longer than 24h`, annotation));
    return 0;
  }
  return ms;
}

function normalText(value: string): string {
  return value
    .split(';')
    .map((part) =>
      splitEntries(part)
        .map((glob) => glob.trim())
        .filter((glob) => glob !== '')
        .join(', '),
    )
    .filter((part) => part !== '')
    .join('; ');
}

const invalid = (message: string, annotation: string): RelayError =>
  new RelayError({ code: ErrorCode.InvalidAnnotation, message, details: { annotation } });
