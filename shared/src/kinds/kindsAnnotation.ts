import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, type Result } from '../errors/result.js';
import { groupKindOf, type KindInfo } from './kindInfo.js';
import { KindScope, parseKindsFlag } from './parseKindsFlag.js';

/**
 * The distributable kinds a management server was started with, as it announces them on its
 * presence Lease (annotation `kuberelay.dev/kinds`), so relayctl lists the sources of exactly the
 * kinds the server distributes. Compact JSON, one object per kind:
 * `[{"group":"gateway.networking.k8s.io","version":"v1","kind":"Gateway","plural":"gateways","scope":"Namespaced"}]`.
 */
export function formatKindsAnnotation(kinds: readonly KindInfo[]): string {
  return JSON.stringify(
    kinds.map((k) => ({
      group: k.group,
      version: k.version,
      kind: k.kind,
      plural: k.plural,
      scope: k.namespaced ? KindScope.Namespaced : KindScope.Cluster,
    })),
  );
}

/**
 * Reads a `kuberelay.dev/kinds` value. Every entry is checked by the rules of `--kinds`
 * (parseKindsFlag), so a hand-edited or corrupt annotation is an error, never a wrong watch.
 */
export function parseKindsAnnotation(value: string): Result<readonly KindInfo[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return err(invalid(`not JSON (${error instanceof Error ? error.message : String(error)})`));
  }
  if (!Array.isArray(parsed)) return err(invalid('not a JSON array'));
  const entries: string[] = [];
  for (const [index, item] of parsed.entries()) {
    const entry = entryOf(item);
    if (entry === undefined) {
      return err(invalid(`entry ${index} needs string group, version, kind, plural and scope`));
    }
    entries.push(`${groupKindOf(entry)}/${entry.version}:${entry.plural}:${entry.scope}`);
  }
  return parseKindsFlag(entries.join(','));
}

interface KindEntry {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly scope: string;
}

function entryOf(item: unknown): KindEntry | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const { group, version, kind, plural, scope } = item as Record<string, unknown>;
  return typeof group === 'string' &&
    typeof version === 'string' &&
    typeof kind === 'string' &&
    typeof plural === 'string' &&
    typeof scope === 'string'
    ? { group, version, kind, plural, scope }
    : undefined;
}

function invalid(reason: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidAnnotation, message: `kuberelay.dev/kinds: ${reason}` });
}
