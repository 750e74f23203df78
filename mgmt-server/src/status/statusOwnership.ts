import type { KubernetesClusterStatus } from '@kuberelay/shared';

// Who may write a KubernetesCluster's status when several server replicas run (docs/design.md
// "Status"). Only the holder of the agent's stream writes, but "the holder" is what each replica
// believes: after an agent moved (its old connection broke without a goodbye), the old replica
// keeps believing it holds the stream until its heartbeat timeout, and any status it writes
// meanwhile would replace the new holder's. The status names the process that wrote it and when
// its stream started, so a writer can tell a newer holder from a stale one. Pure.

/** This process, as it appears in the statuses it writes. */
export interface StatusWriterIdentity {
  /** `<namespace>/<pod>`. */
  readonly pod: string;
  /** `<pod>/<start id>`. */
  readonly instance: string;
}

export type OwnershipVerdict =
  | { readonly write: true }
  | { readonly write: false; readonly holder: string; readonly reason: string };

/**
 * Whether `ours` may replace `live` (the status as the API server has it now).
 *
 * - A status this process wrote, or one naming no holder, is ours to write.
 * - A "disconnected" never replaces another process's status: that process holds the agent now.
 * - A "connected" replaces another process's only when our stream started later than the one it
 *   names (`connectedSince`): that process is the stale holder. A status without
 *   `connectedSince` comes from a server older than it and counts as older than any stream.
 *   Equal start times (two streams in one millisecond) fall to the greater instance name, so the
 *   two writers agree on one winner instead of both writing or both yielding.
 *
 * The comparison uses the replicas' clocks, which must be within the time an agent needs to
 * reconnect (NTP-synchronised nodes are, by orders of magnitude).
 */
export function mayOverwrite(options: {
  readonly live: KubernetesClusterStatus | undefined;
  readonly ours: KubernetesClusterStatus;
  readonly self: StatusWriterIdentity;
}): OwnershipVerdict {
  const { live, ours, self } = options;
  const holder = holderOf(live);
  if (holder === undefined || isSelf(live, self)) return { write: true };
  if (ours.connected !== true) {
    return { write: false, holder, reason: `${holder} holds the agent's stream now` };
  }
  const theirs = startOf(live?.connectedSince);
  const mine = startOf(ours.connectedSince);
  if (mine === undefined) {
    return { write: false, holder, reason: `${holder} holds a stream, and ours has no start time` };
  }
  if (theirs === undefined || mine > theirs) return { write: true };
  if (mine === theirs && self.instance > holder) return { write: true };
  return {
    write: false,
    holder,
    reason: `${holder} holds a newer stream (since ${live?.connectedSince ?? '?'}; ours since ${ours.connectedSince ?? '?'})`,
  };
}

/** The process a status names as connected, undefined when none does. */
function holderOf(live: KubernetesClusterStatus | undefined): string | undefined {
  if (live?.connected !== true) return undefined;
  return live.serverInstance || live.connectedPod || undefined;
}

function isSelf(live: KubernetesClusterStatus | undefined, self: StatusWriterIdentity): boolean {
  // A status without an instance comes from a server older than instances: its pod decides.
  return live?.serverInstance ? live.serverInstance === self.instance : live?.connectedPod === self.pod;
}

function startOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}
