import { ApiGroup, KindName, splitApiVersion } from '../kinds/kindInfo.js';
import type { ObjectRef } from '../source/objectRef.js';
import { isJsonObject, type JsonObject, type KubeObject, type PathSegment } from './kubeObject.js';

/** What a reference is for; decides which kinds it may point to. */
export const ReferenceRole = {
  /** HTTPRoute → the Gateway it attaches to. */
  Parent: 'parent',
  /** HTTPRoute → where traffic goes (backendRefs, and request mirrors). */
  Backend: 'backend',
  /** Policy → the Gateway or HTTPRoute it applies to. */
  Target: 'target',
  /** GatewayClass `spec.parametersRef` → a GatewayParameters (namespace given in the reference). */
  ClassParameters: 'class-parameters',
  /** Gateway `spec.infrastructure.parametersRef` → a GatewayParameters beside the Gateway (local). */
  InfrastructureParameters: 'infrastructure-parameters',
  /** HTTPRoute filter `extensionRef` → a RouteOption beside the route (local). */
  Extension: 'extension',
} as const;
export type ReferenceRole = (typeof ReferenceRole)[keyof typeof ReferenceRole];

/**
 * Local references have no namespace field: the API resolves them in the referring object's own
 * namespace, so a copy's local reference can only work when the referenced object lands in the
 * copy's namespace. They are checked, never rewritten.
 */
const LOCAL_ROLES: ReadonlySet<ReferenceRole> = new Set([
  ReferenceRole.InfrastructureParameters,
  ReferenceRole.Extension,
]);

/** Whether references of `role` are local (see LOCAL_ROLES). */
export const isLocalReference = (role: ReferenceRole): boolean => LOCAL_ROLES.has(role);

/** A reference found in an object, with the Gateway API defaults for group and kind applied. */
export interface FoundReference {
  /** Location of the reference object (the one holding group/kind/name/namespace). */
  readonly path: readonly PathSegment[];
  readonly role: ReferenceRole;
  readonly group: string;
  /** Undefined only when the reference has no kind and its field has no default. */
  readonly kind: string | undefined;
  readonly name: string;
  /** The namespace as written; undefined means "the referring object's namespace" (always so for a
   * local reference). */
  readonly namespace: string | undefined;
}

/** `'*'` stands for every element of an array. */
type SitePattern = readonly string[];

interface ReferenceSite {
  readonly role: ReferenceRole;
  readonly pattern: SitePattern;
  /** Gateway API defaults when the field is omitted. */
  readonly defaultGroup: string;
  readonly defaultKind: string | undefined;
}

/** Group and kind are required in these Gateway API LocalObjectReferences and
 * ParametersReferences, so there are no defaults. */
const NO_DEFAULTS = { defaultGroup: '', defaultKind: undefined } as const;

const BACKEND_DEFAULTS = { role: ReferenceRole.Backend, defaultGroup: '', defaultKind: 'Service' } as const;

/**
 * Where HTTPRoutes refer to other objects. Mirrors are backends too: docs/spec.md §3 requires an HTTPRoute
 * to be backed by Upstreams only, and a mirror to a Service would fail the same way in a workload
 * cluster.
 */
const HTTPROUTE_SITES: readonly ReferenceSite[] = [
  {
    role: ReferenceRole.Parent,
    pattern: ['spec', 'parentRefs', '*'],
    defaultGroup: ApiGroup.GatewayApi,
    defaultKind: KindName.Gateway,
  },
  { ...BACKEND_DEFAULTS, pattern: ['spec', 'rules', '*', 'backendRefs', '*'] },
  { ...BACKEND_DEFAULTS, pattern: ['spec', 'rules', '*', 'filters', '*', 'requestMirror', 'backendRef'] },
  {
    ...BACKEND_DEFAULTS,
    pattern: ['spec', 'rules', '*', 'backendRefs', '*', 'filters', '*', 'requestMirror', 'backendRef'],
  },
  {
    ...NO_DEFAULTS,
    role: ReferenceRole.Extension,
    pattern: ['spec', 'rules', '*', 'filters', '*', 'extensionRef'],
  },
  {
    ...NO_DEFAULTS,
    role: ReferenceRole.Extension,
    pattern: ['spec', 'rules', '*', 'backendRefs', '*', 'filters', '*', 'extensionRef'],
  },
];

/** Gloo policies: `targetRefs` (current) and `targetRef` (older releases). Group and kind are
 * required fields there, so there are no defaults; a missing group is the core group. */
const POLICY_SITES: readonly ReferenceSite[] = [
  {
    role: ReferenceRole.Target,
    pattern: ['spec', 'targetRefs', '*'],
    defaultGroup: '',
    defaultKind: undefined,
  },
  { role: ReferenceRole.Target, pattern: ['spec', 'targetRef'], defaultGroup: '', defaultKind: undefined },
];

const GATEWAYCLASS_SITES: readonly ReferenceSite[] = [
  { ...NO_DEFAULTS, role: ReferenceRole.ClassParameters, pattern: ['spec', 'parametersRef'] },
];

const GATEWAY_SITES: readonly ReferenceSite[] = [
  {
    ...NO_DEFAULTS,
    role: ReferenceRole.InfrastructureParameters,
    pattern: ['spec', 'infrastructure', 'parametersRef'],
  },
];

const SITES_BY_KIND: ReadonlyMap<string, readonly ReferenceSite[]> = new Map([
  [`${ApiGroup.GatewayApi}/${KindName.GatewayClass}`, GATEWAYCLASS_SITES],
  [`${ApiGroup.GatewayApi}/${KindName.Gateway}`, GATEWAY_SITES],
  [`${ApiGroup.GatewayApi}/${KindName.HTTPRoute}`, HTTPROUTE_SITES],
  [`${ApiGroup.GlooGateway}/${KindName.RouteOption}`, POLICY_SITES],
  [`${ApiGroup.GlooGateway}/${KindName.VirtualHostOption}`, POLICY_SITES],
  [`${ApiGroup.GlooGateway}/${KindName.ListenerOption}`, POLICY_SITES],
  [`${ApiGroup.GlooGateway}/${KindName.HttpListenerOption}`, POLICY_SITES],
]);

/**
 * Every reference in `object` at the places docs/spec.md §3 names, in document order. Entries that are not
 * objects or have no string name are skipped: the API server validates these fields, so they only
 * occur in hand-built input, and there is nothing to resolve.
 */
export function findReferences(object: KubeObject): readonly FoundReference[] {
  const sites = SITES_BY_KIND.get(`${splitApiVersion(object.apiVersion).group}/${object.kind}`) ?? [];
  const found: FoundReference[] = [];
  for (const site of sites) {
    for (const { path, value } of walk(object, site.pattern, [])) {
      const ref = toReference(site, path, value);
      if (ref !== undefined) {
        found.push(ref);
      }
    }
  }
  return found;
}

/** The kinds (as `group/Kind`) each role may point to among distributed objects (local roles are
 * checked, not rewritten). */
const REWRITABLE: Readonly<Record<ReferenceRole, ReadonlySet<string>>> = {
  [ReferenceRole.Parent]: new Set([`${ApiGroup.GatewayApi}/${KindName.Gateway}`]),
  [ReferenceRole.Backend]: new Set([`${ApiGroup.Gloo}/${KindName.Upstream}`]),
  [ReferenceRole.Target]: new Set([
    `${ApiGroup.GatewayApi}/${KindName.Gateway}`,
    `${ApiGroup.GatewayApi}/${KindName.HTTPRoute}`,
  ]),
  [ReferenceRole.ClassParameters]: new Set([
    `${ApiGroup.GlooGatewayParameters}/${KindName.GatewayParameters}`,
  ]),
  [ReferenceRole.InfrastructureParameters]: new Set([
    `${ApiGroup.GlooGatewayParameters}/${KindName.GatewayParameters}`,
  ]),
  [ReferenceRole.Extension]: new Set([`${ApiGroup.GlooGateway}/${KindName.RouteOption}`]),
};

/** A reference to a distributable object, with the source it names in the management cluster. */
export interface ResolvedReference {
  readonly found: FoundReference;
  /** The referenced source: its namespace is the reference's, or the referring source's when the
   * reference has none (docs/spec.md §3). */
  readonly target: ObjectRef;
}

/**
 * The references of a copy to distributable kinds, resolved against the referring source's
 * namespace: those docs/spec.md §3 transform 2 may rewrite (parentRefs to Gateways, backendRefs to
 * Upstreams, policy targets to Gateways and HTTPRoutes, a GatewayClass's parametersRef to a
 * GatewayParameters) and the local ones that are only checked (a Gateway's infrastructure
 * parametersRef, an HTTPRoute filter's extensionRef to a RouteOption). References to other kinds
 * (a parentRef to a Service in a mesh, a policy on a ListenerSet) are not about distributed
 * objects and are left alone silently.
 */
export function referencedSources(
  copy: KubeObject,
  options: { readonly sourceNamespace: string | undefined },
): readonly ResolvedReference[] {
  const resolved: ResolvedReference[] = [];
  for (const found of findReferences(copy)) {
    if (found.kind !== undefined && REWRITABLE[found.role].has(`${found.group}/${found.kind}`)) {
      const target: ObjectRef = {
        group: found.group,
        kind: found.kind,
        namespace: found.namespace ?? options.sourceNamespace,
        name: found.name,
      };
      resolved.push({ found, target });
    }
  }
  return resolved;
}

function toReference(
  site: ReferenceSite,
  path: readonly PathSegment[],
  value: JsonObject,
): FoundReference | undefined {
  const { name, group, kind } = value;
  if (typeof name !== 'string') {
    return undefined;
  }
  // A local reference has no namespace field; one written anyway is not what the API resolves.
  const namespace = isLocalReference(site.role) ? undefined : value.namespace;
  return {
    path,
    role: site.role,
    group: typeof group === 'string' ? group : site.defaultGroup,
    kind: typeof kind === 'string' ? kind : site.defaultKind,
    name,
    namespace: typeof namespace === 'string' && namespace !== '' ? namespace : undefined,
  };
}

function* walk(
  node: unknown,
  pattern: SitePattern,
  path: readonly PathSegment[],
): Generator<{ path: readonly PathSegment[]; value: JsonObject }> {
  const [head, ...rest] = pattern;
  if (head === undefined) {
    if (isJsonObject(node)) {
      yield { path, value: node };
    }
    return;
  }
  if (head === '*') {
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        yield* walk(item, rest, [...path, index]);
      }
    }
    return;
  }
  if (isJsonObject(node) && Object.hasOwn(node, head)) {
    yield* walk(node[head], rest, [...path, head]);
  }
}
