/** Longest DNS-1123 label; Kubernetes namespace and most object names must fit. */
export const DNS_LABEL_MAX_LENGTH = 63;
/** Longest DNS-1123 subdomain (API group names, cluster names). */
export const DNS_SUBDOMAIN_MAX_LENGTH = 253;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Why `value` is not a DNS-1123 label (the rule Kubernetes applies to namespace names), or
 * undefined when it is one. The wording follows the API server's so operators recognise it.
 */
export function dnsLabelProblem(value: string): string | undefined {
  if (value.length === 0) {
    return 'must not be empty';
  }
  if (value.length > DNS_LABEL_MAX_LENGTH) {
    return `must be no more than ${DNS_LABEL_MAX_LENGTH} characters (has ${value.length})`;
  }
  if (!DNS_LABEL.test(value)) {
    return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  }
  return undefined;
}

export function isDnsLabel(value: string): boolean {
  return dnsLabelProblem(value) === undefined;
}

/** True for a DNS-1123 subdomain: dot-separated labels, at most 253 characters in all. */
export function isDnsSubdomain(value: string): boolean {
  return value.length > 0 && value.length <= DNS_SUBDOMAIN_MAX_LENGTH && DNS_SUBDOMAIN.test(value);
}
