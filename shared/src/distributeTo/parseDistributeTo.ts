import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { type Result, resultFrom } from '../errors/result.js';
import { dnsLabelProblem } from '../names/kubeNames.js';
import { type ClusterMatcher, compileClusterPattern } from './clusterMatcher.js';
import { globProblem, splitEntries } from './globSyntax.js';

/** One selecting entry: clusters matching `matcher` get a copy in `namespace` (undefined: the
 * source's own namespace, or none for a cluster-scoped kind). */
export interface DistributeToInclude {
  readonly matcher: ClusterMatcher;
  readonly namespace: string | undefined;
}

/** A parsed `gloo.solo.io/distribute-to` value. Selection is
 * `union(includes) − union(excludes)`, whatever the order of the entries (docs/spec.md §2). */
export interface DistributeTo {
  readonly includes: readonly DistributeToInclude[];
  readonly excludes: readonly ClusterMatcher[];
}

export interface ParseDistributeToOptions {
  /** The source's kind is cluster-scoped (GatewayClass): a namespace part is an error. */
  readonly clusterScoped: boolean;
}

/**
 * Parses a distribute-to value (docs/spec.md §2). Never throws; a failure lists one error per problem, for
 * every bad entry, with the entry in `details.entry`.
 *
 * Decisions where the contract is silent (docs/spec.md §2, D2.x):
 * - Empty entries (`qa,,canary`, a trailing comma) are skipped, like the empty value: they select
 *   nothing and cannot mean anything else.
 * - Commas inside `{...}` or `[...]` belong to the glob: `{qa,canary}/edge` is one entry.
 * - White space is ignored only around entries. Inside one (`qa canary`, `qa / edge`) it is an
 *   error: it is most likely a missing comma, and guessing could send config to the wrong place.
 * - An exclusion takes no namespace (`!qa/edge` is an error): exclusions remove whole clusters.
 * - `!!qa` is an error rather than minimatch's double negation.
 * - Only exclusions (`!prod-*`) is valid and selects nothing, since nothing is included.
 * - A namespace must be a DNS-1123 label; an empty one (`qa/`) is an error.
 */
export function parseDistributeTo(value: string, options: ParseDistributeToOptions): Result<DistributeTo> {
  const includes: DistributeToInclude[] = [];
  const excludes: ClusterMatcher[] = [];
  const errors: RelayError[] = [];
  for (const rawEntry of splitEntries(value)) {
    const entry = rawEntry.trim();
    if (entry === '') {
      continue;
    }
    const parsed = parseEntry(entry, options);
    if (parsed.errors.length > 0) {
      errors.push(...parsed.errors);
    } else if (parsed.matcher !== undefined) {
      if (parsed.exclude) {
        excludes.push(parsed.matcher);
      } else {
        includes.push({ matcher: parsed.matcher, namespace: parsed.namespace });
      }
    }
  }
  return resultFrom(errors, () =>
    Object.freeze({ includes: Object.freeze(includes), excludes: Object.freeze(excludes) }),
  );
}

interface ParsedEntry {
  readonly exclude: boolean;
  readonly matcher: ClusterMatcher | undefined;
  readonly namespace: string | undefined;
  readonly errors: readonly RelayError[];
}

function parseEntry(entry: string, options: ParseDistributeToOptions): ParsedEntry {
  const exclude = entry.startsWith('!');
  const parts = (exclude ? entry.slice(1) : entry).split('/');
  if (parts.length > 2) {
    return failed(exclude, [invalid(entry, 'more than one "/" (expected cluster or cluster/namespace)')]);
  }
  const [pattern = '', namespace] = parts;
  const errors = [
    ...patternErrors(entry, pattern, exclude),
    ...namespaceErrors(entry, namespace, exclude, options),
  ];
  if (errors.length > 0) {
    return failed(exclude, errors);
  }
  try {
    return { exclude, matcher: compileClusterPattern(pattern), namespace, errors: [] };
  } catch (cause) {
    return failed(exclude, [invalid(entry, `cluster pattern "${pattern}" is not a valid glob`, cause)]);
  }
}

function patternErrors(entry: string, pattern: string, exclude: boolean): RelayError[] {
  if (exclude && pattern.startsWith('!')) {
    return [invalid(entry, 'more than one leading "!" (an exclusion takes exactly one)')];
  }
  const problem = globProblem(pattern);
  return problem === undefined ? [] : [invalid(entry, `cluster pattern "${pattern}" ${problem}`)];
}

function namespaceErrors(
  entry: string,
  namespace: string | undefined,
  exclude: boolean,
  options: ParseDistributeToOptions,
): RelayError[] {
  if (namespace === undefined) {
    return [];
  }
  if (exclude) {
    return [invalid(entry, 'an exclusion cannot have a namespace: it removes whole clusters')];
  }
  if (options.clusterScoped) {
    return [
      new RelayError({
        code: ErrorCode.NamespaceOnClusterScoped,
        message: `distribute-to entry "${entry}": the kind is cluster-scoped, so a namespace ("${namespace}") cannot be given`,
        details: { entry },
      }),
    ];
  }
  const problem = dnsLabelProblem(namespace);
  return problem === undefined
    ? []
    : [invalid(entry, `namespace "${namespace}" is not a valid namespace name: it ${problem}`)];
}

function failed(exclude: boolean, errors: readonly RelayError[]): ParsedEntry {
  return { exclude, matcher: undefined, namespace: undefined, errors };
}

function invalid(entry: string, reason: string, cause?: unknown): RelayError {
  return new RelayError({
    code: ErrorCode.InvalidAnnotation,
    message: `distribute-to entry "${entry}": ${reason}`,
    details: { entry },
    cause,
  });
}
