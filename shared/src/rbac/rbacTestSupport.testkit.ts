import type { PolicyRule, RbacBundle, RbacRole } from './rbacObjects.js';

/** A request as the RBAC authorizer sees it. `namespace` absent: a cluster-wide request. */
export interface AccessRequest {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * Whether a bundle allows a request, by the RBAC authorizer's rules: a ClusterRole (bound by a
 * ClusterRoleBinding) applies everywhere, a Role only in its namespace; a rule with resourceNames
 * only matches requests naming one of them (so never a list, watch or create). Test support only:
 * it lets unit tests state the rights as a table of requests instead of the rules' shape.
 */
export function allows(bundle: RbacBundle, request: AccessRequest): boolean {
  const roles = bundle.objects.filter((o): o is RbacRole => o.kind === 'ClusterRole' || o.kind === 'Role');
  return roles.some(
    (role) =>
      (role.kind === 'ClusterRole' || role.metadata.namespace === request.namespace) &&
      role.rules.some((rule) => matches(rule, request)),
  );
}

function matches(rule: PolicyRule, request: AccessRequest): boolean {
  if (!rule.verbs.includes(request.verb as PolicyRule['verbs'][number])) return false;
  if (!rule.apiGroups.includes(request.group) || !rule.resources.includes(request.resource)) return false;
  if (rule.resourceNames === undefined) return true;
  return request.name !== undefined && rule.resourceNames.includes(request.name);
}
