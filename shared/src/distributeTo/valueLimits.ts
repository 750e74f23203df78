/**
 * Bounds on a distribute-to value (docs/spec.md D2.10). Anyone allowed to annotate a
 * distributable object can write one, and the server evaluates it on every recompute, so what a
 * value may cost is capped before any of it is compiled: a 100-character `{a,b}{a,b}…` expands
 * to 2^20 patterns, and a 5,000-deep `{{{…}}}` takes brace-expansion most of a second.
 *
 * The limits are far above any real fleet's needs (a value naming 1,000 clusters one by one is
 * ~12 KiB and 1,000 patterns), and each is reported with the limit and what to do instead.
 */
export const DistributeToLimits = Object.freeze({
  /** Characters in the whole value. */
  valueLength: 16 * 1024,
  /** Non-empty entries in one value. */
  entries: 1024,
  /** Characters in one entry's cluster pattern. */
  patternLength: 4096,
  /** `{` nesting depth in one pattern. */
  braceDepth: 8,
  /** Patterns the value's brace alternatives and ranges expand to, over all of its entries. */
  expansions: 1024,
  /** Expanded patterns with a wildcard, over all entries: each is matched against every
   * registered cluster, where a literal is a lookup. */
  wildcardPatterns: 64,
});

/** Why the whole value is over a limit before it is split, or undefined. */
export function valueLimitProblem(value: string): string | undefined {
  return value.length > DistributeToLimits.valueLength
    ? `the value is ${value.length} characters long; at most ${DistributeToLimits.valueLength} are allowed (use wildcards such as "prod-*" instead of listing clusters)`
    : undefined;
}

export function entryCountProblem(entries: number): string | undefined {
  return entries > DistributeToLimits.entries
    ? `the value has ${entries} entries; at most ${DistributeToLimits.entries} are allowed (use wildcards such as "prod-*" instead of listing clusters)`
    : undefined;
}

/** Why one pattern (no leading `!`, already well formed) is over a per-pattern limit. */
export function patternLimitProblem(pattern: string): string | undefined {
  if (pattern.length > DistributeToLimits.patternLength) {
    return `is ${pattern.length} characters long; at most ${DistributeToLimits.patternLength} are allowed`;
  }
  const depth = braceDepth(pattern);
  return depth > DistributeToLimits.braceDepth
    ? `nests "{" ${depth} deep; at most ${DistributeToLimits.braceDepth} levels are allowed`
    : undefined;
}

/**
 * How many patterns brace expansion makes of `pattern`, saturating just above `cap` so a bomb is
 * counted without being expanded. Follows brace-expansion's reading (the library minimatch uses):
 * the first balanced `{...}` is a list when it has a top-level comma, a range when it is
 * `{1..9}`, `{a..e}` or with a step, and literal text otherwise; what follows it multiplies.
 */
export function countExpansions(pattern: string, cap: number = DistributeToLimits.expansions): number {
  const open = indexOfUnescaped(pattern, '{', 0);
  const close = open < 0 ? -1 : matchingBrace(pattern, open);
  if (close < 0) {
    return 1;
  }
  const body = pattern.slice(open + 1, close);
  const alternatives = splitTopLevel(body);
  let here: number;
  if (alternatives.length > 1) {
    here = 0;
    for (const alternative of alternatives) {
      here = Math.min(cap + 1, here + countExpansions(alternative, cap));
    }
  } else {
    here = rangeSize(body) ?? countExpansions(body, cap);
  }
  return Math.min(cap + 1, here * countExpansions(pattern.slice(close + 1), cap));
}

function indexOfUnescaped(text: string, char: string, from: number): number {
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === '\\') {
      i += 1;
    } else if (text[i] === char) {
      return i;
    }
  }
  return -1;
}

/**
 * Walks `text` from `from`, honouring `\` escapes, and calls `visit` with each unescaped `{`, `}`
 * and `,` and the brace depth after it; stops at the first index `visit` returns true for.
 * Returns that index, or -1. The one reading of braces both helpers below share.
 */
function walkBraces(
  text: string,
  from: number,
  visit: (i: number, c: string, depth: number) => boolean,
): number {
  let depth = 0;
  for (let i = from; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (c === '{') depth += 1;
    else if (c === '}') depth -= 1;
    else if (c !== ',') continue;
    if (visit(i, c, depth)) return i;
  }
  return -1;
}

/** Index of the `}` closing the `{` at `open`, or -1. */
const matchingBrace = (text: string, open: number): number =>
  walkBraces(text, open, (_, c, depth) => c === '}' && depth === 0);

/** `body` split at its commas outside nested braces. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let start = 0;
  walkBraces(body, 0, (i, c, depth) => {
    if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
    return false;
  });
  parts.push(body.slice(start));
  return parts;
}

const NUMERIC_RANGE = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/;
const ALPHA_RANGE = /^([a-zA-Z])\.\.([a-zA-Z])(?:\.\.(-?\d+))?$/;

/** Members of a `{x..y[..step]}` range body, or undefined when `body` is not a range. */
function rangeSize(body: string): number | undefined {
  const numeric = NUMERIC_RANGE.exec(body);
  const alpha = numeric === null ? ALPHA_RANGE.exec(body) : null;
  const match = numeric ?? alpha;
  if (match === null) {
    return undefined;
  }
  const [, from = '', to = '', step] = match;
  const span =
    numeric === null ? Math.abs(from.charCodeAt(0) - to.charCodeAt(0)) : Math.abs(Number(from) - Number(to));
  const stride = Math.max(1, Math.abs(Number(step ?? 1)));
  return Math.floor(span / stride) + 1;
}

/** Deepest `{` nesting outside character classes, honouring `\` escapes. */
function braceDepth(pattern: string): number {
  let depth = 0;
  let deepest = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') {
      i += 1;
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
    } else if (c === '{') {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (c === '}' && depth > 0) {
      depth -= 1;
    }
  }
  return deepest;
}
