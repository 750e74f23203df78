import type { RelayError } from '../errors/relayError.js';
import { objectKey, type SourceRef } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import type { ReportItem, Severity, SourceReport } from './desiredState.js';

/** Collects reports per source; `done` sorts them into the immutable, ordered form. */
export class ReportCollector {
  readonly #bySource = new Map<string, { source: SourceRef; items: ReportItem[] }>();

  add(source: SourceRef, report: ReportItem): void {
    const key = objectKey(source);
    const entry = this.#bySource.get(key);
    if (entry === undefined) {
      this.#bySource.set(key, { source, items: [report] });
    } else {
      entry.items.push(report);
    }
  }

  addErrors(
    source: SourceRef,
    errors: readonly RelayError[],
    severity: Severity,
    where: { readonly cluster?: string; readonly namespace?: string | undefined } = {},
  ): void {
    for (const error of errors) {
      this.add(source, {
        code: error.code,
        severity,
        message: error.message,
        ...(where.cluster === undefined ? {} : { cluster: where.cluster }),
        ...(where.namespace === undefined ? {} : { namespace: where.namespace }),
      });
    }
  }

  done(): ReadonlyMap<string, SourceReport> {
    const sorted = [...this.#bySource.entries()].sort(([a], [b]) => compareStrings(a, b));
    return new Map(
      sorted.map(([key, { source, items }]) => [
        key,
        Object.freeze({ source, items: Object.freeze(dedupeSorted(items)) }),
      ]),
    );
  }
}

function dedupeSorted(items: readonly ReportItem[]): ReportItem[] {
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
