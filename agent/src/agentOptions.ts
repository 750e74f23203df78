import type { Clock, KindInfo, Logger } from '@kuberelay/shared';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DialStream } from './connection/relayStream.js';
import type { AgentIdentity } from './identity/agentIdentity.js';
import type { LeaderElectionSettings } from './leader/replicaGroup.js';

// The programmatic contract of startAgent (agent.ts): what a caller passes and gets back.

export interface AgentOptions {
  /** The workload cluster the agent writes copies to. */
  readonly kubeConfig: KubeConfig;
  /** This workload cluster's registered name. */
  readonly cluster: string;
  /** The management server, `host:port`. */
  readonly serverAddress: string;
  /**
   * The agent's credentials: its client certificate (mutual TLS), bootstrapping one first if it
   * has only a bootstrap token, renewing it, and storing all of it (docs/design.md, "Mutual TLS").
   */
  readonly identity?: AgentIdentity;
  /**
   * The management cluster's name. Learned from Welcome when absent; the state file's is used
   * before the first connection, so saved copies can be enforced while the server is away.
   */
  readonly mgmtCluster?: string;
  readonly stateFile: string;
  /** Default `127.0.0.1:0`. */
  readonly httpListen?: string;
  readonly podName?: string;
  /** Plurals and scopes of the kinds the agent watches and writes. Default DEFAULT_KINDS. */
  readonly kinds?: readonly KindInfo[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Tests only: how to open a stream (default: gRPC to serverAddress). */
  readonly dial?: DialStream;
  /** How often every copy is re-checked without an event. Default 5 minutes. */
  readonly resyncIntervalMs?: number;
  /**
   * Several replicas of this agent run for the cluster: only the elected one writes, connects and
   * enforces anything (docs/design.md "Agent replicas"). Absent: this process is the only replica.
   */
  readonly leaderElection?: LeaderElectionSettings & {
    /**
     * Reads the credentials again when this replica becomes the leader: while it stood by, the
     * leader may have bootstrapped (used the one-time token) or renewed the certificate.
     */
    readonly reloadIdentity?: () => Promise<AgentIdentity>;
  };
}

export interface Agent {
  /** The port of /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  /** A stream to the management server is open and welcomed. */
  connected(): boolean;
  /** The last version acknowledged (0: none). */
  ackedVersion(): number;
  /** This replica leads (always true without leader election once started). */
  leading(): boolean;
  /**
   * Resolves with the reason when this replica led and lost the leadership: it has stopped
   * writing and connecting, and never writes again. The caller stops it and starts a new agent
   * to stand by again (main.ts). Never resolves without leader election.
   */
  readonly leadershipLost: Promise<string>;
  /** Stops watching, streaming and serving. Deletes nothing: copies stay as they are. */
  stop(): Promise<void>;
}
