import { compareStrings } from '../util/compare.js';
import type { ReportItem } from './desiredState.js';

/** Items sorted by cluster, namespace, code, message, each distinct one once, frozen. */
export function dedupeSorted(items: readonly ReportItem[]): ReportItem[] {
  const seen = new Set<string>();
  const unique: ReportItem[] = [];
  for (const item of [...items].sort(compareReports)) {
    const id = `${item.cluster ?? ''}\u0000${item.namespace ?? ''}\u0000${item.code}\u0000${item.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      unique.push(Object.freeze(item));
    }
  }
  return unique;
}

function compareReports(a: ReportItem, b: ReportItem): number {
  return (
    compareStrings(a.cluster ?? '', b.cluster ?? '') ||
    compareStrings(a.namespace ?? '', b.namespace ?? '') ||
    compareStrings(a.code, b.code) ||
    compareStrings(a.message, b.message)
  );
}
