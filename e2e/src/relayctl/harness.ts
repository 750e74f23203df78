import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runRelayctl } from '@kuberelay/mgmt-server/relayctl';
import { formatKindsAnnotation, type KindInfo, RELAY_CA_SECRET, RelayCaKey } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { createCa } from '@kuberelay/shared/pki';
import type { Lab } from '../lab/lab.js';

// Drives relayctl in-process against the lab, with captured output.

export interface RelayctlRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `relayctl ARGV` with the lab's kubeconfig, as a user would from a shell. */
export async function relayctl(lab: Lab, argv: readonly string[]): Promise<RelayctlRun> {
  let out = '';
  let err = '';
  const code = await runRelayctl(argv, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: { KUBECONFIG: lab.kubeconfigPath, HOME: '/nonexistent' },
    now: () => new Date(),
    probeHttp: async (url) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        return { ok: true, status: res.status };
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    },
  });
  if (process.env.RELAYCTL_E2E_PRINT) {
    process.stderr.write(`$ relayctl ${argv.join(' ')}  (exit ${code})\n${out}${err}\n`);
  }
  return { code, out, err };
}

/**
 * Runs a program as a user's shell would (its own process, real stdout/stderr/exit code) with
 * exactly `env`: nothing of the test runner's environment leaks in.
 */
export async function runProgram(
  file: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<RelayctlRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { ...options, maxBuffer: 8 << 20 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const failed = e as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw e; // not started (ENOENT, EACCES): say so
    return { code: failed.code, out: failed.stdout ?? '', err: failed.stderr ?? '' };
  }
}

export { unique } from '../support/testing.js';

export const rest = (lab: Lab, cluster: string): KubeRest => new KubeRest(lab.kubeConfig(cluster));

export async function createNamespace(kube: KubeRest, name: string): Promise<void> {
  await kube.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
}

/** A Kubernetes MicroTime (RFC 3339 with exactly 6 fractional digits). */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Writes a server presence Lease the way a management server replica does. */
export async function writeServerLease(
  kube: KubeRest,
  options: {
    namespace: string;
    pod: string;
    renewTime: Date;
    grpcAddress?: string;
    httpAddress?: string;
    mgmtCluster?: string;
    /** The server's --kinds (annotation kuberelay.dev/kinds). */
    kinds?: readonly KindInfo[];
  },
): Promise<void> {
  const annotations: Record<string, string> = {};
  if (options.grpcAddress) annotations['kuberelay.dev/grpc-address'] = options.grpcAddress;
  if (options.httpAddress) annotations['kuberelay.dev/http-address'] = options.httpAddress;
  if (options.mgmtCluster) annotations['kuberelay.dev/mgmt-cluster'] = options.mgmtCluster;
  if (options.kinds) annotations['kuberelay.dev/kinds'] = formatKindsAnnotation(options.kinds);
  await kube.request({
    method: 'POST',
    path: `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`,
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: `kuberelay-mgmt-server-${options.pod}`,
        namespace: options.namespace,
        labels: { 'app.kubernetes.io/component': 'mgmt-server' },
        annotations,
      },
      spec: {
        holderIdentity: options.pod,
        leaseDurationSeconds: 30,
        acquireTime: microTime(options.renewTime),
        renewTime: microTime(options.renewTime),
      },
    },
  });
}

const kcPath = (namespace: string, name?: string) =>
  `/apis/admin.gloo.solo.io/v2/namespaces/${namespace}/kubernetesclusters${name ? `/${name}` : ''}`;

export async function createKubernetesCluster(
  kube: KubeRest,
  namespace: string,
  name: string,
): Promise<void> {
  await kube.request({
    method: 'POST',
    path: kcPath(namespace),
    body: {
      apiVersion: 'admin.gloo.solo.io/v2',
      kind: 'KubernetesCluster',
      metadata: { name, namespace },
      spec: {},
    },
  });
}

/** Writes a KubernetesCluster's status the way the server does (merge patch on /status). */
export async function writeClusterStatus(
  kube: KubeRest,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
): Promise<void> {
  await kube.request({
    method: 'PATCH',
    path: `${kcPath(namespace, name)}/status`,
    contentType: 'application/merge-patch+json',
    body: { status },
  });
}

export async function getJson<T>(kube: KubeRest, path: string): Promise<T> {
  return kube.request<T>({ method: 'GET', path });
}

/** GET that answers undefined for 404. */
export async function getIfExists<T>(kube: KubeRest, path: string): Promise<T | undefined> {
  try {
    return await kube.request<T>({ method: 'GET', path });
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
}

export interface Secret {
  metadata: {
    name: string;
    uid: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
  };
  type?: string;
  data?: Record<string, string>;
}

export const decode = (secret: Secret | undefined, key: string): string =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');

/**
 * Creates the relay CA Secret the way the management server does at its first start (a new
 * ECDSA CA that signs and is the whole bundle): `relayctl register` needs it. Answers the bundle.
 */
export async function createRelayCa(kube: KubeRest, namespace: string): Promise<string> {
  const now = Date.now();
  const ca = await createCa({ commonName: 'kuberelay relay CA', validityMs: 365 * 86_400_000, now });
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  await kube.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/secrets`,
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: RELAY_CA_SECRET,
        namespace,
        labels: { 'app.kubernetes.io/part-of': 'kuberelay' },
        annotations: {
          'kuberelay.dev/created-by': 'kuberelay-mgmt-server',
          'kuberelay.dev/created-at': new Date(now).toISOString(),
        },
      },
      data: {
        [RelayCaKey.cert]: b64(ca.certPem),
        [RelayCaKey.key]: b64(ca.keyPem),
        [RelayCaKey.bundle]: b64(ca.certPem),
      },
    },
  });
  return ca.certPem;
}

/** The relay CA Secret of a server namespace. */
export const getRelayCa = (kube: KubeRest, namespace: string): Promise<Secret> =>
  getJson<Secret>(kube, `/api/v1/namespaces/${namespace}/secrets/${RELAY_CA_SECRET}`);
