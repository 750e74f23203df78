/**
 * Orders strings by UTF-16 code units. Used everywhere order is observable (targets, keys,
 * reports) instead of `localeCompare`, whose result depends on the process's locale and ICU data:
 * two replicas must sort identically for versions and digests to agree.
 */
export function compareStrings(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}
