import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, type AgentOptions, identityFromSecret, startAgent } from '@kuberelay/agent';
import { type MgmtServer, type MgmtServerOptions, startMgmtServer } from '@kuberelay/mgmt-server';
import { processIo, runRelayctl } from '@kuberelay/mgmt-server/relayctl';
import { DEFAULT_RELAY_NAMESPACE, KUBERNETES_CLUSTER, type KubernetesClusterStatus } from '@kuberelay/shared';
import { isNotFound, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { type Lab, startLab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import { createOrReplace, type Obj, pathOf } from './objects.js';
import { grantAgentIdentity, grantServerIdentity } from './relayIdentities.js';

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
  /**
   * Gateway API release per cluster (e.g. `{ 'cluster-2': 'v1.1.0' }`); others get the lab's
   * default (DEFAULT_GATEWAY_API_VERSION). See LabOptions.gatewayApiVersions.
   */
  readonly gatewayApiVersions?: Readonly<Record<string, string>>;
}

/**
 * One fresh lab per test file (management cluster `mgmt` plus workloads), the management server
 * and one agent per workload cluster, in this process, talking over real gRPC sockets to real
 * kube-apiservers. The server and the agents authenticate as minted users whose only rights are
 * the generated RBAC (shared/src/rbac), never as the lab's admin; the fixture's own reads and
 * writes (`mgmt`, `workload()`) stay admin.
 */
export class RelayFixture {
  readonly lab: Lab;
  readonly mgmt: KubeRest;
  readonly namespace = DEFAULT_RELAY_NAMESPACE;
  server: MgmtServer | undefined;
  readonly agents = new Map<string, Agent>();
  readonly #stateDir = mkdtempSync(join(tmpdir(), 'kuberelay-e2e-'));
  readonly #serverDefaults: Partial<MgmtServerOptions>;
  /** Least-privilege identities, minted once per cluster (RBAC applied on first use). */
  readonly #identities = new Map<string, Promise<KubeConfig>>();

  private constructor(lab: Lab, serverDefaults: Partial<MgmtServerOptions>) {
    this.lab = lab;
    this.mgmt = new KubeRest(lab.kubeConfig(MGMT));
    this.#serverDefaults = serverDefaults;
  }

  /** The KubeConfig the server (`role: server`) or a cluster's agent runs with: generated RBAC only. */
  identity(role: 'server' | 'agent', cluster: string): Promise<KubeConfig> {
    const key = `${role}/${cluster}`;
    let kc = this.#identities.get(key);
    if (kc === undefined) {
      const admin = new KubeRest(this.lab.kubeConfig(cluster));
      const grant =
        role === 'server'
          ? grantServerIdentity({ cluster, admin, namespace: this.namespace })
          : grantAgentIdentity({ cluster, admin, namespace: this.namespace });
      kc = grant.then((identity) => this.lab.mintIdentity(identity));
      this.#identities.set(key, kc);
    }
    return kc;
  }

  static async start(options: RelayFixtureOptions): Promise<RelayFixture> {
    const workloads = options.workloads ?? ['cluster-1', 'cluster-2'];
    const lab = await startLab({
      dir: join(repoRoot, '.lab', `e2e-${options.name}`),
      clusters: [MGMT, ...workloads],
      ...(options.gatewayApiVersions ? { gatewayApiVersions: options.gatewayApiVersions } : {}),
    });
    const fixture = new RelayFixture(lab, options.server ?? {});
    try {
      await fixture.startServer();
      if (options.connect ?? true) {
        for (const cluster of workloads) {
          await fixture.register(cluster);
          await fixture.startAgent(cluster);
        }
      }
    } catch (error) {
      // A half-started fixture would keep the server, agents and lab running, and the test worker
      // alive long after the failure: stop what did start, then report the failure.
      await fixture.stop().catch(() => {});
      throw error;
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
      kubeConfig: await this.identity('server', MGMT),
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

  /**
   * Registers a cluster exactly as a user does: `relayctl register <cluster> --remote-context
   * <cluster>` creates the KubernetesCluster and a one-time bootstrap token, and writes the agent's
   * credentials Secret (token, CA bundle, server address) into the workload cluster. The server
   * must be running (it owns the relay CA).
   */
  async register(cluster: string): Promise<void> {
    const run = await this.relayctl([
      'register',
      cluster,
      `--remote-context=${cluster}`,
      `--server=${this.serverAddress}`,
      `--mgmt-cluster=${MGMT}`,
    ]);
    if (run.code !== 0)
      throw new Error(
        `relayctl register ${cluster} failed (exit ${run.code}): ${run.err.trim()} ${run.out.trim()}`,
      );
  }

  /** Runs relayctl against the management cluster (admin, as an operator would), capturing output. */
  async relayctl(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runRelayctl([...args, `--kubecontext=${MGMT}`, `--namespace=${this.namespace}`], {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
      env: { KUBECONFIG: this.lab.kubeconfigPath, HOME: '/nonexistent' },
      now: () => new Date(),
      // The real probe: check trusts /readyz over the Lease, and the in-process server serves it.
      probeHttp: processIo().probeHttp,
    });
    return { code, out, err };
  }

  stateFile(cluster: string): string {
    return join(this.#stateDir, `${cluster}.json`);
  }

  /**
   * Starts a cluster's agent as its binary does with no credential files: identity from the
   * credentials Secret (bootstrapping a certificate on first start, reusing it afterwards).
   */
  async startAgent(cluster: string, overrides: Partial<AgentOptions> = {}): Promise<Agent> {
    const kubeConfig = await this.identity('agent', cluster);
    const { identity } = await identityFromSecret({
      kubeConfig,
      namespace: this.namespace,
      logger: testLogger,
    });
    const agent = await startAgent({
      kubeConfig,
      cluster,
      serverAddress: overrides.serverAddress ?? this.serverAddress,
      identity,
      mgmtCluster: MGMT,
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
