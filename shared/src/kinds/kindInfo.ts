/** API groups the relay knows by name. */
export const ApiGroup = {
  GatewayApi: 'gateway.networking.k8s.io',
  GlooGatewayParameters: 'gateway.gloo.solo.io',
  GlooGateway: 'gateway.solo.io',
  Gloo: 'gloo.solo.io',
} as const;

/** Kind names the relay treats specially (references, class swap, validation). */
export const KindName = {
  GatewayClass: 'GatewayClass',
  Gateway: 'Gateway',
  HTTPRoute: 'HTTPRoute',
  GatewayParameters: 'GatewayParameters',
  HttpListenerOption: 'HttpListenerOption',
  ListenerOption: 'ListenerOption',
  RouteOption: 'RouteOption',
  VirtualHostOption: 'VirtualHostOption',
  Upstream: 'Upstream',
} as const;

/**
 * One distributable kind. `group` is empty for the core API group. `plural` is the resource name
 * used in API paths; `namespaced` is the scope, which decides whether a distribute-to entry may
 * carry a namespace (docs/spec.md §2) and whether a copy has one (docs/spec.md §3).
 */
export interface KindInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

function kindInfo(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
): KindInfo {
  return Object.freeze({ group, version, kind, plural, namespaced });
}

/** docs/spec.md §6 default set, in the order of its table. */
export const DEFAULT_KINDS: readonly KindInfo[] = Object.freeze([
  kindInfo(ApiGroup.GatewayApi, 'v1', KindName.GatewayClass, 'gatewayclasses', false),
  kindInfo(ApiGroup.GatewayApi, 'v1', KindName.Gateway, 'gateways', true),
  kindInfo(ApiGroup.GatewayApi, 'v1', KindName.HTTPRoute, 'httproutes', true),
  kindInfo(ApiGroup.GlooGatewayParameters, 'v1alpha1', KindName.GatewayParameters, 'gatewayparameters', true),
  kindInfo(ApiGroup.GlooGateway, 'v1', KindName.HttpListenerOption, 'httplisteneroptions', true),
  kindInfo(ApiGroup.GlooGateway, 'v1', KindName.ListenerOption, 'listeneroptions', true),
  kindInfo(ApiGroup.GlooGateway, 'v1', KindName.RouteOption, 'routeoptions', true),
  kindInfo(ApiGroup.GlooGateway, 'v1', KindName.VirtualHostOption, 'virtualhostoptions', true),
  kindInfo(ApiGroup.Gloo, 'v1', KindName.Upstream, 'upstreams', true),
]);

/** `group/version`, or just `version` for the core group (`v1`). */
export function apiVersionOf(kind: Pick<KindInfo, 'group' | 'version'>): string {
  return kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;
}

/** Splits an apiVersion at its last `/`; `v1` is the core group. */
export function splitApiVersion(apiVersion: string): { readonly group: string; readonly version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `Kind.group` (as kubectl writes it), `Kind` for the core group. Unique per kind. */
export function groupKindOf(kind: Pick<KindInfo, 'group' | 'kind'>): string {
  return kind.group === '' ? kind.kind : `${kind.kind}.${kind.group}`;
}

/**
 * Lookups over a fixed list of kinds. A kind is identified by group and kind; the version only
 * says which version the relay reads, so `byGroupKind` is the lookup to use for references (which
 * carry no version) and `byApiVersionKind` when the exact served version matters.
 */
export interface KindRegistry {
  readonly kinds: readonly KindInfo[];
  byGroupKind(group: string, kind: string): KindInfo | undefined;
  byApiVersionKind(apiVersion: string, kind: string): KindInfo | undefined;
}

/** Builds a registry. When two entries share a group and kind, the first wins (parseKindsFlag
 * rejects such lists, so this only matters for hand-built lists). */
export function createKindRegistry(kinds: readonly KindInfo[]): KindRegistry {
  const byGroupKind = new Map<string, KindInfo>();
  for (const info of kinds) {
    const key = groupKindOf(info);
    if (!byGroupKind.has(key)) {
      byGroupKind.set(key, info);
    }
  }
  const frozen = Object.freeze([...kinds]);
  return {
    kinds: frozen,
    byGroupKind: (group, kind) => byGroupKind.get(groupKindOf({ group, kind })),
    byApiVersionKind: (apiVersion, kind) => {
      const { group, version } = splitApiVersion(apiVersion);
      const info = byGroupKind.get(groupKindOf({ group, kind }));
      return info?.version === version ? info : undefined;
    },
  };
}
