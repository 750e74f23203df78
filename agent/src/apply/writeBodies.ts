import {
  Annotation,
  isJsonObject,
  type JsonObject,
  type KubeObject,
  keepLiveValues,
} from '@kuberelay/shared';
import type { ReceivedCopy } from './receivedCopy.js';

/**
 * The bodies the agent sends. Pure. Both carry the copy exactly plus `kuberelay.dev/copy-hash`,
 * and never a status of ours.
 */

type MetadataMap = 'labels' | 'annotations';
const METADATA_MAPS: readonly MetadataMap[] = ['labels', 'annotations'];

/** The body of a create: the copy, without status, stamped with its hash. */
export function creationBody(copy: ReceivedCopy): KubeObject {
  const { status: _status, ...rest } = copy.object;
  return { ...rest, metadata: stampedMetadata(copy) } as KubeObject;
}

/**
 * The body of a full replace (PUT) of `live` with the copy, pinned to the live resourceVersion.
 *
 * - `status` is live's, untouched: for a kind with a status subresource the API server ignores
 *   it anyway; for one without (Gloo's Upstream, RouteOption, ...: their controllers write status
 *   through the main resource) leaving it out would wipe what the data plane reported.
 * - finalizers and ownerReferences are live's: the relay never sets them, and removing another
 *   controller's finalizer would break its clean-up.
 * - labels and annotations are the copy's, plus those another manager set on the copy that the
 *   copy does not have (managedFields tell): findDrift never calls them drift, so a replace made
 *   for another reason must not remove them either. Those the agent set and the source no longer
 *   has are owned by the agent, so they go.
 * - fields the source's `kuberelay.dev/ignore-fields` names are live's (keepLiveValues).
 * - managedFields: another manager's entry on the main resource is cut down to its `f:status`
 *   part and the kept labels and annotations (or dropped when nothing is left). After a full replace what they set elsewhere is gone, and
 *   defaults the server re-applies must not stay attributed to them (findDrift would take those
 *   for added fields, forever); who wrote the status stays recorded. Entries of subresources are
 *   kept as they are. Sent only when something changes in them (an absent list keeps live's).
 */
export function replacementBody(copy: ReceivedCopy, live: KubeObject, fieldManager: string): KubeObject {
  const { status: _status, ...rest } = copy.object;
  const stamped = stampedMetadata(copy);
  const kept = keptForeignKeys(copy.object, live, fieldManager);
  const metadata: Record<string, unknown> = { ...stamped, resourceVersion: live.metadata.resourceVersion };
  for (const field of METADATA_MAPS) {
    if (kept[field].length === 0) continue;
    const liveMap = live.metadata[field] ?? {};
    metadata[field] = {
      ...Object.fromEntries(kept[field].map((key) => [key, liveMap[key]])),
      ...stamped[field],
    };
  }
  for (const field of ['finalizers', 'ownerReferences'] as const) {
    if (live.metadata[field] !== undefined) metadata[field] = live.metadata[field];
  }
  const managedFields = keptManagedFields(live, fieldManager, copy.object.apiVersion, kept);
  if (managedFields !== undefined) metadata.managedFields = managedFields;
  const body: Record<string, unknown> = { ...rest, metadata };
  if (live.status !== undefined) body.status = live.status;
  return (copy.ignored.length === 0 ? body : keepLiveValues(body, live, copy.ignored)) as KubeObject;
}

function stampedMetadata(copy: ReceivedCopy): KubeObject['metadata'] {
  const { metadata } = copy.object;
  return { ...metadata, annotations: { ...metadata.annotations, [Annotation.CopyHash]: copy.hash } };
}

/** Label and annotation keys of live that only other managers own and the copy does not set. */
function keptForeignKeys(
  desired: KubeObject,
  live: KubeObject,
  fieldManager: string,
): Record<MetadataMap, readonly string[]> {
  const result: Record<MetadataMap, string[]> = { labels: [], annotations: [] };
  const owned = (entry: unknown, field: MetadataMap, key: string): boolean => {
    const fields = isJsonObject(entry) ? entry.fieldsV1 : undefined;
    const metadata = isJsonObject(fields) ? fields['f:metadata'] : undefined;
    const map = isJsonObject(metadata) ? metadata[`f:${field}`] : undefined;
    return isJsonObject(map) && `f:${key}` in map;
  };
  const managed = managedFieldsOf(live);
  for (const field of METADATA_MAPS) {
    for (const key of Object.keys(live.metadata[field] ?? {})) {
      if (desired.metadata[field]?.[key] !== undefined || key === Annotation.CopyHash) continue;
      const foreign = managed.some((e) => isForeignMainEntry(e, fieldManager) && owned(e, field, key));
      const ours = managed.some((e) => isJsonObject(e) && e.manager === fieldManager && owned(e, field, key));
      if (foreign && !ours) result[field].push(key);
    }
  }
  return result;
}

function keptManagedFields(
  live: KubeObject,
  fieldManager: string,
  apiVersion: string,
  keptKeys: Record<MetadataMap, readonly string[]>,
): unknown[] | undefined {
  let changed = false;
  const kept: unknown[] = [];
  for (const entry of managedFieldsOf(live)) {
    if (!isForeignMainEntry(entry, fieldManager)) {
      kept.push(entry);
      continue;
    }
    changed = true;
    const fieldsV1 = keptOwnership(entry.fieldsV1, keptKeys);
    if (fieldsV1 !== undefined) kept.push({ ...entry, fieldsV1 });
  }
  if (!changed) return undefined;
  // An empty list would mean "keep what is live"; claim the ownership marker instead.
  const ownEntry = kept.some((e) => isJsonObject(e) && e.manager === fieldManager);
  return ownEntry ? kept : [...kept, ownershipMarker(fieldManager, apiVersion)];
}

/** What of a foreign entry's FieldsV1 survives a replace: its status, and the kept metadata keys. */
function keptOwnership(
  fields: unknown,
  keptKeys: Record<MetadataMap, readonly string[]>,
): JsonObject | undefined {
  if (!isJsonObject(fields)) return undefined;
  const out: Record<string, unknown> = {};
  if (isJsonObject(fields['f:status'])) out['f:status'] = fields['f:status'];
  const metadata = isJsonObject(fields['f:metadata']) ? fields['f:metadata'] : {};
  const keptMetadata: Record<string, unknown> = {};
  for (const field of METADATA_MAPS) {
    const map = metadata[`f:${field}`];
    if (!isJsonObject(map)) continue;
    const keys = keptKeys[field]
      .filter((key) => `f:${key}` in map)
      .map((key) => [`f:${key}`, map[`f:${key}`]]);
    if (keys.length > 0) keptMetadata[`f:${field}`] = Object.fromEntries(keys);
  }
  if (Object.keys(keptMetadata).length > 0) out['f:metadata'] = keptMetadata;
  return Object.keys(out).length === 0 ? undefined : out;
}

function managedFieldsOf(live: KubeObject): readonly unknown[] {
  return Array.isArray(live.metadata.managedFields) ? (live.metadata.managedFields as unknown[]) : [];
}

function isForeignMainEntry(entry: unknown, fieldManager: string): entry is JsonObject {
  return (
    isJsonObject(entry) &&
    entry.manager !== fieldManager &&
    (typeof entry.subresource !== 'string' || entry.subresource === '')
  );
}

function ownershipMarker(manager: string, apiVersion: string): Record<string, unknown> {
  return {
    manager,
    operation: 'Update',
    apiVersion,
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:gloo.solo.io/distributed-source': {} } } },
  };
}
