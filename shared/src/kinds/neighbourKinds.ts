import { ApiGroup, groupKindOf, type KindInfo } from './kindInfo.js';

/** A kind without a fixed version: it is watched in whichever version its CRD serves. */
export type NeighbourKind = Omit<KindInfo, 'version'>;

const neighbour = (group: string, kind: string, plural: string, namespaced = true): NeighbourKind =>
  Object.freeze({ group, kind, plural, namespaced });

/**
 * Kinds of the Gateway API and Gloo API groups that people write beside the distributable ones
 * and may annotate with distribute-to by mistake (a GRPCRoute next to HTTPRoutes, a
 * ReferenceGrant, a Gloo VirtualService). A fixed list, not "every kind of these groups": the
 * server's read rights are generated from it (least privilege, shared/src/rbac), and a kind here
 * costs one metadata-only watch when its CRD is installed. Generated objects (Gloo Proxies) and
 * configuration (Settings) are left out: nobody annotates them.
 */
const NEIGHBOUR_KINDS: readonly NeighbourKind[] = Object.freeze([
  neighbour(ApiGroup.GatewayApi, 'GRPCRoute', 'grpcroutes'),
  neighbour(ApiGroup.GatewayApi, 'TCPRoute', 'tcproutes'),
  neighbour(ApiGroup.GatewayApi, 'TLSRoute', 'tlsroutes'),
  neighbour(ApiGroup.GatewayApi, 'UDPRoute', 'udproutes'),
  neighbour(ApiGroup.GatewayApi, 'ReferenceGrant', 'referencegrants'),
  neighbour(ApiGroup.GatewayApi, 'BackendTLSPolicy', 'backendtlspolicies'),
  neighbour(ApiGroup.GlooGateway, 'VirtualService', 'virtualservices'),
  neighbour(ApiGroup.GlooGateway, 'RouteTable', 'routetables'),
  neighbour(ApiGroup.GlooGateway, 'MatchableHttpGateway', 'matchablehttpgateways'),
  neighbour(ApiGroup.GlooGateway, 'MatchableTcpGateway', 'matchabletcpgateways'),
  neighbour(ApiGroup.Gloo, 'UpstreamGroup', 'upstreamgroups'),
  neighbour(ApiGroup.GlooGatewayParameters, 'DirectResponse', 'directresponses'),
]);

/**
 * The kinds whose annotated objects the server reports as not distributable (docs/spec.md §8): the
 * neighbour kinds minus those it distributes (`--kinds`). A docs/spec.md §6 default left out of `--kinds`
 * is not among them: leaving it out is the operator's deliberate choice, and the server gets no
 * read rights on it (shared/src/rbac grants exactly the kinds listed).
 */
export function undistributableKinds(
  kinds: readonly Pick<KindInfo, 'group' | 'kind'>[],
): readonly NeighbourKind[] {
  const distributed = new Set(kinds.map(groupKindOf));
  return NEIGHBOUR_KINDS.filter((k) => !distributed.has(groupKindOf(k)));
}
