import { braceExpand, Minimatch, type MinimatchOptions } from 'minimatch';
import { DistributeToLimits } from './valueLimits.js';

/**
 * A compiled cluster pattern (without its leading `!`). Invariant: when `literalOnly` is true,
 * `matches(name)` is exactly `literals.includes(name)`, which lets selection look clusters up
 * instead of scanning thousands of names.
 */
export interface ClusterMatcher {
  /** The pattern as written in the annotation, without a leading `!`. */
  readonly pattern: string;
  /** Names the pattern spells out: its brace alternatives that have no wildcard
   * (`{qa,prod-*}` → `qa`). Used to report unregistered cluster names. */
  readonly literals: readonly string[];
  /** True when the pattern has no wildcard at all (`qa`, `{qa,canary}`). */
  readonly literalOnly: boolean;
  /** Patterns its braces expand to, and how many of them have a wildcard (DistributeToLimits). */
  readonly expansions: number;
  readonly wildcards: number;
  matches(cluster: string): boolean;
}

/**
 * minimatch options for cluster names: `!` and `#` are handled by the relay, not minimatch; `**`
 * is the same as `*` (names have no `/`); the platform is fixed so `\` is always an escape,
 * whatever OS runs the server.
 */
const OPTIONS: MinimatchOptions = {
  nonegate: true,
  nocomment: true,
  noglobstar: true,
  dot: true,
  platform: 'linux',
  // Callers check countExpansions first; this only keeps a direct caller from expanding a bomb.
  braceExpandMax: DistributeToLimits.expansions + 1,
};

/**
 * Compiles a pattern that already passed `globProblem` and `countExpansions`. Throws what
 * minimatch throws; callers turn that into a per-entry error.
 *
 * Braces are expanded first and each alternative is compiled on its own, without braces: one
 * minimatch of 1,024 brace alternatives costs ~10 ms (its row optimizations compare rows with
 * each other), 1,024 small ones well under 1 ms, and a literal alternative then needs no regular
 * expression at all (not even a minimatch).
 */
export function compileClusterPattern(pattern: string): ClusterMatcher {
  const literals: string[] = [];
  const globs: Minimatch[] = [];
  let rows = 0;
  for (const alternative of braceExpand(pattern, OPTIONS)) {
    if (PLAIN.test(alternative)) {
      rows += 1;
      if (alternative !== '') {
        literals.push(alternative);
      }
      continue;
    }
    const glob = new Minimatch(alternative, ROW_OPTIONS);
    for (const row of glob.set) {
      rows += 1;
      const [only] = row;
      if (row.length === 1 && typeof only === 'string') {
        // `{,qa}` has an empty alternative: it matches no cluster and is not worth reporting.
        if (only !== '') {
          literals.push(only);
        }
      } else {
        globs.push(glob);
      }
    }
  }
  const unique = [...new Set(literals)];
  const names = new Set(unique);
  const literalOnly = rows > 0 && globs.length === 0;
  return Object.freeze({
    pattern,
    literals: Object.freeze(unique),
    literalOnly,
    expansions: rows,
    wildcards: globs.length,
    matches: literalOnly
      ? (cluster: string) => names.has(cluster)
      : (cluster: string) => names.has(cluster) || globs.some((glob) => glob.match(cluster)),
  });
}

/** An alternative with nothing minimatch would read as syntax is its own literal. */
const PLAIN = /^[^*?[\]()\\+@!|]*$/;

/** For one brace alternative: its braces were expanded already (an escaped `\{` stays literal). */
const ROW_OPTIONS: MinimatchOptions = { ...OPTIONS, nobrace: true };
