/**
 * The identities the relay CA puts into agent certificates (docs/design.md "Mutual TLS"): the
 * cluster name as a SPIFFE ID, and the KubernetesCluster uid, so a certificate issued to a
 * deregistered and re-registered name is refused.
 */
export const CLUSTER_SPIFFE_PREFIX = 'spiffe://kuberelay/cluster/';
export const CLUSTER_UID_PREFIX = 'kuberelay://cluster-uid/';

export const clusterSpiffeId = (cluster: string): string => `${CLUSTER_SPIFFE_PREFIX}${cluster}`;
export const clusterUidUri = (uid: string): string => `${CLUSTER_UID_PREFIX}${uid}`;

export interface ClusterIdentity {
  readonly cluster: string;
  readonly uid: string;
}

/**
 * The cluster identity in a certificate's URI SANs, or undefined unless there is exactly one
 * SPIFFE ID and exactly one uid URI of ours (two would be a CA bug or a forged request: refuse
 * rather than guess which one counts).
 */
export function parseClusterIdentity(uris: readonly string[]): ClusterIdentity | undefined {
  const clusters = uris.filter((u) => u.startsWith(CLUSTER_SPIFFE_PREFIX));
  const uids = uris.filter((u) => u.startsWith(CLUSTER_UID_PREFIX));
  if (clusters.length !== 1 || uids.length !== 1) return undefined;
  const cluster = clusters[0]?.slice(CLUSTER_SPIFFE_PREFIX.length) ?? '';
  const uid = uids[0]?.slice(CLUSTER_UID_PREFIX.length) ?? '';
  // Cluster names are DNS-1123 labels; uids are Kubernetes UUIDs. Anything else is not ours.
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(cluster) || !/^[0-9A-Za-z-]{1,64}$/.test(uid)) {
    return undefined;
  }
  return { cluster, uid };
}
