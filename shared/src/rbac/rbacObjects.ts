import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import type { KindInfo } from '../kinds/kindInfo.js';
import { dnsLabelProblem } from '../names/kubeNames.js';

/** The API group of RBAC objects and of `User`/`Group` subjects. */
export const RBAC_API_GROUP = 'rbac.authorization.k8s.io';
export const RBAC_API_VERSION = `${RBAC_API_GROUP}/v1`;

/** The verbs Kuberelay's rules use, so a typo cannot grant nothing (or something else). */
export const Verb = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  create: 'create',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
} as const;
export type Verb = (typeof Verb)[keyof typeof Verb];

/** One rule of a Role or ClusterRole, as the RBAC API spells it. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  /** Restricts the rule to these objects. Never combined with `create` (RBAC cannot limit it by name). */
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly Verb[];
}

/** Who a binding grants the role to. `namespace` only for a ServiceAccount. */
export interface RbacSubject {
  readonly kind: 'ServiceAccount' | 'User' | 'Group';
  readonly name: string;
  readonly namespace?: string;
  readonly apiGroup?: string;
}

interface RbacMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RbacRole {
  readonly apiVersion: typeof RBAC_API_VERSION;
  readonly kind: 'ClusterRole' | 'Role';
  readonly metadata: RbacMetadata;
  readonly rules: readonly PolicyRule[];
}

export interface RbacBinding {
  readonly apiVersion: typeof RBAC_API_VERSION;
  readonly kind: 'ClusterRoleBinding' | 'RoleBinding';
  readonly metadata: RbacMetadata;
  readonly roleRef: {
    readonly apiGroup: typeof RBAC_API_GROUP;
    readonly kind: RbacRole['kind'];
    readonly name: string;
  };
  readonly subjects: readonly RbacSubject[];
}

export type RbacObject = RbacRole | RbacBinding;

/**
 * A program's RBAC: the objects to apply (each role before its binding; plain objects the API
 * server accepts as they are), and why each rule exists, keyed by the rule object itself (every
 * rule of every role has an entry). The reasons become the comments of the generated manifests.
 */
export interface RbacBundle {
  readonly objects: readonly RbacObject[];
  readonly reasons: ReadonlyMap<PolicyRule, string>;
}

/** A rule and the reason it exists, as the generators write them. */
export interface ExplainedRule {
  readonly rule: PolicyRule;
  readonly why: string;
}

/** Where a role applies: the whole cluster, or one namespace. */
export type RoleScope = { readonly cluster: true } | { readonly namespace: string };

export interface RoleSpec {
  readonly name: string;
  readonly scope: RoleScope;
  readonly rules: readonly ExplainedRule[];
}

const LABELS = Object.freeze({ 'app.kubernetes.io/part-of': 'kuberelay' });

/** The ServiceAccount subject a Deployment's pods authenticate as. */
export function serviceAccountSubject(name: string, namespace: string): RbacSubject {
  return { kind: 'ServiceAccount', name, namespace };
}

/** A User subject: what a client certificate's CN (or any authenticator's user name) binds to. */
export function userSubject(name: string): RbacSubject {
  return { kind: 'User', name, apiGroup: RBAC_API_GROUP };
}

/**
 * Rules giving `verbs` on every kind of `kinds`, one rule per API group (in the order the groups
 * first appear, resources in list order, no repeats). Generated from the kinds list so that a
 * kind added to it is also granted, and a kind removed is no longer.
 */
export function kindRules(kinds: readonly KindInfo[], verbs: readonly Verb[]): PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of kinds) {
    const resources = byGroup.get(kind.group) ?? [];
    if (!resources.includes(kind.plural)) resources.push(kind.plural);
    byGroup.set(kind.group, resources);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: [...verbs] }));
}

/** Builds the objects of a bundle: each role, then its binding to `subjects`. Empty roles are left out. */
export function buildBundle(roles: readonly RoleSpec[], subjects: readonly RbacSubject[]): RbacBundle {
  const objects: RbacObject[] = [];
  const reasons = new Map<PolicyRule, string>();
  for (const spec of roles) {
    if (spec.rules.length === 0) continue;
    const namespace = 'namespace' in spec.scope ? spec.scope.namespace : undefined;
    const namespaced = namespace !== undefined;
    const metadata = (): RbacMetadata =>
      namespaced
        ? { name: spec.name, namespace, labels: { ...LABELS } }
        : { name: spec.name, labels: { ...LABELS } };
    const rules = spec.rules.map((r) => {
      const rule = Object.freeze({ ...r.rule });
      reasons.set(rule, r.why);
      return rule;
    });
    const kind = namespaced ? 'Role' : 'ClusterRole';
    objects.push({ apiVersion: RBAC_API_VERSION, kind, metadata: metadata(), rules });
    objects.push({
      apiVersion: RBAC_API_VERSION,
      kind: namespaced ? 'RoleBinding' : 'ClusterRoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_API_GROUP, kind, name: spec.name },
      subjects: [...subjects],
    });
  }
  return { objects, reasons };
}

/** The subjects a bundle binds: the ones given, else the program's ServiceAccount in its namespace. */
export function subjectsOf(
  options: { readonly subjects?: readonly RbacSubject[]; readonly serviceAccount?: string },
  defaults: { readonly serviceAccount: string; readonly namespace: string },
): readonly RbacSubject[] {
  if (options.subjects !== undefined) {
    if (options.subjects.length === 0) invalid('subjects must name at least one subject');
    return options.subjects;
  }
  return [serviceAccountSubject(options.serviceAccount ?? defaults.serviceAccount, defaults.namespace)];
}

/** Throws InvalidConfig unless every value is a namespace name (DNS label). */
export function checkNamespaces(what: string, namespaces: readonly string[]): void {
  for (const namespace of namespaces) {
    const problem = dnsLabelProblem(namespace);
    if (problem !== undefined) invalid(`${what} "${namespace}" is not a namespace name: ${problem}`);
  }
}

export function checkKinds(kinds: readonly KindInfo[]): void {
  if (kinds.length === 0) invalid('the kinds list is empty: the RBAC would grant nothing to distribute');
}

export function invalid(message: string): never {
  throw new RelayError({ code: ErrorCode.InvalidConfig, message });
}
