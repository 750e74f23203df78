import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type ClusterState,
  type ClusterStatus,
  clusterDir,
  etcdPost,
  type LabState,
  pkiFile,
  processStatus,
  startApiServerProcess,
  startCluster,
} from './clusterProcesses.js';
import { createNamespaces, installCrds } from './crds.js';
import { DEFAULT_GATEWAY_API_VERSION, ensureGatewayApiCrds, gatewayApiVersionsFor } from './gatewayApi.js';
import { kubeconfigDocument, readPem, writeKubeconfig } from './kubeconfigFile.js';
import { crdDir, defaultLabDir, glooCrdFixtureDir, k8sVersion, labBinDir } from './paths.js';
import { issueCert } from './pki.js';
import { type Lifetime, pidFilesUnder, stopByPidFile } from './processes.js';

export type { ClusterStatus, ProcessStatus } from './clusterProcesses.js';
export { DEFAULT_GATEWAY_API_VERSION } from './gatewayApi.js';

export const DEFAULT_CLUSTERS = ['mgmt', 'cluster-1', 'cluster-2'] as const;
export const DEFAULT_NAMESPACES = ['gloo-mesh', 'gloo-system', 'httpbin'] as const;

export interface LabOptions {
  /** Cluster names; each becomes a kubeconfig context of the same name. */
  readonly clusters?: readonly string[];
  /** The lab's folder (kubeconfig, PKI, etcd data, logs, pid files). Default: `<repo>/.lab`. */
  readonly dir?: string;
  /** `attached` (tests): processes die with us. `detached` (`lab up`): they outlive us. */
  readonly lifetime?: Lifetime;
  /**
   * Install CRDs into every cluster (default true): the real Gateway API CRDs (standard channel,
   * fetched and cached, see e2e/tools/fetch-gateway-api-crds.sh), the Gloo kinds' test fixtures
   * (e2e/fixtures/crds) and the product's own (deploy/crds).
   */
  readonly installCrds?: boolean;
  /**
   * The Gateway API release per cluster name, e.g. `{ 'cluster-2': 'v1.1.0' }`; clusters not named
   * get {@link DEFAULT_GATEWAY_API_VERSION}. A version not cached yet is fetched first.
   */
  readonly gatewayApiVersions?: Readonly<Record<string, string>>;
  /** Give up on the CRDs when none has made progress for this long (default 120 s). */
  readonly crdStallTimeoutMs?: number;
  readonly namespaces?: readonly string[];
  readonly onProgress?: (message: string) => void;
  /** How long one API server may take to become ready before we give up (default 90 s). */
  readonly readyTimeoutMs?: number;
}

/** One lab cluster: an etcd and a kube-apiserver, no nodes. */
export interface LabCluster {
  readonly name: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly etcdUrl: string;
  readonly dir: string;
}

export interface IdentityOptions {
  readonly cluster: string;
  /** The user name Kubernetes sees (the certificate's CN). */
  readonly user: string;
  /** Groups (the certificate's O); rights come only from RBAC bound to these or the user. */
  readonly groups?: readonly string[];
}

const labStateFile = (dir: string) => join(dir, 'lab.json');

/** A running lab. Obtain one with {@link startLab} or, from another process, {@link attachLab}. */
export class Lab {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly #state: LabState;

  private constructor(dir: string, state: LabState) {
    this.dir = dir;
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.#state = state;
  }

  /** @internal used by startLab and attachLab */
  static fromState(dir: string, state: LabState): Lab {
    return new Lab(dir, state);
  }

  get clusterNames(): string[] {
    return this.#state.clusters.map((c) => c.name);
  }

  cluster(name: string): LabCluster {
    const c = this.#clusterState(name);
    return {
      name,
      server: `https://127.0.0.1:${c.apiPort}`,
      etcdUrl: `http://127.0.0.1:${c.etcdPort}`,
      dir: clusterDir(this.dir, name),
    };
  }

  /** The Gateway API release whose standard CRDs the cluster has; undefined when none were installed. */
  gatewayApiVersion(cluster: string): string | undefined {
    return this.#clusterState(cluster).gatewayApiVersion;
  }

  /** An admin (system:masters) KubeConfig for one cluster, with its context current. */
  kubeConfig(cluster: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    kc.setCurrentContext(cluster);
    return kc;
  }

  /**
   * Mints a client certificate for `user` (groups from `groups`) signed by the cluster's CA and
   * returns a KubeConfig for it. Without RBAC bindings this identity can do nothing, which is what
   * least-privilege tests need.
   */
  async mintIdentity(options: IdentityOptions): Promise<KubeConfig> {
    const { dir } = this;
    const ca = readPem(pkiFile(dir, options.cluster, 'ca.crt'), pkiFile(dir, options.cluster, 'ca.key'));
    const pem = await issueCert({
      ca,
      commonName: options.user,
      organizations: options.groups ?? [],
      usage: 'client',
    });
    const kc = new KubeConfig();
    kc.loadFromString(
      JSON.stringify(
        kubeconfigDocument([
          { ...this.cluster(options.cluster), ca: ca.cert, user: options.user, client: pem },
        ]),
      ),
    );
    return kc;
  }

  /**
   * Mints an identity (as {@link mintIdentity}) and writes its kubeconfig to
   * `<dir>/identities/<cluster>-<user>.kubeconfig` (mode 0600), for programs started with
   * `--kubeconfig`. Its one context is named after the cluster, like the admin kubeconfig's.
   * Returns the file's path.
   */
  async writeIdentityKubeconfig(options: IdentityOptions): Promise<string> {
    const kc = await this.mintIdentity(options);
    const folder = join(this.dir, 'identities');
    mkdirSync(folder, { recursive: true });
    const file = join(
      folder,
      `${options.cluster}-${options.user.replace(/[^A-Za-z0-9.-]/g, '_')}.kubeconfig`,
    );
    writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
    return file;
  }

  /** Stops one cluster's kube-apiserver (etcd and its data stay), to simulate an outage. */
  async stopApiServer(cluster: string): Promise<void> {
    await stopByPidFile(join(clusterDir(this.dir, cluster), 'kube-apiserver.pid'));
  }

  /**
   * Starts one cluster's kube-apiserver again on the same port. It is started detached, because
   * the caller may be a short-lived test worker; `stop()` and the next lab start end it.
   */
  async startApiServer(cluster: string, options: { onProgress?: (m: string) => void } = {}): Promise<void> {
    const c = this.#clusterState(cluster);
    await startApiServerProcess({
      dir: this.dir,
      cluster: c,
      lifetime: 'detached',
      onProgress: options.onProgress,
    });
  }

  /** Compacts the cluster's etcd at its current revision, so older resourceVersions are gone. */
  async compactEtcd(cluster: string): Promise<number> {
    const { etcdUrl } = this.cluster(cluster);
    const range = await etcdPost(etcdUrl, '/v3/kv/range', { key: Buffer.from('/').toString('base64') });
    const revision = Number((range as { header?: { revision?: string } }).header?.revision);
    if (!Number.isFinite(revision)) throw new Error(`etcd of ${cluster} returned no revision`);
    await etcdPost(etcdUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
    return revision;
  }

  /** Each cluster's processes (from the pid files): alive or not, and resident memory. */
  status(): ClusterStatus[] {
    return this.#state.clusters.map((c) => ({
      cluster: c.name,
      server: `https://127.0.0.1:${c.apiPort}`,
      ...(c.gatewayApiVersion ? { gatewayApiVersion: c.gatewayApiVersion } : {}),
      etcd: processStatus(join(clusterDir(this.dir, c.name), 'etcd.pid')),
      apiserver: processStatus(join(clusterDir(this.dir, c.name), 'kube-apiserver.pid')),
    }));
  }

  /** Stops every process of the lab. Data and logs stay in `dir` until the next start. */
  async stop(): Promise<void> {
    await stopLabDir(this.dir);
  }

  #clusterState(name: string): ClusterState {
    const c = this.#state.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`the lab has no cluster "${name}" (it has: ${this.clusterNames.join(', ')})`);
    return c;
  }
}

/** Reads a lab another process started (e.g. vitest's global setup) from its `lab.json`. */
export function attachLab(dir: string = defaultLabDir): Lab {
  const file = labStateFile(dir);
  if (!existsSync(file)) throw new Error(`no lab in ${dir}: start one with \`pnpm lab up\``);
  return Lab.fromState(dir, JSON.parse(readFileSync(file, 'utf8')) as LabState);
}

/** Stops whatever processes a lab folder's pid files name (a running lab, or one a killed run left). */
export async function stopLabDir(dir: string): Promise<number> {
  // API servers first: they would otherwise log etcd connection errors while etcd goes down.
  const files = pidFilesUnder(dir).sort(
    (a, b) => Number(b.endsWith('kube-apiserver.pid')) - Number(a.endsWith('kube-apiserver.pid')),
  );
  let stopped = 0;
  for (const file of files) if (await stopByPidFile(file)) stopped++;
  return stopped;
}

/**
 * Starts a lab: per cluster, a PKI, an etcd and a kube-apiserver on free loopback ports; then the
 * CRDs and namespaces; then one kubeconfig with a context per cluster at `<dir>/kubeconfig`.
 * Anything a previous run left in `dir` is stopped and removed first.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const dir = options.dir ?? defaultLabDir;
  const names = options.clusters ?? DEFAULT_CLUSTERS;
  const lifetime = options.lifetime ?? 'attached';
  const progress = options.onProgress ?? (() => {});
  validateClusterNames(names);
  const withCrds = options.installCrds ?? true;
  const gatewayApi = gatewayApiVersionsFor(names, options.gatewayApiVersions ?? {});
  checkBinaries();

  const reaped = await stopLabDir(dir);
  if (reaped > 0) progress(`stopped ${reaped} process(es) a previous lab left running in ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const started = Date.now();
  progress(`starting ${names.length} cluster(s): ${names.join(', ')} (kube-apiserver ${k8sVersion()})`);
  // Fetching a Gateway API release that is not cached yet overlaps with the clusters' start.
  const crdDirs = new Map(
    (withCrds ? [...new Set(gatewayApi.values())] : []).map((version) => {
      const fetched = ensureGatewayApiCrds({ version, onProgress: progress });
      fetched.catch(() => {}); // awaited below, once the clusters are up
      return [version, fetched] as const;
    }),
  );
  const startedClusters = await Promise.all(
    names.map((name) =>
      startCluster({
        dir,
        name,
        lifetime,
        readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
        onProgress: progress,
      }),
    ),
  );
  const clusters = startedClusters.map((c) =>
    withCrds ? { ...c, gatewayApiVersion: gatewayApi.get(c.name) ?? DEFAULT_GATEWAY_API_VERSION } : c,
  );
  const state: LabState = {
    k8sVersion: k8sVersion(),
    lifetime,
    startedAt: new Date().toISOString(),
    clusters,
  };
  writeFileSync(labStateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
  writeKubeconfig(dir, clusters);
  const lab = Lab.fromState(dir, state);

  try {
    await Promise.all(
      names.map(async (name) => {
        const kc = lab.kubeConfig(name);
        if (withCrds) {
          const version = gatewayApi.get(name) ?? DEFAULT_GATEWAY_API_VERSION;
          const gatewayApiDir = await crdDirs.get(version);
          if (!gatewayApiDir) throw new Error(`no Gateway API ${version} CRDs for ${name}`);
          const crdsStarted = Date.now();
          const count = await installCrds(kc, [gatewayApiDir, glooCrdFixtureDir, crdDir], {
            label: name,
            onProgress: progress,
            ...(options.crdStallTimeoutMs ? { stallTimeoutMs: options.crdStallTimeoutMs } : {}),
          });
          const took = ((Date.now() - crdsStarted) / 1000).toFixed(1);
          progress(`${name}: ${count} CRDs Established in ${took} s (Gateway API ${version})`);
        }
        await createNamespaces(kc, options.namespaces ?? DEFAULT_NAMESPACES);
      }),
    );
  } catch (error) {
    await lab.stop();
    throw error;
  }
  progress(`lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s; kubeconfig: ${lab.kubeconfigPath}`);
  return lab;
}

function validateClusterNames(names: readonly string[]): void {
  if (names.length === 0) throw new Error('the lab needs at least one cluster');
  for (const name of names) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
      throw new Error(
        `"${name}" is not a valid cluster name (lowercase letters, digits and '-', at most 63)`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`cluster names repeat: ${names.join(', ')}`);
}

function checkBinaries(): void {
  for (const bin of ['etcd', 'kube-apiserver']) {
    if (!existsSync(join(labBinDir(), bin))) {
      throw new Error(
        `${bin} is not built yet (looked in ${labBinDir()}). Run \`./dev setup\` or \`bash e2e/tools/build-lab-binaries.sh\`.`,
      );
    }
  }
}
