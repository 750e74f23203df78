import { isJsonObject, type JsonObject, type KubeObject } from '../copy/kubeObject.js';
import { contentHash, hashText } from '../desired/contentHash.js';
import { Annotation, KUBERELAY_PREFIX } from '../source/annotations.js';

// The revisions `relayctl rollout undo` goes back to (docs/spec.md D10.5): per source with a
// rollout, the last revision every wave applied (`stable`) and the one before it (`previous`),
// kept by the server in ConfigMap ROLLOUT_REVISIONS_CONFIGMAP of its namespace. Pure: what a
// revision's content is, how a record moves on, which revision undo restores, and how a source
// is put back to it.

export const ROLLOUT_REVISIONS_CONFIGMAP = 'kuberelay-rollout-revisions';

export const REVISION_LIMITS = Object.freeze({
  /** One record's JSON: a source larger than this is not kept (undo then says so). */
  recordBytes: 128 * 1024,
  /** Every record's JSON together: under the 1 MiB an object may have, with room to spare. */
  totalBytes: 768 * 1024,
});

/** What a revision is made of: what the copies carry, as rolloutRevision hashes it. */
export interface RevisionContent {
  /** Every top-level field but apiVersion, kind, metadata and status (the spec, mostly). */
  readonly fields: JsonObject;
  readonly labels: Readonly<Record<string, string>>;
  /** Without distribute-to and the kuberelay.dev/ annotations. */
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RecordedRevision {
  readonly revision: string;
  readonly content: RevisionContent;
  /** RFC 3339: when the server saw every wave apply it. */
  readonly at: string;
}

export interface RevisionRecord {
  /** objectKey of the source. */
  readonly source: string;
  readonly stable: RecordedRevision;
  readonly previous?: RecordedRevision;
}

export function revisionContent(source: KubeObject): RevisionContent {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata' && key !== 'status') fields[key] = value;
  }
  const annotations = Object.fromEntries(
    Object.entries(source.metadata.annotations ?? {}).filter(
      ([key]) => key !== Annotation.DistributeTo && !key.startsWith(KUBERELAY_PREFIX),
    ),
  );
  return { fields: fields as JsonObject, labels: { ...source.metadata.labels }, annotations };
}

/** The ConfigMap key of a source's record (keys allow only [-._a-zA-Z0-9]). */
export const revisionKey = (sourceKey: string): string => `r-${hashText(sourceKey).slice(0, 32)}`;

/** The record once `revision` was applied by every wave: it becomes stable, the last stable previous. */
export function recordComplete(
  record: RevisionRecord | undefined,
  sourceKey: string,
  complete: RecordedRevision,
): RevisionRecord {
  if (record?.stable.revision === complete.revision) return record;
  return {
    source: sourceKey,
    stable: complete,
    ...(record === undefined ? {} : { previous: record.stable }),
  };
}

/**
 * The revision undo restores for a source now at `current`: the last complete one while a newer
 * revision is rolling out (or halted), the one before it once the current one is complete.
 */
export function undoTarget(
  record: RevisionRecord | undefined,
  current: string,
): RecordedRevision | undefined {
  if (record === undefined) return undefined;
  return record.stable.revision === current ? record.previous : record.stable;
}

/**
 * `source` with the content of a recorded revision: its fields, labels and annotations, keeping
 * what selects and steers it (distribute-to and the kuberelay.dev/ annotations, but a resume,
 * which was about the revision being left).
 */
export function restoreRevision(source: KubeObject, content: RevisionContent): KubeObject {
  const kept = Object.fromEntries(
    Object.entries(source.metadata.annotations ?? {}).filter(
      ([key]) =>
        (key === Annotation.DistributeTo || key.startsWith(KUBERELAY_PREFIX)) &&
        key !== Annotation.RolloutResume,
    ),
  );
  const { apiVersion, kind, metadata } = source;
  return {
    ...content.fields,
    apiVersion,
    kind,
    metadata: {
      ...metadata,
      labels: { ...content.labels },
      annotations: { ...content.annotations, ...kept },
    },
  } as KubeObject;
}

/** The records a ConfigMap's data holds; a value that does not read as one is skipped. */
export function decodeRevisions(
  data: Readonly<Record<string, string>> | undefined,
): Map<string, RevisionRecord> {
  const out = new Map<string, RevisionRecord>();
  for (const [key, text] of Object.entries(data ?? {})) {
    const record = parseRecord(text);
    if (record !== undefined && revisionKey(record.source) === key) out.set(key, record);
  }
  return out;
}

/**
 * The data of the ConfigMap: each record as JSON, the oldest (by stable.at) left out first while
 * the whole is over REVISION_LIMITS.totalBytes; a record over recordBytes is never kept.
 */
export function encodeRevisions(records: ReadonlyMap<string, RevisionRecord>): Record<string, string> {
  const encoded = [...records]
    .map(([key, record]) => ({ key, text: JSON.stringify(record), at: record.stable.at }))
    .filter((e) => e.text.length <= REVISION_LIMITS.recordBytes)
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const data: Record<string, string> = {};
  let total = 0;
  for (const e of encoded) {
    if (total + e.text.length > REVISION_LIMITS.totalBytes) continue;
    total += e.text.length;
    data[e.key] = e.text;
  }
  return data;
}

/** Whether a source's content fits a record at all (the server says so in its log when not). */
export function fitsRecord(sourceKey: string, complete: RecordedRevision): boolean {
  return (
    JSON.stringify({ source: sourceKey, stable: complete, previous: complete }).length <=
    REVISION_LIMITS.recordBytes
  );
}

function parseRecord(text: string): RevisionRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isJsonObject(value) || typeof value.source !== 'string') return undefined;
    const stable = parseRevision(value.stable);
    if (stable === undefined) return undefined;
    const previous = value.previous === undefined ? undefined : parseRevision(value.previous);
    return { source: value.source, stable, ...(previous === undefined ? {} : { previous }) };
  } catch {
    return undefined;
  }
}

function parseRevision(value: unknown): RecordedRevision | undefined {
  if (!isJsonObject(value) || typeof value.revision !== 'string' || typeof value.at !== 'string')
    return undefined;
  const content = value.content;
  if (!isJsonObject(content) || !isJsonObject(content.fields)) return undefined;
  const labels = stringMap(content.labels);
  const annotations = stringMap(content.annotations);
  if (labels === undefined || annotations === undefined) return undefined;
  return { revision: value.revision, at: value.at, content: { fields: content.fields, labels, annotations } };
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isJsonObject(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([, v]) => typeof v === 'string') ? (value as Record<string, string>) : undefined;
}

/** A revision's id: the first 16 hex digits of its content's hash. */
export const revisionOf = (content: RevisionContent): string => contentHash(content).slice(0, 16);
