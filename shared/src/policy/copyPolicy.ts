import type { KubeObject } from '../copy/kubeObject.js';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { Annotation } from '../source/annotations.js';
import { compareStrings } from '../util/compare.js';
import { type FieldPath, formatFieldPath, parseFieldPath } from './fieldPath.js';

// What a source tells the agent about how to treat its copies, besides the copy itself
// (docs/spec.md §10): paused, drift mode, ignored fields. It travels beside the manifest
// (proto Copy.policy), never inside it: pausing a source must not change, hence rewrite, its copies.

export const DriftMode = {
  /** Drift is reverted at once (the default, and the only mode before per-source policy (§10)). */
  Enforce: 'enforce',
  /** Drift is found and reported (outcome Drifted, with the fields), never reverted. */
  Report: 'report',
} as const;
export type DriftMode = (typeof DriftMode)[keyof typeof DriftMode];

export interface CopyPolicy {
  /** Frozen: the agent writes nothing for the copy (no create, update, repair) and prunes nothing. */
  readonly paused: boolean;
  readonly drift: DriftMode;
  /** Normalised field paths (formatFieldPath), sorted, without duplicates. */
  readonly ignoreFields: readonly string[];
  /**
   * Why a paused copy is paused when the source itself is not: a rollout wave that has not reached
   * its cluster yet (docs/spec.md D10.5). '' otherwise.
   */
  readonly holdReason: string;
}

export const DEFAULT_POLICY: CopyPolicy = Object.freeze({
  paused: false,
  drift: DriftMode.Enforce,
  ignoreFields: Object.freeze([]),
  holdReason: '',
});

/** Bounds of `kuberelay.dev/ignore-fields`, checked before anything is parsed. */
export const IGNORE_FIELDS_LIMITS = { characters: 8_192, paths: 64 } as const;

/**
 * The policy as one line: empty for the default policy, so copies of sources that use none of
 * these annotations digest exactly as before per-source policy (§10) (older agents keep agreeing with the server).
 * Part of the state digest and of "did this copy change" everywhere.
 */
export function policyToken(policy: CopyPolicy): string {
  const parts: string[] = [];
  if (policy.paused) parts.push('paused');
  if (policy.drift !== DriftMode.Enforce) parts.push(`drift=${policy.drift}`);
  if (policy.ignoreFields.length > 0) parts.push(`ignore=${JSON.stringify(policy.ignoreFields)}`);
  if (policy.holdReason !== '') parts.push(`hold=${JSON.stringify(policy.holdReason)}`);
  return parts.join(';');
}

export const samePolicy = (a: CopyPolicy, b: CopyPolicy): boolean =>
  a === b || policyToken(a) === policyToken(b);

export const isDefaultPolicy = (policy: CopyPolicy): boolean => policyToken(policy) === '';

/**
 * policy.ignoreFields parsed, for the readers that match paths (relayctl plan and explain). A
 * policy from sourcePolicy holds only paths that parse; one that does not is left out here (the
 * agent, which must not guess, refuses such a copy instead).
 */
export function ignoredFieldPaths(policy: CopyPolicy): FieldPath[] {
  return policy.ignoreFields.flatMap((text) => {
    const parsed = parseFieldPath(text);
    return parsed.ok ? [parsed.value] : [];
  });
}

/** A policy built from parts, normalised; the default object when it is the default. */
export function copyPolicy(parts: Partial<CopyPolicy>): CopyPolicy {
  const policy: CopyPolicy = {
    paused: parts.paused ?? false,
    drift: parts.drift ?? DriftMode.Enforce,
    ignoreFields: Object.freeze([...new Set(parts.ignoreFields ?? [])].sort(compareStrings)),
    holdReason: parts.holdReason ?? '',
  };
  return isDefaultPolicy(policy) ? DEFAULT_POLICY : Object.freeze(policy);
}

/**
 * The policy a source's annotations ask for, and every problem with them. A source with a
 * problem is not distributed as asked (the engine keeps its copies as they are, like a bad
 * distribute-to): guessing could revert what a controller owns, or unfreeze what was paused.
 */
export function sourcePolicy(source: KubeObject): { policy: CopyPolicy; errors: RelayError[] } {
  const annotations = source.metadata.annotations ?? {};
  const errors: RelayError[] = [];
  const paused = readChoice(annotations[Annotation.Paused], Annotation.Paused, ['true', 'false'], errors);
  const drift = readChoice(annotations[Annotation.Drift], Annotation.Drift, Object.values(DriftMode), errors);
  const ignoreFields = readIgnoreFields(annotations[Annotation.IgnoreFields], errors);
  const policy = copyPolicy({
    paused: paused === 'true',
    drift: (drift as DriftMode | undefined) ?? DriftMode.Enforce,
    ignoreFields,
  });
  return { policy, errors };
}

function readChoice(
  value: string | undefined,
  annotation: string,
  choices: readonly string[],
  errors: RelayError[],
): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (choices.includes(trimmed)) return trimmed;
  errors.push(
    invalid(
      `${annotation} ${JSON.stringify(value.slice(0, 64))} is not one of ${choices.map((c) => `"${c}"`).join(', ')}`,
      annotation,
    ),
  );
  return undefined;
}

/** Paths separated by commas or new lines (a YAML block holds one per line), or a JSON array. */
function readIgnoreFields(value: string | undefined, errors: RelayError[]): string[] {
  if (value === undefined) return [];
  const annotation = Annotation.IgnoreFields;
  if (value.length > IGNORE_FIELDS_LIMITS.characters) {
    errors.push(
      invalid(`${annotation} is longer than ${IGNORE_FIELDS_LIMITS.characters} characters`, annotation),
    );
    return [];
  }
  const items = splitPaths(value);
  if (items === undefined) {
    errors.push(invalid(`${annotation} is not a JSON array of strings`, annotation));
    return [];
  }
  if (items.length > IGNORE_FIELDS_LIMITS.paths) {
    errors.push(invalid(`${annotation} lists more than ${IGNORE_FIELDS_LIMITS.paths} paths`, annotation));
    return [];
  }
  const paths: string[] = [];
  for (const item of items) {
    const parsed = parseFieldPath(item);
    if (parsed.ok) paths.push(formatFieldPath(parsed.value));
    else
      for (const error of parsed.errors) errors.push(invalid(`${annotation}: ${error.message}`, annotation));
  }
  return paths;
}

/** The items of the annotation; undefined when it starts like a JSON array but is not one (a
 * path itself always starts with a field name, never with "["). */
function splitPaths(value: string): string[] | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) {
        return parsed.map((item) => item.trim()).filter((item) => item !== '');
      }
    } catch {
      // Reported by the caller.
    }
    return undefined;
  }
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && depth > 0) quote = c;
    else if (c === '[') depth += 1;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if ((c === ',' || c === '\n') && depth === 0) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

const invalid = (message: string, annotation: string): RelayError =>
  new RelayError({ code: ErrorCode.InvalidAnnotation, message, details: { annotation } });
