import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { type Result, resultFrom } from '../errors/result.js';
import { dnsLabelProblem } from '../names/kubeNames.js';
import { type ClusterMatcher, compileClusterPattern } from './clusterMatcher.js';
import { globProblem, splitEntries } from './globSyntax.js';
import {
  countExpansions,
  DistributeToLimits,
  entryCountProblem,
  patternLimitProblem,
  valueLimitProblem,
} from './valueLimits.js';

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
  const key = `${options.clusterScoped ? 'c' : 'n'}${value}`;
  const cached = parsedValues.get(key);
  if (cached !== undefined) {
    // Refreshed as most recently used: the live sources' values stay, old edits age out.
    parsedValues.delete(key);
    parsedValues.set(key, cached);
    return cached;
  }
  const parsed = parseUncached(value, options);
  parsedValues.set(key, parsed);
  cachedChars += key.length;
  for (const [oldKey] of parsedValues) {
    if (parsedValues.size <= CACHE_ENTRIES && cachedChars <= CACHE_CHARS) {
      break;
    }
    parsedValues.delete(oldKey);
    cachedChars -= oldKey.length;
  }
  return parsed;
}

/**
 * Parses are memoized by value (docs/spec.md D2.10): the server recomputes the desired state on
 * every change, and a source's annotation rarely changes, so each value is parsed and compiled
 * once, not once per recompute. Results are immutable, so sharing them is safe. Bounded in
 * entries and characters; least recently used values go first.
 */
const parsedValues = new Map<string, Result<DistributeTo>>();
let cachedChars = 0;
const CACHE_ENTRIES = 4096;
const CACHE_CHARS = 4 * 1024 * 1024;

function parseUncached(value: string, options: ParseDistributeToOptions): Result<DistributeTo> {
  const tooLong = valueLimitProblem(value);
  if (tooLong !== undefined) {
    return resultFrom([overLimit(value, tooLong)], () => EMPTY);
  }
  const entries = splitEntries(value)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const tooMany = entryCountProblem(entries.length);
  if (tooMany !== undefined) {
    return resultFrom([overLimit(value, tooMany)], () => EMPTY);
  }
  const includes: DistributeToInclude[] = [];
  const excludes: ClusterMatcher[] = [];
  const errors: RelayError[] = [];
  const budget: Budget = {
    expansions: DistributeToLimits.expansions,
    wildcards: DistributeToLimits.wildcardPatterns,
    exceeded: false,
  };
  for (const entry of entries) {
    if (budget.exceeded) {
      break; // over a limit: that error is enough, and the rest is not worth compiling
    }
    const parsed = parseEntry(entry, options, budget);
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

const EMPTY: DistributeTo = Object.freeze({ includes: Object.freeze([]), excludes: Object.freeze([]) });

/** What is left of the value's DistributeToLimits as its entries are compiled, in order. */
interface Budget {
  expansions: number;
  wildcards: number;
  /** A limit was passed: that one error is reported and the rest is not compiled. */
  exceeded: boolean;
}

interface ParsedEntry {
  readonly exclude: boolean;
  readonly matcher: ClusterMatcher | undefined;
  readonly namespace: string | undefined;
  readonly errors: readonly RelayError[];
}

function parseEntry(entry: string, options: ParseDistributeToOptions, budget: Budget): ParsedEntry {
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
  // Counted before compiling, so a bomb is refused at the cost of reading it, not expanding it.
  const expansions = countExpansions(pattern);
  if (expansions > budget.expansions) {
    budget.exceeded = true;
    return failed(exclude, [invalid(entry, expansionProblem(pattern))]);
  }
  try {
    const matcher = compileClusterPattern(pattern);
    budget.expansions -= matcher.expansions;
    budget.wildcards -= matcher.wildcards;
    if (budget.wildcards < 0) {
      budget.exceeded = true;
      return failed(exclude, [invalid(entry, wildcardProblem(pattern))]);
    }
    return { exclude, matcher, namespace, errors: [] };
  } catch (cause) {
    return failed(exclude, [invalid(entry, `cluster pattern "${pattern}" is not a valid glob`, cause)]);
  }
}

function patternErrors(entry: string, pattern: string, exclude: boolean): RelayError[] {
  if (exclude && pattern.startsWith('!')) {
    return [invalid(entry, 'more than one leading "!" (an exclusion takes exactly one)')];
  }
  const problem = globProblem(pattern) ?? patternLimitProblem(pattern);
  return problem === undefined ? [] : [invalid(entry, `cluster pattern "${preview(pattern)}" ${problem}`)];
}

function expansionProblem(pattern: string): string {
  return `cluster pattern "${preview(pattern)}" and the entries before it expand to more than ${DistributeToLimits.expansions} patterns; list fewer alternatives or use a wildcard such as "prod-*"`;
}

function wildcardProblem(pattern: string): string {
  return `cluster pattern "${preview(pattern)}" and the entries before it hold more than ${DistributeToLimits.wildcardPatterns} wildcard patterns; merge them into fewer globs`;
}

/** An over-long pattern is named by its start and length, so the error stays readable. */
function preview(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 60)}… (${text.length} characters)`;
}

function overLimit(value: string, reason: string): RelayError {
  return new RelayError({
    code: ErrorCode.InvalidAnnotation,
    message: `distribute-to value "${preview(value)}": ${reason}`,
    details: { entry: preview(value) },
  });
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
    message: `distribute-to entry "${preview(entry)}": ${reason}`,
    details: { entry: preview(entry) },
    cause,
  });
}
