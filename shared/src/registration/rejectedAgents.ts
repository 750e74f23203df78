import type { RejectedAgent } from './clusterStatus.js';

// The rejected-agents ConfigMap (REJECTED_AGENTS_CONFIGMAP): the server writes one key per claimed
// cluster name, each value a JSON RejectedAgent; relayctl check reads it. Both ends use this codec,
// so the format is defined once and a hand-edited value is caught the same way on both.

/** One key of the ConfigMap as read; `problem` when its value is not the expected JSON. */
export interface RejectedAgentRecord {
  /** The ConfigMap key: the claimed cluster name, made a valid key (see rejectedAgentKey). */
  readonly cluster: string;
  /** The fields that had the right type; a field of the wrong type is left out. */
  readonly entry: Partial<RejectedAgent>;
  readonly problem?: string;
}

/** A ConfigMap key for a claimed cluster name: keys allow `[-._a-zA-Z0-9]`, at most 253. */
export function rejectedAgentKey(claimed: string | undefined): string {
  const key = (claimed ?? '').replace(/[^-._a-zA-Z0-9]/g, '_').slice(0, 253);
  return key === '' || key === '.' || key === '..' ? '_unknown' : key;
}

/** Decodes the ConfigMap's data, checking every field's type (the values may be hand-edited). */
export function decodeRejectedAgents(
  data: Readonly<Record<string, string>> | undefined,
): RejectedAgentRecord[] {
  return Object.entries(data ?? {}).map(([cluster, value]) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return { cluster, entry: {}, problem: 'not valid JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { cluster, entry: {}, problem: 'not a JSON object' };
    }
    const o = parsed as Record<string, unknown>;
    const entry: Partial<{ -readonly [K in keyof RejectedAgent]: RejectedAgent[K] }> = {};
    for (const key of ['lastAttempt', 'reason', 'code', 'peer'] as const) {
      const field = o[key];
      if (typeof field === 'string') entry[key] = field;
    }
    if (typeof o.count === 'number' && Number.isSafeInteger(o.count) && o.count >= 0) entry.count = o.count;
    return { cluster, entry };
  });
}

/** The entry when every field is present with the right type, else undefined. */
export function completeRejectedAgent(record: RejectedAgentRecord): RejectedAgent | undefined {
  const { lastAttempt, reason, code, peer, count } = record.entry;
  if (record.problem !== undefined) return undefined;
  if (lastAttempt === undefined || reason === undefined || code === undefined || peer === undefined) {
    return undefined;
  }
  return count === undefined ? undefined : { lastAttempt, reason, code, peer, count };
}

/** The ConfigMap's data for `entries` (key → JSON). */
export function encodeRejectedAgents(entries: ReadonlyMap<string, RejectedAgent>): Record<string, string> {
  return Object.fromEntries(
    [...entries].map(([key, entry]) => [
      key,
      JSON.stringify({
        lastAttempt: entry.lastAttempt,
        reason: entry.reason,
        code: entry.code,
        peer: entry.peer,
        count: entry.count,
      }),
    ]),
  );
}
