import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { labBinDir } from './paths.js';
import { createCa, createSigningKey, issueCert } from './pki.js';
import { freePort } from './ports.js';
import { isOurProcess, type Lifetime, readPidFile, startProcess, stopByPidFile } from './processes.js';

// One lab cluster's processes and files: its PKI, etcd and kube-apiserver started and waited for,
// their status, and the state the lab records about them.

export const clusterDir = (dir: string, name: string) => join(dir, name);
export const pkiFile = (dir: string, name: string, file: string) => join(clusterDir(dir, name), 'pki', file);

/** What the lab records in `<dir>/lab.json` so other processes (test workers, `lab down`) can find it. */
export interface LabState {
  readonly k8sVersion: string;
  readonly lifetime: Lifetime;
  readonly startedAt: string;
  readonly clusters: readonly ClusterState[];
}

export interface ClusterState {
  readonly name: string;
  readonly apiPort: number;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  /** The Gateway API release whose CRDs the cluster got (absent: none installed). */
  readonly gatewayApiVersion?: string;
}

export interface StartClusterOptions {
  readonly dir: string;
  readonly name: string;
  readonly lifetime: Lifetime;
  readonly readyTimeoutMs: number;
  readonly onProgress: (message: string) => void;
}

export async function startCluster(options: StartClusterOptions): Promise<ClusterState> {
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

export async function startEtcd(options: {
  dir: string;
  cluster: ClusterState;
  lifetime: Lifetime;
}): Promise<void> {
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

export async function startApiServerProcess(options: {
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

export async function etcdPost(etcdUrl: string, path: string, body: unknown): Promise<unknown> {
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

export function processStatus(pidFile: string): ProcessStatus {
  const entry = readPidFile(pidFile);
  if (!entry || !isOurProcess(entry.pid, entry.binary)) return { running: false };
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${entry.pid}/status`, 'utf8'))?.[1];
  return rss ? { running: true, rssMiB: Math.round(Number(rss) / 1024) } : { running: true };
}
