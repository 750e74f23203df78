import type { LeaseObject } from './leaseApi.js';

/**
 * Which presence Leases of one replica group are alive, pure. Each replica renews its own Lease
 * `kuberelay-agent-<pod>`; one is alive while `renewTime + leaseDurationSeconds` is ahead of
 * `now`. This compares another node's clock with ours, unlike the election (leaseDecision.ts):
 * acceptable for a count an operator reads, never used to decide who writes. Leases dead for
 * longer than `forgetAfterMs` (a pod deleted after a kill -9 never deletes its own) are returned
 * for deletion, so the namespace does not fill up with every pod name a Deployment ever had.
 */
export function aliveReplicas(
  leases: readonly LeaseObject[],
  options: { readonly now: number; readonly self: string; readonly forgetAfterMs: number },
): { readonly alive: number; readonly forget: readonly LeaseObject[] } {
  const names = new Set<string>([options.self]);
  const forget: LeaseObject[] = [];
  for (const lease of leases) {
    if (lease.metadata.name === options.self) continue;
    const renewedAt = Date.parse(lease.spec?.renewTime ?? '');
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (!Number.isFinite(renewedAt)) continue;
    if (renewedAt + durationMs > options.now) names.add(lease.metadata.name);
    else if (renewedAt + durationMs + options.forgetAfterMs <= options.now) forget.push(lease);
  }
  return { alive: names.size, forget };
}
