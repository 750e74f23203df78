import type { Clock, KindInfo, Logger } from '@kuberelay/shared';
import type { KubeConfig } from '@kubernetes/client-node';

// The management server's programmatic contract: what startMgmtServer (the composition root,
// startMgmtServer.ts) takes and gives back. main.ts fills it from flags; tests fill it directly.

export interface MgmtServerOptions {
  /** The management cluster. */
  readonly kubeConfig: KubeConfig;
  /** Name of the management cluster (copies' label and distributed-source URI). */
  readonly clusterName: string;
  /** Where KubernetesClusters, token Secrets, the rejected-agents ConfigMap and Leases live. */
  readonly namespace: string;
  readonly podName: string;
  /**
   * This process's start id (default: random). With the pod name it is the server instance
   * `<pod>/<id>`, the Lease's holderIdentity and `status.serverInstance`: a pod restarted under
   * the same name is another instance, so its predecessor's statuses are recognised as stale.
   */
  readonly instanceId?: string;
  /** e.g. `127.0.0.1:0` (port 0: a free port, see MgmtServer.grpcPort). */
  readonly grpcListen: string;
  readonly httpListen: string;
  /**
   * The read-only dashboard's address (e.g. `127.0.0.1:9092`); undefined (the default): no
   * dashboard. It has no authentication of its own: keep it on localhost (docs/operations.md).
   */
  readonly dashboardListen?: string;
  /** Distributable kinds (default: docs/spec.md §6). */
  readonly kinds?: readonly KindInfo[];
  /** GatewayClass swap (default gloo-gateway-distribute → gloo-gateway). */
  readonly classMapping?: Readonly<Record<string, string>>;
  /** The ConfigDistribution feature gate (default true). */
  readonly distributionEnabled?: boolean;
  /** Heartbeat period of agent streams (default 5). */
  readonly heartbeatSeconds?: number;
  /** Lifetime of a relay CA the server creates (default 365 d). */
  readonly caValidityMs?: number;
  /** DNS names / IPs of the server certificate (default: loopback and the Service names). */
  readonly serverSans?: readonly string[];
  /**
   * The address agents dial (a Service or load balancer), announced on the Lease so `relayctl
   * register` finds one address for every replica (default: this replica's pod IP and port).
   */
  readonly agentAddress?: string;
  readonly serverCertValidityMs?: number;
  readonly agentCertValidityMs?: number;
  /** Hardening limits of the gRPC edge (docs/security.md); defaults in mgmt-server/src/limits. */
  readonly limits?: {
    readonly maxStreamsPerCluster?: number;
    readonly streamMessagesPerSecond?: number;
    readonly streamMessageBurst?: number;
    readonly maxRefusalsPerMinute?: number;
    readonly maxConnectionsPerAddress?: number;
    readonly maxConnections?: number;
    readonly statusWritesPerSecond?: number;
  };
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface MgmtServer {
  readonly grpcPort: number;
  /** PEM certificate the gRPC endpoint presents now (changes on re-issue). */
  readonly serverCertificatePem: () => string;
  /** The relay CA bundle in force (what agents must trust). */
  readonly caBundlePem: () => string;
  readonly httpPort: number;
  /** The dashboard's port, when it is on. */
  readonly dashboardPort: number | undefined;
  /** Resolves once every informer has synced and the first desired state is published. */
  readonly ready: Promise<void>;
  /** Graceful stop: streams end with UNAVAILABLE, status says disconnected, the Lease goes. */
  stop(): Promise<void>;
}
