import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { type Result, resultFrom } from '../errors/result.js';
import { isDnsLabel, isDnsSubdomain } from '../names/kubeNames.js';
import { DEFAULT_KINDS, groupKindOf, type KindInfo } from './kindInfo.js';

/** Spelling of a kind's scope in the `--kinds` flag. */
export const KindScope = {
  Namespaced: 'Namespaced',
  Cluster: 'Cluster',
} as const;
export type KindScope = (typeof KindScope)[keyof typeof KindScope];

const KIND_NAME = /^[A-Z][A-Za-z0-9]{0,62}$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

/**
 * Parses the management server's list of distributable kinds.
 *
 * Grammar (white space around entries is ignored, empty entries are skipped):
 *
 *     kinds  = entry *( "," entry )
 *     entry  = Kind [ "." group ] "/" version [ ":" plural ":" scope ]
 *     scope  = "Namespaced" | "Cluster"
 *
 * e.g. `Gateway.gateway.networking.k8s.io/v1, Foo.example.com/v1beta1:foos:Cluster`.
 * The kind is everything before the first `.` (kinds have no dots); a missing group is the core
 * group (`ConfigMap/v1:configmaps:Namespaced`). A kind of docs/spec.md §6 (same group and kind, any
 * version) may omit `:plural:scope`, which then come from the defaults; any other kind must give
 * them, because the relay cannot guess a plural or a scope and a wrong one fails only at watch time.
 * Given values always win. A group and kind listed twice is an error (two versions of one kind are
 * the same objects). A list with no entries is an error: an operator who wants nothing distributed
 * turns the ConfigDistribution gate off instead.
 */
export function parseKindsFlag(value: string): Result<readonly KindInfo[]> {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    return resultFrom(
      [new RelayError({ code: ErrorCode.InvalidConfig, message: 'the list of kinds is empty' })],
      () => [],
    );
  }
  const errors: RelayError[] = [];
  const kinds: KindInfo[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (!(parsed instanceof RelayError)) {
      const key = groupKindOf(parsed);
      if (seen.has(key)) {
        errors.push(configError(`kind ${key} is listed more than once`, entry));
        continue;
      }
      seen.add(key);
      kinds.push(parsed);
    } else {
      errors.push(parsed);
    }
  }
  return resultFrom(errors, () => Object.freeze(kinds));
}

function parseEntry(entry: string): KindInfo | RelayError {
  const parts = entry.split(':');
  if (parts.length !== 1 && parts.length !== 3) {
    return configError('expected Kind.group/version or Kind.group/version:plural:Namespaced|Cluster', entry);
  }
  const [head = '', plural, scope] = parts;
  const slashes = head.split('/');
  if (slashes.length !== 2) {
    return configError('expected exactly one "/" between Kind.group and version', entry);
  }
  const [groupKind = '', version = ''] = slashes;
  const dot = groupKind.indexOf('.');
  const kind = dot < 0 ? groupKind : groupKind.slice(0, dot);
  const group = dot < 0 ? '' : groupKind.slice(dot + 1);
  if (!KIND_NAME.test(kind)) {
    return configError(`"${kind}" is not a kind name (an upper-case letter, then letters and digits)`, entry);
  }
  if (dot >= 0 && !isDnsSubdomain(group)) {
    return configError(`"${group}" is not an API group (a DNS subdomain such as example.com)`, entry);
  }
  if (!VERSION.test(version)) {
    return configError(`"${version}" is not an API version such as v1, v1beta1 or v1alpha2`, entry);
  }
  if (plural === undefined || scope === undefined) {
    return fromDefaults({ group, version, kind }, entry);
  }
  if (!isDnsLabel(plural)) {
    return configError(`"${plural}" is not a resource plural (lower case, such as gateways)`, entry);
  }
  if (scope !== KindScope.Namespaced && scope !== KindScope.Cluster) {
    return configError(`scope "${scope}" must be Namespaced or Cluster`, entry);
  }
  return Object.freeze({ group, version, kind, plural, namespaced: scope === KindScope.Namespaced });
}

function fromDefaults(
  id: { readonly group: string; readonly version: string; readonly kind: string },
  entry: string,
): KindInfo | RelayError {
  const known = DEFAULT_KINDS.find((k) => k.group === id.group && k.kind === id.kind);
  if (known === undefined) {
    return configError(
      `${groupKindOf(id)} is not a default kind: give its plural and scope, e.g. ${entry}:${id.kind.toLowerCase()}s:Namespaced`,
      entry,
    );
  }
  return Object.freeze({ ...known, version: id.version });
}

function configError(message: string, entry: string): RelayError {
  return new RelayError({
    code: ErrorCode.InvalidConfig,
    message: `kinds entry "${entry}": ${message}`,
    details: { entry },
  });
}
