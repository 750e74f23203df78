import { Minimatch, type MinimatchOptions } from 'minimatch';

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
};

/** Compiles a pattern that already passed `globProblem`. Throws what minimatch throws (e.g. a
 * pattern over its length limit); callers turn that into a per-entry error. */
export function compileClusterPattern(pattern: string): ClusterMatcher {
  const glob = new Minimatch(pattern, OPTIONS);
  const literals: string[] = [];
  let literalOnly = glob.set.length > 0;
  for (const row of glob.set) {
    const [only] = row;
    if (row.length === 1 && typeof only === 'string') {
      // `{,qa}` has an empty alternative: it matches no cluster and is not worth reporting.
      if (only !== '') {
        literals.push(only);
      }
    } else {
      literalOnly = false;
    }
  }
  const unique = [...new Set(literals)];
  const names = new Set(unique);
  return Object.freeze({
    pattern,
    literals: Object.freeze(unique),
    literalOnly,
    matches: literalOnly ? (cluster: string) => names.has(cluster) : (cluster: string) => glob.match(cluster),
  });
}
