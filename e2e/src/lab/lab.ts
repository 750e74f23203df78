import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { createNamespaces, installCrds } from './crds.js';
import { DEFAULT_GATEWAY_API_VERSION, ensureGatewayApiCrds, gatewayApiVersionsFor } from './gatewayApi.js';
import { crdDir, defaultLabDir, glooCrdFixtureDir, k8sVersion, labBinDir } from './paths.js';
import { createCa, createSigningKey, issueCert, type Pem } from './pki.js';
import { freePort } from './ports.js';
import {
  isOurProcess,
  type Lifetime,
  pidFilesUnder,
  readPidFile,
  startProcess,
  stopByPidFile,
} from './processes.js';

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

/** What the lab records in `<dir>/lab.json` so other processes (test workers, `lab down`) can find it. */
interface LabState {
  readonly k8sVersion: string;
  readonly lifetime: Lifetime;
  readonly startedAt: string;
  readonly clusters: readonly ClusterState[];
}

interface ClusterState {
  readonly name: string;
  readonly apiPort: number;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  /** The Gateway API release whose CRDs the cluster got (absent: none installed). */
  readonly gatewayApiVersion?: string;
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
const clusterDir = (dir: string, name: string) => join(dir, name);
const pkiFile = (dir: string, name: string, file: string) => join(clusterDir(dir, name), 'pki', file);

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

interface StartClusterOptions {
  readonly dir: string;
  readonly name: string;
  readonly lifetime: Lifetime;
  readonly readyTimeoutMs: number;
  readonly onProgress: (message: string) => void;
}

async function startCluster(options: StartClusterOptions): Promise<ClusterState> {
  const { dir, name } = options;
  const cdir = clusterDir(dir, name);
  mkdirSync(join(cdir, 'pki'), { recursive: true });
  await writePki(dir, name);

  // A port can be taken between our probe and the bind: retry with fresh ports.
  for (let attempt = 1; ; attempt++) {
    const cluster: ClusterState = {
      name,
      apiPort: await freePort(),
      etcdPort: await freePort(),
      etcdPeerPort: await freePort(),
    };
    try {
      await startEtcd({ dir, cluster, lifetime: options.lifetime });
      await startApiServerProcess({ ...options, cluster });
      return cluster;
    } catch (error) {
      await stopLabDirCluster(cdir);
      if (attempt >= 3 || !String(error).includes('address already in use')) throw error;
      options.onProgress(`${name}: a port was taken, retrying with new ports`);
    }
  }
}

async function stopLabDirCluster(cdir: string): Promise<void> {
  for (const file of ['kube-apiserver.pid', 'etcd.pid']) await stopByPidFile(join(cdir, file));
}

async function writePki(dir: string, name: string): Promise<void> {
  const ca = await createCa(`${name}-ca`);
  const serving = await issueCert({
    ca,
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
  });
  const admin = await issueCert({
    ca,
    commonName: 'lab-admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const sa = await createSigningKey();
  const files: Record<string, string> = {
    'ca.crt': ca.cert,
    'ca.key': ca.key,
    'apiserver.crt': serving.cert,
    'apiserver.key': serving.key,
    'admin.crt': admin.cert,
    'admin.key': admin.key,
    'sa.pub': sa.publicKey,
    'sa.key': sa.privateKey,
  };
  for (const [file, content] of Object.entries(files))
    writeFileSync(pkiFile(dir, name, file), content, { mode: 0o600 });
}

async function startEtcd(options: { dir: string; cluster: ClusterState; lifetime: Lifetime }): Promise<void> {
  const { dir, cluster } = options;
  const cdir = clusterDir(dir, cluster.name);
  const client = `http://127.0.0.1:${cluster.etcdPort}`;
  const peer = `http://127.0.0.1:${cluster.etcdPeerPort}`;
  const proc = startProcess({
    name: `${cluster.name}/etcd`,
    command: join(labBinDir(), 'etcd'),
    args: [
      `--name=${cluster.name}`,
      `--data-dir=${join(cdir, 'etcd-data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${cluster.name}=${peer}`,
      // A lab cluster's data is disposable; skipping fsync makes every write several times faster.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    logFile: join(cdir, 'etcd.log'),
    pidFile: join(cdir, 'etcd.pid'),
    lifetime: options.lifetime,
  });
  await waitFor({
    what: `${cluster.name}: etcd on ${client}`,
    timeoutMs: 30_000,
    exited: () => !proc.isRunning(),
    logFile: join(cdir, 'etcd.log'),
    check: async () => {
      const res = await fetch(`${client}/health`).catch(() => undefined);
      return res?.ok === true;
    },
  });
}

async function startApiServerProcess(options: {
  dir: string;
  cluster: ClusterState;
  lifetime: Lifetime;
  readyTimeoutMs?: number;
  onProgress?: ((message: string) => void) | undefined;
}): Promise<void> {
  const { dir, cluster } = options;
  const cdir = clusterDir(dir, cluster.name);
  const pki = (f: string) => pkiFile(dir, cluster.name, f);
  const started = Date.now();
  const proc = startProcess({
    name: `${cluster.name}/kube-apiserver`,
    command: join(labBinDir(), 'kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${cluster.etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${cluster.apiPort}`,
      `--cert-dir=${join(cdir, 'pki')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--client-ca-file=${pki('ca.crt')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      // No controller manager runs in the lab, so nothing would mint service-account tokens.
      '--disable-admission-plugins=ServiceAccount',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      // Tests compact etcd themselves (to provoke 410 Gone); the API server must not do it behind them.
      '--etcd-compaction-interval=0',
      '--v=0',
    ],
    logFile: join(cdir, 'kube-apiserver.log'),
    pidFile: join(cdir, 'kube-apiserver.pid'),
    lifetime: options.lifetime,
  });
  const ca = readFileSync(pki('ca.crt'));
  const cert = readFileSync(pki('admin.crt'));
  const key = readFileSync(pki('admin.key'));
  await waitFor({
    what: `${cluster.name}: kube-apiserver /readyz on https://127.0.0.1:${cluster.apiPort}`,
    timeoutMs: options.readyTimeoutMs ?? 90_000,
    exited: () => !proc.isRunning(),
    logFile: join(cdir, 'kube-apiserver.log'),
    onProgress: options.onProgress,
    check: () => httpsOk({ port: cluster.apiPort, path: '/readyz', ca, cert, key }),
  });
  options.onProgress?.(
    `${cluster.name}: kube-apiserver ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Polls `check` until true; fails fast with the log's tail if the process exits; says what it waits for. */
async function waitFor(options: {
  what: string;
  timeoutMs: number;
  exited: () => boolean;
  logFile: string;
  check: () => Promise<boolean>;
  onProgress?: ((message: string) => void) | undefined;
}): Promise<void> {
  const start = Date.now();
  let lastReport = start;
  for (;;) {
    if (await options.check()) return;
    const waited = Date.now() - start;
    if (options.exited()) {
      throw new Error(
        `${options.what}: the process exited. Last lines of ${options.logFile}:\n${tail(options.logFile)}`,
      );
    }
    if (waited > options.timeoutMs) {
      throw new Error(
        `${options.what}: not ready after ${options.timeoutMs / 1000} s. Last lines of ${options.logFile}:\n${tail(options.logFile)}`,
      );
    }
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      options.onProgress?.(`waiting for ${options.what} (${Math.round(waited / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function httpsOk(options: {
  port: number;
  path: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function etcdPost(etcdUrl: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`etcd ${path} failed (${res.status}): ${JSON.stringify(json)}`);
  return json;
}

export interface ProcessStatus {
  readonly running: boolean;
  /** Resident memory in MiB, when running. */
  readonly rssMiB?: number;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly server: string;
  /** The Gateway API release of the cluster's CRDs, when the lab installed them. */
  readonly gatewayApiVersion?: string;
  readonly etcd: ProcessStatus;
  readonly apiserver: ProcessStatus;
}

function processStatus(pidFile: string): ProcessStatus {
  const entry = readPidFile(pidFile);
  if (!entry || !isOurProcess(entry.pid, entry.binary)) return { running: false };
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${entry.pid}/status`, 'utf8'))?.[1];
  return rss ? { running: true, rssMiB: Math.round(Number(rss) / 1024) } : { running: true };
}

function readPem(certFile: string, keyFile: string): Pem {
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

interface KubeconfigEntry {
  readonly name: string;
  readonly server: string;
  readonly ca: string;
  readonly user: string;
  readonly client: Pem;
}

function kubeconfigDocument(entries: readonly KubeconfigEntry[]): Record<string, unknown> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': entries[0]?.name,
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: { server: e.server, 'certificate-authority-data': b64(e.ca) },
    })),
    users: entries.map((e) => ({
      name: `${e.name}-${e.user}`,
      user: { 'client-certificate-data': b64(e.client.cert), 'client-key-data': b64(e.client.key) },
    })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: { cluster: e.name, user: `${e.name}-${e.user}` },
    })),
  };
}

function writeKubeconfig(dir: string, clusters: readonly ClusterState[]): void {
  const entries = clusters.map((c) => ({
    name: c.name,
    server: `https://127.0.0.1:${c.apiPort}`,
    ca: readFileSync(pkiFile(dir, c.name, 'ca.crt'), 'utf8'),
    user: 'admin',
    client: readPem(pkiFile(dir, c.name, 'admin.crt'), pkiFile(dir, c.name, 'admin.key')),
  }));
  writeFileSync(join(dir, 'kubeconfig'), stringify(kubeconfigDocument(entries)), { mode: 0o600 });
}
