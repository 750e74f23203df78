import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, type AgentOptions, startAgent } from '@kuberelay/agent';
import { type MgmtServer, type MgmtServerOptions, startMgmtServer } from '@kuberelay/mgmt-server';
import {
  DEFAULT_RELAY_NAMESPACE,
  generateAgentToken,
  hashAgentToken,
  KUBERNETES_CLUSTER,
  type KubernetesClusterStatus,
  RegistrationLabel,
  TOKEN_SECRET_HASH_KEY,
  TOKEN_SECRET_TYPE,
  tokenSecretName,
} from '@kuberelay/shared';
import { isNotFound, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { type Lab, startLab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import { createOrReplace, type Obj, pathOf } from './objects.js';

export const MGMT = 'mgmt';
/** The silent logger tests use; set RELAY_TEST_LOG=debug to see everything. */
export const testLogger = pino({ level: process.env.RELAY_TEST_LOG ?? 'silent' });

export interface RelayFixtureOptions {
  /** Names this file's lab (`.lab/e2e-<name>`). */
  readonly name: string;
  /** Workload clusters (the management cluster `mgmt` is always there). */
  readonly workloads?: readonly string[];
  /** Register and start an agent for each workload (default true). */
  readonly connect?: boolean;
  readonly server?: Partial<MgmtServerOptions>;
}

/**
 * One fresh lab per test file (management cluster `mgmt` plus workloads), the management server
 * and one agent per workload cluster, in this process, talking over real gRPC sockets to real
 * kube-apiservers.
 */
export class RelayFixture {
  readonly lab: Lab;
  readonly mgmt: KubeRest;
  readonly namespace = DEFAULT_RELAY_NAMESPACE;
  server: MgmtServer | undefined;
  readonly agents = new Map<string, Agent>();
  readonly tokens = new Map<string, string>();
  readonly #stateDir = mkdtempSync(join(tmpdir(), 'kuberelay-e2e-'));
  readonly #serverDefaults: Partial<MgmtServerOptions>;

  private constructor(lab: Lab, serverDefaults: Partial<MgmtServerOptions>) {
    this.lab = lab;
    this.mgmt = new KubeRest(lab.kubeConfig(MGMT));
    this.#serverDefaults = serverDefaults;
  }

  static async start(options: RelayFixtureOptions): Promise<RelayFixture> {
    const workloads = options.workloads ?? ['cluster-1', 'cluster-2'];
    const lab = await startLab({
      dir: join(repoRoot, '.lab', `e2e-${options.name}`),
      clusters: [MGMT, ...workloads],
    });
    const fixture = new RelayFixture(lab, options.server ?? {});
    await fixture.startServer();
    if (options.connect ?? true) {
      for (const cluster of workloads) {
        await fixture.register(cluster);
        await fixture.startAgent(cluster);
      }
    }
    return fixture;
  }

  workload(cluster: string): KubeRest {
    return new KubeRest(this.lab.kubeConfig(cluster));
  }

  /** Where agents dial: the server's port, also while it is stopped for a restart. */
  get serverAddress(): string {
    if (this.#grpcPort === undefined) throw new Error('the server has not been started');
    return `127.0.0.1:${this.#grpcPort}`;
  }

  /** The gRPC port of the first start; a restarted server listens there again, as a Service would. */
  #grpcPort: number | undefined;

  async startServer(overrides: Partial<MgmtServerOptions> = {}): Promise<MgmtServer> {
    const server = await startMgmtServer({
      kubeConfig: this.lab.kubeConfig(MGMT),
      clusterName: MGMT,
      namespace: this.namespace,
      podName: 'mgmt-server-0',
      grpcListen: `127.0.0.1:${this.#grpcPort ?? 0}`,
      httpListen: '127.0.0.1:0',
      logger: testLogger,
      heartbeatSeconds: 1,
      ...this.#serverDefaults,
      ...overrides,
    });
    await server.ready;
    this.#grpcPort = server.grpcPort;
    this.server = server;
    return server;
  }

  async stopServer(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  /** Registers a cluster as relayctl does: the KubernetesCluster and a hashed token Secret. */
  async register(cluster: string): Promise<string> {
    const token = generateAgentToken();
    await createOrReplace(this.mgmt, {
      apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
      kind: KUBERNETES_CLUSTER.kind,
      metadata: { name: cluster, namespace: this.namespace },
      spec: {},
    });
    await createOrReplace(this.mgmt, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: tokenSecretName(cluster),
        namespace: this.namespace,
        labels: { [RegistrationLabel.cluster]: cluster },
      },
      type: TOKEN_SECRET_TYPE,
      stringData: { [TOKEN_SECRET_HASH_KEY]: hashAgentToken(token) },
    });
    this.tokens.set(cluster, token);
    return token;
  }

  stateFile(cluster: string): string {
    return join(this.#stateDir, `${cluster}.json`);
  }

  async startAgent(cluster: string, overrides: Partial<AgentOptions> = {}): Promise<Agent> {
    const token = this.tokens.get(cluster);
    if (!token) throw new Error(`${cluster} is not registered`);
    const agent = await startAgent({
      kubeConfig: this.lab.kubeConfig(cluster),
      cluster,
      serverAddress: overrides.serverAddress ?? this.serverAddress,
      token,
      stateFile: this.stateFile(cluster),
      httpListen: '127.0.0.1:0',
      podName: `agent-${cluster}`,
      logger: testLogger,
      ...overrides,
    });
    this.agents.set(cluster, agent);
    return agent;
  }

  async stopAgent(cluster: string): Promise<void> {
    await this.agents.get(cluster)?.stop();
    this.agents.delete(cluster);
  }

  /** Creates or replaces a source object in the management cluster. */
  async apply(obj: Obj): Promise<Obj> {
    return createOrReplace(this.mgmt, obj);
  }

  async remove(obj: Obj): Promise<void> {
    await this.mgmt
      .request({ method: 'DELETE', path: pathOf({ ...obj, ...obj.metadata }) })
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  }

  /** The live object in a cluster, or undefined. */
  async get(
    cluster: string,
    o: { apiVersion: string; kind: string; namespace?: string; name: string },
  ): Promise<Obj | undefined> {
    const rest = cluster === MGMT ? this.mgmt : this.workload(cluster);
    return rest.request<Obj>({ method: 'GET', path: pathOf(o) }).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  }

  /** Waits until `check` accepts the live object (undefined = absent), failing with the last one seen. */
  async waitFor(
    cluster: string,
    o: { apiVersion: string; kind: string; namespace?: string; name: string },
    check: (live: Obj | undefined) => boolean,
    timeoutMs = 10_000,
  ): Promise<Obj | undefined> {
    const deadline = Date.now() + timeoutMs;
    let live: Obj | undefined;
    for (;;) {
      live = await this.get(cluster, o);
      if (check(live)) return live;
      if (Date.now() > deadline) {
        throw new Error(
          `${cluster}: ${o.kind} ${o.namespace ?? ''}/${o.name} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(live)?.slice(0, 600)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async clusterStatus(cluster: string): Promise<KubernetesClusterStatus | undefined> {
    const kc = await this.mgmt.request<{ status?: KubernetesClusterStatus }>({
      method: 'GET',
      path: resourcePath({ ...KUBERNETES_CLUSTER, namespace: this.namespace, name: cluster }),
    });
    return kc.status;
  }

  /** Events recorded on a source object in the management cluster. */
  async eventsFor(o: {
    kind: string;
    namespace?: string;
    name: string;
  }): Promise<{ reason: string; message: string; type: string }[]> {
    const list = await this.mgmt.request<{ items: { reason: string; message: string; type: string }[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${o.namespace ?? 'default'}/events`,
      query: { fieldSelector: `involvedObject.kind=${o.kind},involvedObject.name=${o.name}` },
    });
    return list.items;
  }

  async stop(): Promise<void> {
    for (const cluster of [...this.agents.keys()]) await this.stopAgent(cluster);
    await this.stopServer();
    await this.lab.stop();
    rmSync(this.#stateDir, { recursive: true, force: true });
  }
}

export { createOrReplace, type Obj, pathOf, resourceVersions } from './objects.js';
