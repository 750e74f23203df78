import { compileClusterPattern, globProblem, splitEntries } from '@kuberelay/shared';

/** A filter over cluster names, or why the text typed is not one. */
export type ClusterFilter =
  | { readonly ok: true; readonly matches: (cluster: string) => boolean }
  | { readonly ok: false; readonly problem: string };

/** Longest filter text accepted: what a person types, not a whole annotation. */
const MAX_FILTER_LENGTH = 256;

/**
 * Parses the dashboard's name filter with the annotation's own glob syntax (the cluster half of
 * `gloo.solo.io/distribute-to`: `prod-*`, `{qa,canary}`, comma-separated alternatives), so what
 * selects clusters in a source selects them here too. Empty text matches every cluster.
 */
export function parseClusterFilter(text: string): ClusterFilter {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, matches: () => true };
  if (trimmed.length > MAX_FILTER_LENGTH) {
    return { ok: false, problem: `is longer than ${MAX_FILTER_LENGTH} characters` };
  }
  const matchers: ((cluster: string) => boolean)[] = [];
  for (const entry of splitEntries(trimmed).map((e) => e.trim())) {
    const problem = globProblem(entry);
    if (problem !== undefined) return { ok: false, problem: `"${entry}" ${problem}` };
    try {
      const matcher = compileClusterPattern(entry);
      matchers.push((cluster) => matcher.matches(cluster));
    } catch (error) {
      return { ok: false, problem: `"${entry}": ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { ok: true, matches: (cluster) => matchers.some((m) => m(cluster)) };
}
