/**
 * Names of the Kubernetes objects the management server, the agent and relayctl agree on.
 * docs/design.md describes each; changing one here is a breaking change for deployed clusters.
 */

export const KUBERNETES_CLUSTER = {
  group: 'admin.gloo.solo.io',
  version: 'v2',
  plural: 'kubernetesclusters',
  kind: 'KubernetesCluster',
} as const;

/** Default namespace of the management server (and of the agent's credentials Secret). */
export const DEFAULT_RELAY_NAMESPACE = 'gloo-mesh';

/**
 * The Secret in which registrations from before mutual TLS kept a bearer token's hash. Nothing
 * reads it any more; `relayctl deregister` deletes one left behind.
 */
export const tokenSecretName = (cluster: string): string => `kuberelay-token-${cluster}`;

/** The Secret (server namespace) holding the hash of a cluster's one-time bootstrap token. */
export const bootstrapSecretName = (cluster: string): string => `kuberelay-bootstrap-${cluster}`;
export const BOOTSTRAP_SECRET_TYPE = 'kuberelay.dev/bootstrap-token';
/** Data key of the bootstrap Secret: hex SHA-256 of the token. */
export const BOOTSTRAP_SECRET_HASH_KEY = 'sha256';

/** The relay CA Secret (server namespace, type kubernetes.io/tls). */
export const RELAY_CA_SECRET = 'kuberelay-relay-ca';
/** Default lifetime of a relay CA (the server's `--ca-validity`, `relayctl rotate-ca --ca-validity`). */
export const DEFAULT_CA_VALIDITY_MS = 365 * 86_400_000;
export const RelayCaKey = {
  /** The CA that signs now. */
  cert: 'tls.crt',
  key: 'tls.key',
  /** Every CA agents and the server trust: the signing one, plus the previous or next one. */
  bundle: 'ca-bundle.crt',
  /** During `relayctl rotate-ca begin..switch`: the next CA, not yet signing. */
  nextCert: 'next.crt',
  nextKey: 'next.key',
} as const;

/** The Secret in the workload cluster with what the agent needs to connect. */
export const AGENT_CREDENTIALS_SECRET = 'kuberelay-agent-credentials';
export const AgentCredentialsKey = {
  /** Legacy long-lived bearer token (before mutual TLS). */
  token: 'token',
  /** One-time bootstrap token; the agent removes it once used. */
  bootstrapToken: 'bootstrapToken',
  /** The relay CA bundle the agent trusts. */
  caBundle: 'ca.crt',
  /** Written by the agent after bootstrap. */
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
  cluster: 'cluster',
  server: 'server',
  mgmtCluster: 'mgmtCluster',
} as const;

/** ConfigMap (server namespace) recording agents that were refused. */
export const REJECTED_AGENTS_CONFIGMAP = 'kuberelay-rejected-agents';

/** Lease (server namespace) each server replica renews; relayctl check reads them. */
export const serverLeaseName = (pod: string): string => `kuberelay-mgmt-server-${pod}`;
/** How often a server replica renews its Lease; relayctl treats 3 missed renewals as gone. */
export const SERVER_LEASE_RENEW_SECONDS = 10;
export const SERVER_LEASE_PREFIX = 'kuberelay-mgmt-server-';

export const RegistrationLabel = {
  /** On token Secrets: the cluster the token belongs to. */
  cluster: 'kuberelay.dev/cluster',
  /** On server Leases. */
  component: 'app.kubernetes.io/component',
} as const;

export const RegistrationAnnotation = {
  issuedAt: 'kuberelay.dev/issued-at',
  /** On bootstrap Secrets: RFC 3339 expiry of the token. */
  expiresAt: 'kuberelay.dev/expires-at',
  /** On bootstrap Secrets: the KubernetesCluster uid the token was issued for. */
  clusterUid: 'kuberelay.dev/cluster-uid',
  /** On server Leases: the server's --cluster-name, so relayctl register can default --mgmt-cluster. */
  mgmtCluster: 'kuberelay.dev/mgmt-cluster',
  grpcAddress: 'kuberelay.dev/grpc-address',
  httpAddress: 'kuberelay.dev/http-address',
  /** On server Leases: the server's distributable kinds (its --kinds), see formatKindsAnnotation. */
  kinds: 'kuberelay.dev/kinds',
  /** On server Leases: the server's --gateway-class-mapping (formatClassMapping), for relayctl plan. */
  gatewayClassMapping: 'kuberelay.dev/gateway-class-mapping',
  /**
   * On server Leases: another live process renews this Lease too (two servers started with one
   * --pod-name); its instance. relayctl check shows it as an error.
   */
  sharedWith: 'kuberelay.dev/shared-with',
} as const;

/** Field manager names, so managedFields tell who wrote what. */
export const FieldManager = {
  agent: 'kuberelay-agent',
  server: 'kuberelay-mgmt-server',
  relayctl: 'relayctl',
} as const;
