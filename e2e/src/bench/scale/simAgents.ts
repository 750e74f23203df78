import { callBootstrap, createRelayDialer, RelaySession, type SessionHandler } from '@kuberelay/agent';
import { CopyOutcome, DigestFormat, type VersionContent } from '@kuberelay/proto';
import {
  createLogger,
  issueBootstrapToken,
  KUBERNETES_CLUSTER,
  stateDigest,
  systemClock,
} from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { createCsr } from '@kuberelay/shared/pki';
import { inParallel } from '../../support/inParallel.js';

// Simulated agents for the scale benchmark: each is registered the way relayctl registers a
// cluster (a KubernetesCluster and a one-time bootstrap token), gets its client certificate through
// the real Bootstrap RPC, and runs the agent's own RelaySession over its own mutual-TLS channel.
// The only thing left out is Kubernetes: a version is "applied" the moment it is assembled and
// its digest verified, and acknowledged at once, so what is measured is the relay.

export interface SimAgent {
  readonly cluster: string;
  /** Copies held now: key → hash. */
  readonly held: ReadonlyMap<string, string>;
  /** When each welcomed stream of this agent ended (performance.now()): drops, or a restart. */
  readonly ended: readonly number[];
  readonly versions: number;
}

export interface Fleet {
  readonly agents: readonly SimAgent[];
  /** Called on every acknowledged version, with the agent and the time (performance.now()). */
  onAck(listener: (agent: SimAgent, manifests: ReadonlyMap<string, Uint8Array>, at: number) => void): void;
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly count: number;
  /** Offset of the first cluster's number, so fleets of several sizes can share a server. */
  readonly first: number;
  readonly mgmt: KubeRest;
  readonly namespace: string;
  readonly serverAddress: string;
  readonly caPem: string;
  readonly onProgress: (message: string) => void;
}

export const simClusterName = (i: number) => `sim-${String(i).padStart(5, '0')}`;

/** Registers `count` clusters: what `relayctl register` writes for each. Returns their tokens. */
async function register(options: FleetOptions): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const names = Array.from({ length: options.count }, (_, i) => simClusterName(options.first + i));
  await inParallel(names, 16, async (cluster) => {
    const created = await options.mgmt.request<{ metadata: { uid: string } }>({
      method: 'POST',
      path: `/apis/${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}/namespaces/${options.namespace}/${KUBERNETES_CLUSTER.plural}`,
      body: {
        apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
        kind: KUBERNETES_CLUSTER.kind,
        metadata: {
          name: cluster,
          namespace: options.namespace,
          labels: { 'app.kubernetes.io/managed-by': 'relayctl' },
        },
        spec: {},
      },
    });
    const { token, secret } = issueBootstrapToken({
      cluster,
      namespace: options.namespace,
      clusterUid: created.metadata.uid,
      issuedAt: new Date(),
      ttlMs: 3_600_000,
    });
    await options.mgmt.request({
      method: 'POST',
      path: `/api/v1/namespaces/${options.namespace}/secrets`,
      body: secret,
    });
    tokens.set(cluster, token);
  });
  return tokens;
}

/** Registers, bootstraps and connects `count` simulated agents; resolves once every one is welcomed. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const say = options.onProgress;
  const started = performance.now();
  const tokens = await register(options);
  say(`registered ${tokens.size} clusters in ${Math.round(performance.now() - started)} ms`);
  const abort = new AbortController();
  const logger = createLogger({ name: 'sim-agent', level: 'silent' });
  const listeners: ((agent: SimAgent, manifests: ReadonlyMap<string, Uint8Array>, at: number) => void)[] = [];
  const agents: (SimAgent & { held: Map<string, string> })[] = [];
  const runs: Promise<void>[] = [];
  const welcomed = new Set<string>();
  const bootStarted = performance.now();
  await inParallel([...tokens], 16, async ([cluster, token]) => {
    const { csrPem, keyPem } = await createCsr({ commonName: cluster });
    // The server serves Bootstrap once its registration view has the cluster: retry until then.
    let certificatePem = '';
    let caBundlePem = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await callBootstrap({
          serverAddress: options.serverAddress,
          caPem: options.caPem,
          request: { cluster, token, csrPem },
          signal: abort.signal,
        });
        certificatePem = response.certificatePem;
        caBundlePem = response.caBundlePem;
        break;
      } catch (error) {
        if (attempt >= 30) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const agent = { cluster, held: new Map<string, string>(), ended: [] as number[], versions: 0 };
    agents.push(agent);
    const dialer = createRelayDialer({
      serverAddress: options.serverAddress,
      credentials: () => ({
        generation: 1,
        auth: { kind: 'mtls', material: { caPem: caBundlePem, certPem: certificatePem, keyPem } },
      }),
    });
    let haveVersion = 0;
    const handler: SessionHandler = {
      hello: () => ({
        cluster,
        agentVersion: 'sim',
        agentPod: `sim-agent-${cluster}`,
        haveVersion,
        have: [...agent.held].map(([key, hash]) => ({ key, hash })),
        digestFormats: [DigestFormat.DIGEST_FORMAT_ENTRY_SUM],
        features: [],
      }),
      onWelcome: () => {
        welcomed.add(cluster);
      },
      applyVersion: async (version: VersionContent) => {
        const next = new Map(version.replace ? [] : agent.held);
        for (const key of version.removes) next.delete(key);
        const manifests = new Map<string, Uint8Array>();
        for (const copy of version.upserts) {
          next.set(copy.key, copy.hash);
          manifests.set(copy.key, copy.manifest);
        }
        const digest = stateDigest(
          new Map([...next].map(([key, hash]) => [key, { key, hash, overwrite: false }])),
        );
        agent.held.clear();
        for (const [key, hash] of next) agent.held.set(key, hash);
        haveVersion = version.version;
        agent.versions += 1;
        const at = performance.now();
        for (const listener of listeners) listener(agent, manifests, at);
        return {
          $case: 'ack',
          value: {
            version: version.version,
            digest,
            results: [...next].map(([key, hash]) => ({
              key,
              hash,
              outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
              code: '',
              message: '',
            })),
          },
        };
      },
    };
    runs.push(
      (async () => {
        while (!abort.signal.aborted) {
          const session = new RelaySession({
            stream: dialer.dial(),
            handler,
            clock: systemClock,
            logger,
            signal: abort.signal,
          });
          await session.run().catch(() => {});
          // A dial that never got its Welcome (the server down or not ready) is a retry, not a drop.
          if (session.welcomed && !abort.signal.aborted) agent.ended.push(performance.now());
          if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 500 + Math.random() * 1_500));
        }
        dialer.close();
      })(),
    );
  });
  say(`bootstrapped ${agents.length} agents in ${Math.round(performance.now() - bootStarted)} ms`);
  const deadline = performance.now() + 120_000;
  while (welcomed.size < agents.length) {
    if (performance.now() > deadline)
      throw new Error(`only ${welcomed.size} of ${agents.length} agents were welcomed within 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`all ${agents.length} agents connected ${Math.round(performance.now() - started)} ms after the start`);
  return {
    agents,
    onAck: (listener) => {
      listeners.push(listener);
    },
    stop: async () => {
      abort.abort();
      await Promise.all(runs);
    },
  };
}
