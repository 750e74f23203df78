import {
  canonicalJson,
  type FieldPath,
  formatPath,
  isIgnored,
  isJsonObject,
  type JsonObject,
  type KubeObject,
  type PathSegment,
} from '@kuberelay/shared';

/** Why a live object differs from its copy. */
export const DriftReason = {
  /** A field, label or annotation the copy sets is absent in live. */
  Missing: 'Missing',
  /** A field the copy sets has another value in live. */
  Changed: 'Changed',
  /** A spec field the copy does not set is owned by another field manager: someone added it. */
  AddedByOther: 'AddedByOther',
} as const;
export type DriftReason = (typeof DriftReason)[keyof typeof DriftReason];

export interface Drift {
  /** `spec.static.hosts[0].port`, `metadata.labels["relay.solo.io/cluster"]`. */
  readonly path: string;
  readonly reason: DriftReason;
}

export interface FindDriftOptions {
  /** Our field manager; managedFields entries of every other manager are "foreign". */
  readonly fieldManager: string;
  /** The source's `kuberelay.dev/ignore-fields`: nothing at or under these paths is drift. */
  readonly ignored?: readonly FieldPath[] | undefined;
}

/** Top-level fields the drift check never compares: identity, metadata (handled apart), status. */
const SKIPPED_TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * Differences between a copy and the live object that the agent must revert (docs/design.md,
 * "Agent write strategy"). Pure.
 *
 * - `live ⊇ desired`: every label, annotation and field the copy sets must be present and equal
 *   in live. Extra fields in live objects are allowed (server defaults); arrays must have the same
 *   length (an appended list entry changes behaviour), their elements are compared the same way.
 * - A field under `spec` that the copy does not set and that a foreign field manager owns
 *   (managedFields, main resource only) was added by someone: drift. Defaults the server filled in
 *   are owned by whoever wrote the object (us, once we have written it), so they are not drift.
 * - status is never compared.
 *
 * Empty result: nothing to do (the steady state, in which the agent must not write).
 */
export function findDrift(
  desired: KubeObject,
  live: KubeObject,
  options: FindDriftOptions,
): readonly Drift[] {
  const found: Found[] = [];
  compareStringMap(desired.metadata.labels, live.metadata.labels, 'labels', found);
  compareStringMap(desired.metadata.annotations, live.metadata.annotations, 'annotations', found);
  for (const [field, value] of Object.entries(desired)) {
    if (!SKIPPED_TOP_LEVEL.has(field)) {
      compareSubset(value, live[field], [field], found);
    }
  }
  for (const entry of foreignEntries(live, options.fieldManager)) {
    const spec = entry['f:spec'];
    if (isJsonObject(spec)) {
      findAddedFields(spec, desired.spec, ['spec'], found);
    }
  }
  // Ignored paths are filtered at the end, not pruned from the walk: a list whose length differs
  // is one drift at the list, which an ignored path inside one element must not hide.
  const ignored = options.ignored ?? [];
  const kept = ignored.length === 0 ? found : found.filter((f) => !isIgnored(f.at, ignored));
  return dedupe(kept.map(({ path, reason }) => ({ path: formatPath(path), reason })));
}

/** A stable text of a drift list, to recognise "the same difference again" (write-loop breaker). */
export function driftSignature(drifts: readonly Drift[]): string {
  return drifts
    .map((d) => `${d.reason} ${d.path}`)
    .sort()
    .join('\n');
}

/** A drift while the walk goes on: its path still as segments, to match ignored paths against. */
interface Found {
  readonly path: readonly PathSegment[];
  /** The concrete location: path, with a metadata map key as its own segment. */
  readonly at: readonly PathSegment[];
  readonly reason: DriftReason;
}

const found = (path: PathSegment[], reason: DriftReason): Found => ({ path, at: path, reason });

function compareStringMap(
  desired: Readonly<Record<string, string>> | undefined,
  live: Readonly<Record<string, string>> | undefined,
  field: 'labels' | 'annotations',
  out: Found[],
): void {
  for (const [key, value] of Object.entries(desired ?? {})) {
    const actual = live?.[key];
    if (actual !== value) {
      out.push({
        // Shown as `metadata.labels["key"]`: a key holds dots and slashes.
        path: [`metadata.${field}[${JSON.stringify(key)}]`],
        at: ['metadata', field, key],
        reason: actual === undefined ? DriftReason.Missing : DriftReason.Changed,
      });
    }
  }
}

function compareSubset(desired: unknown, live: unknown, path: PathSegment[], out: Found[]): void {
  // A null the copy sets means "unset" to the API server, which drops it on write.
  if (desired === null || desired === undefined) return;
  if (live === undefined || live === null) {
    out.push(found(path, DriftReason.Missing));
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) {
      out.push(found(path, DriftReason.Changed));
      return;
    }
    desired.forEach((item: unknown, i) => {
      compareSubset(item, live[i], [...path, i], out);
    });
    return;
  }
  if (isJsonObject(desired)) {
    if (!isJsonObject(live)) {
      out.push(found(path, DriftReason.Changed));
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      compareSubset(value, live[key], [...path, key], out);
    }
    return;
  }
  if (desired !== live) {
    out.push(found(path, DriftReason.Changed));
  }
}

/** managedFields entries of other managers on the main resource (status writers are fine). */
function foreignEntries(live: KubeObject, fieldManager: string): JsonObject[] {
  const managed = live.metadata.managedFields;
  if (!Array.isArray(managed)) return [];
  const entries: JsonObject[] = [];
  for (const entry of managed as unknown[]) {
    if (!isJsonObject(entry) || entry.manager === fieldManager) continue;
    if (typeof entry.subresource === 'string' && entry.subresource !== '') continue;
    if (entry.fieldsType !== 'FieldsV1' || !isJsonObject(entry.fieldsV1)) continue;
    entries.push(entry.fieldsV1);
  }
  return entries;
}

/**
 * Walks a FieldsV1 set (`f:<field>`, `k:<list-map key>`, `v:<set value>`, `i:<index>`, `.` for the
 * node itself) alongside the copy, reporting owned fields the copy does not set. A field the copy
 * sets, whatever its live value, is not reported here: compareSubset judges values.
 */
function findAddedFields(fields: JsonObject, desired: unknown, path: PathSegment[], out: Found[]): void {
  for (const [token, sub] of Object.entries(fields)) {
    if (token === '.') continue;
    const step = resolveStep(token, desired);
    if (step === undefined) continue; // an unknown token: never guess drift from it
    if (step.child === undefined) {
      out.push(found([...path, step.segment], DriftReason.AddedByOther));
    } else if (isJsonObject(sub)) {
      findAddedFields(sub, step.child, [...path, step.segment], out);
    }
  }
}

function resolveStep(token: string, desired: unknown): { segment: PathSegment; child: unknown } | undefined {
  const kind = token.slice(0, 2);
  const rest = token.slice(2);
  switch (kind) {
    case 'f:':
      return { segment: rest, child: isJsonObject(desired) ? desired[rest] : undefined };
    case 'i:': {
      const index = Number(rest);
      return { segment: index, child: Array.isArray(desired) ? (desired[index] as unknown) : undefined };
    }
    case 'k:':
    case 'v:': {
      const parsed = parseJson(rest);
      if (parsed === undefined) return undefined;
      const items: unknown[] = Array.isArray(desired) ? desired : [];
      const index = items.findIndex((item) =>
        kind === 'v:' ? canonicalJson(item) === canonicalJson(parsed.value) : matchesKey(item, parsed.value),
      );
      return {
        segment: index >= 0 ? index : token,
        child: index >= 0 ? (items[index] as unknown) : undefined,
      };
    }
    default:
      return undefined;
  }
}

function matchesKey(item: unknown, key: unknown): boolean {
  if (!isJsonObject(item) || !isJsonObject(key)) return false;
  return Object.entries(key).every(([field, value]) => canonicalJson(item[field]) === canonicalJson(value));
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function dedupe(drifts: readonly Drift[]): readonly Drift[] {
  const seen = new Set<string>();
  return drifts.filter((d) => {
    const id = `${d.reason} ${d.path}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
