/** What the agent remembers of a copy it holds, enough to find and delete it later. */
export interface InventoryEntry {
  readonly key: string;
  readonly hash: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

/**
 * Copies in the inventory that the desired set no longer has: the candidates for deletion, in key
 * order. Pure; the caller decides whether pruning is allowed at all (a complete, digest-verified
 * version while connected and with distribution enabled).
 */
export function findUntracked<T extends { readonly key: string }>(
  inventory: ReadonlyMap<string, T>,
  desired: { has(key: string): boolean },
): T[] {
  return [...inventory.values()]
    .filter((entry) => !desired.has(entry.key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
