import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';
import { Annotation, Label } from '../source/annotations.js';

// The field paths of `kuberelay.dev/ignore-fields` (docs/spec.md D10.3): the same notation the
// agent uses when it reports drift (`spec.static.hosts[0].port`, `metadata.labels["team"]`), so a
// path read off a `Drifted` result can be pasted into the annotation as it is.

/** One step of a field path: a field, a list index, or `[*]`, every index of a list. */
export type FieldStep = string | number | typeof ANY_INDEX;

/** `[*]`: every element of a list. */
export const ANY_INDEX: unique symbol = Symbol('[*]');

export type FieldPath = readonly FieldStep[];

/** Bounds of one path, checked while it is read: a path is typed by people, never generated. */
export const FIELD_PATH_LIMITS = { characters: 512, steps: 32 } as const;

/** Top-level fields an ignored path may not start with, and why. */
const REFUSED_ROOTS: Readonly<Record<string, string>> = {
  apiVersion: 'the kind of a copy is its source’s',
  kind: 'the kind of a copy is its source’s',
  status: 'status is never compared or written by the relay',
};

/** The only metadata an ignored path may name: the maps other controllers legitimately write. */
const METADATA_MAPS = new Set(['labels', 'annotations']);

/** Labels and annotations that make a copy the relay's: ignoring them would break ownership. */
const RELAY_KEYS = new Set<string>([
  Annotation.DistributedSource,
  Annotation.CopyHash,
  Label.RelayCluster,
  Label.ManagedBy,
]);

/**
 * Reads one path: `spec.replicas`, `.spec.replicas` or `$.spec.replicas` (JSONPath's leading
 * `$`/`.` is accepted and means nothing more), `spec.hosts[0]`, `spec.hosts[*].weight`,
 * `metadata.annotations["example.com/owner"]`. Field names outside brackets are letters, digits,
 * `_` and `-`; anything else is written `["..."]`.
 */
export function parseFieldPath(text: string): Result<FieldPath> {
  if (text.length > FIELD_PATH_LIMITS.characters) {
    return refuse(text, `is longer than ${FIELD_PATH_LIMITS.characters} characters`);
  }
  const steps: FieldStep[] = [];
  let i = text.startsWith('$') ? 1 : 0;
  let expectName = true;
  if (text[i] === '.') i += 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '[') {
      const step = readBracket(text, i);
      if (!step.ok) return step;
      steps.push(step.value.step);
      i = step.value.end;
      expectName = false;
    } else if (c === '.' && !expectName) {
      i += 1;
      expectName = true;
      if (i >= text.length) return refuse(text, 'ends with "."');
    } else if (expectName && c !== undefined && NAME_CHAR.test(c)) {
      let end = i;
      while (end < text.length && NAME_CHAR.test(text[end] ?? '')) end += 1;
      steps.push(text.slice(i, end));
      i = end;
      expectName = false;
    } else {
      return refuse(text, `has an unexpected ${JSON.stringify(c)} at character ${i + 1}`);
    }
    if (steps.length > FIELD_PATH_LIMITS.steps) {
      return refuse(text, `has more than ${FIELD_PATH_LIMITS.steps} steps`);
    }
  }
  return checkRoot(text, steps);
}

const NAME_CHAR = /[A-Za-z0-9_-]/;

function readBracket(text: string, start: number): Result<{ step: FieldStep; end: number }> {
  const close = (end: number, step: FieldStep): Result<{ step: FieldStep; end: number }> => ok({ step, end });
  const quote = text[start + 1];
  if (quote === '"' || quote === "'") {
    // A quoted key: JSON string rules for "..." (escapes), none for '...'.
    let j = start + 2;
    while (j < text.length && text[j] !== quote) j += text[j] === '\\' && quote === '"' ? 2 : 1;
    if (text[j + 1] !== ']') return refuse(text, `has an unclosed [${quote} at character ${start + 1}`);
    const raw = text.slice(start + 1, j + 1);
    let key: string;
    try {
      key = quote === '"' ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    } catch {
      return refuse(text, `has a badly escaped key ${raw}`);
    }
    if (key === '') return refuse(text, 'has an empty key [""]');
    return close(j + 2, key);
  }
  const end = text.indexOf(']', start);
  if (end < 0) return refuse(text, `has an unclosed [ at character ${start + 1}`);
  const inner = text.slice(start + 1, end);
  if (inner === '*') return close(end + 1, ANY_INDEX);
  if (/^(0|[1-9][0-9]{0,5})$/.test(inner)) return close(end + 1, Number(inner));
  return refuse(text, `has [${inner}], which is neither an index, [*] nor a quoted key`);
}

function checkRoot(text: string, steps: FieldStep[]): Result<FieldPath> {
  const [root, second] = steps;
  if (typeof root !== 'string') return refuse(text, 'must start with a field name (spec, metadata, ...)');
  const why = REFUSED_ROOTS[root];
  if (why !== undefined) return refuse(text, `names ${root}: ${why}`);
  if (root === 'metadata') {
    if (typeof second !== 'string' || !METADATA_MAPS.has(second)) {
      return refuse(text, 'names metadata other than labels or annotations, which the relay owns');
    }
    const key = steps[2];
    if (typeof key !== 'string' || steps.length > 3) {
      return refuse(text, `must name one key of metadata.${second} (metadata.${second}["example.com/key"])`);
    }
    if (RELAY_KEYS.has(key)) return refuse(text, `names ${key}, which the relay sets on every copy`);
  }
  return ok(Object.freeze(steps));
}

/** How a path is shown: the notation it was read in, normalised (`$.` and `.` dropped). */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((step, i) => {
      if (step === ANY_INDEX) return '[*]';
      if (typeof step === 'number') return `[${step}]`;
      if (!/^[A-Za-z0-9_-]+$/.test(step)) return `[${JSON.stringify(step)}]`;
      return i === 0 ? step : `.${step}`;
    })
    .join('');
}

/**
 * Whether `location` (a concrete path into an object) is at or under one of `ignored`. A location
 * above an ignored path is not: a map holding an ignored field is still compared, but for that field.
 */
export function isIgnored(location: readonly (string | number)[], ignored: readonly FieldPath[]): boolean {
  return ignored.some(
    (path) =>
      path.length <= location.length &&
      path.every((step, i) => (step === ANY_INDEX ? typeof location[i] === 'number' : step === location[i])),
  );
}

function refuse<T>(text: string, reason: string): Result<T> {
  return err(
    new RelayError({
      code: ErrorCode.InvalidAnnotation,
      message: `field path ${JSON.stringify(text)} ${reason}`,
      details: { path: text },
    }),
  );
}
