import { hashBootstrapToken, isWellFormedBootstrapToken } from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  createNamespace,
  createRelayCa,
  decode,
  getIfExists,
  getJson,
  relayctl,
  rest,
  type Secret,
  unique,
  writeServerLease,
} from './harness.js';

// relayctl register / deregister against the lab's real API servers: mgmt is the management
// cluster, cluster-1 and cluster-2 are workload clusters.

let lab: Lab;
let mgmt: KubeRest;
let workload: KubeRest;
beforeAll(() => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
  workload = rest(lab, 'cluster-1');
});

const kcPath = (ns: string, name: string) =>
  `/apis/admin.gloo.solo.io/v2/namespaces/${ns}/kubernetesclusters/${name}`;
const secretPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`;

/** Fields of a Secret as `relayctl register` prints it (stringData, as kubectl apply takes it). */
interface PrintedSecret {
  kind: string;
  metadata: { name: string; namespace: string };
  stringData: Record<string, string>;
}

const DAY_MS = 86_400_000;

/**
 * A server namespace as a started management server leaves it: the relay CA Secret it creates at
 * first start and, unless `lease: false`, its Lease announcing its address and cluster name.
 */
async function serverNamespace(
  options: { lease?: boolean; ca?: boolean } = {},
): Promise<{ ns: string; caBundle: string }> {
  const ns = unique('rctl-reg');
  await createNamespace(mgmt, ns);
  const caBundle = options.ca === false ? '' : await createRelayCa(mgmt, ns);
  if (options.lease !== false) {
    await writeServerLease(mgmt, {
      namespace: ns,
      pod: 'server-0',
      renewTime: new Date(),
      grpcAddress: 'relay.example:9900',
      mgmtCluster: 'mgmt',
    });
  }
  return { ns, caBundle };
}

describe('relayctl register --remote-context', () => {
  it('writes the KubernetesCluster, the hashed bootstrap Secret and the agent credentials; re-registering issues a new token', async () => {
    const { ns, caBundle } = await serverNamespace();
    const agentNs = unique('rctl-agent');
    const args = [
      'register',
      'cluster-1',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--remote-context',
      'cluster-1',
      '--remote-namespace',
      agentNs,
    ];
    const before = Date.now();
    const first = await relayctl(lab, args);
    expect(first.err).toContain('✔');
    expect(first.code).toBe(0);
    expect(first.out).toBe('');

    const kc = await getJson<{ metadata: { uid: string } }>(mgmt, kcPath(ns, 'cluster-1'));
    const bootstrap = await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'));
    expect(bootstrap.type).toBe('kuberelay.dev/bootstrap-token');
    expect(bootstrap.metadata.labels?.['kuberelay.dev/cluster']).toBe('cluster-1');
    expect(bootstrap.metadata.annotations?.['kuberelay.dev/issued-at']).toMatch(/^\d{4}-/);
    expect(bootstrap.metadata.annotations?.['kuberelay.dev/cluster-uid']).toBe(kc.metadata.uid);
    // Default lifetime: 24 h from now.
    const expiresAt = Date.parse(bootstrap.metadata.annotations?.['kuberelay.dev/expires-at'] ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + DAY_MS - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS + 1_000);
    // Deleting the KubernetesCluster deletes an unused token with it.
    expect(bootstrap.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'KubernetesCluster', name: 'cluster-1', uid: kc.metadata.uid }),
    ]);
    // Only the hash is stored in the management cluster.
    expect(Object.keys(bootstrap.data ?? {})).toEqual(['sha256']);
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-token-cluster-1'))).toBeUndefined();

    const creds = await getJson<Secret>(workload, secretPath(agentNs, 'kuberelay-agent-credentials'));
    expect(Object.keys(creds.data ?? {}).sort()).toEqual([
      'bootstrapToken',
      'ca.crt',
      'cluster',
      'mgmtCluster',
      'server',
    ]);
    const token = decode(creds, 'bootstrapToken');
    expect(isWellFormedBootstrapToken(token)).toBe(true);
    expect({
      cluster: decode(creds, 'cluster'),
      server: decode(creds, 'server'),
      mgmtCluster: decode(creds, 'mgmtCluster'),
    }).toEqual({ cluster: 'cluster-1', server: 'relay.example:9900', mgmtCluster: 'mgmt' });
    expect(decode(creds, 'ca.crt').trim()).toBe(caBundle.trim());
    const hash = decode(bootstrap, 'sha256');
    expect(hash).toBe(hashBootstrapToken(token));
    expect(first.err).not.toContain(token);
    expect(first.err).toContain(`✔ issued bootstrap token ${token.slice(0, 8)}…(redacted) (one use, expires`);
    expect(first.err).toContain(`created namespace ${agentNs} in context "cluster-1"`);
    expect(first.err).toContain(
      'server address: relay.example:9900 (from Lease kuberelay-mgmt-server-server-0',
    );

    const second = await relayctl(lab, [...args, '-o', 'json']);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.out) as Record<string, unknown>;
    expect(summary).toMatchObject({
      kind: 'RelayctlRegister',
      cluster: 'cluster-1',
      kubernetesCluster: 'kept',
      bootstrapSecret: { name: 'kuberelay-bootstrap-cluster-1', action: 'replaced' },
      server: 'relay.example:9900',
      mgmtCluster: 'mgmt',
      credentials: { context: 'cluster-1', namespace: agentNs, action: 'replaced' },
    });
    expect(second.err).toContain('(replaced: the previous unused token no longer works)');
    const kcAfter = await getJson<{ metadata: { uid: string } }>(mgmt, kcPath(ns, 'cluster-1'));
    expect(kcAfter.metadata.uid).toBe(kc.metadata.uid);
    const newToken = decode(
      await getJson<Secret>(workload, secretPath(agentNs, 'kuberelay-agent-credentials')),
      'bootstrapToken',
    );
    const newBootstrap = await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'));
    const newHash = decode(newBootstrap, 'sha256');
    expect(isWellFormedBootstrapToken(newToken)).toBe(true);
    expect(newToken).not.toBe(token);
    expect(newHash).toBe(hashBootstrapToken(newToken));
    expect(newHash).not.toBe(hashBootstrapToken(token));
    expect(summary.bootstrapSecret).toMatchObject({
      tokenPrefix: `${newToken.slice(0, 8)}…(redacted)`,
      expiresAt: newBootstrap.metadata.annotations?.['kuberelay.dev/expires-at'],
    });
    expect(second.out + second.err).not.toContain(newToken);
  });

  it('--token-ttl sets the expiry; more than 30 days is refused (exit 2) and nothing is written', async () => {
    const { ns } = await serverNamespace();
    const agentNs = unique('rctl-agent');
    const args = [
      ...['register', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns],
      ...['--remote-context', 'cluster-1', '--remote-namespace', agentNs],
    ];
    const tooLong = await relayctl(lab, [...args, '--token-ttl', '31d']);
    expect(tooLong).toEqual({
      code: 2,
      out: '',
      err: 'relayctl: error: --token-ttl: "31d" is longer than the maximum 30d (see relayctl register --help)\n',
    });
    const notADuration = await relayctl(lab, [...args, '--token-ttl', 'tomorrow']);
    expect(notADuration.code).toBe(2);
    expect(notADuration.err).toContain('--token-ttl: "tomorrow" is not a duration such as 30m, 24h or 7d');
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-1'))).toBeUndefined();
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'))).toBeUndefined();
    expect(await getIfExists(workload, secretPath(agentNs, 'kuberelay-agent-credentials'))).toBeUndefined();

    const before = Date.now();
    const r = await relayctl(lab, [...args, '--token-ttl', '2h']);
    expect(r.code).toBe(0);
    const bootstrap = await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'));
    const expiresAt = Date.parse(bootstrap.metadata.annotations?.['kuberelay.dev/expires-at'] ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + 2 * 3_600_000 - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000 + 1_000);
    expect(r.err).toContain(`(one use, expires ${new Date(expiresAt).toISOString()})`);
  });

  it('needs the relay CA Secret, and says so before writing anything', async () => {
    const { ns } = await serverNamespace({ ca: false });
    const agentNs = unique('rctl-agent');
    const r = await relayctl(lab, [
      ...['register', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns],
      ...['--remote-context', 'cluster-1', '--remote-namespace', agentNs],
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      `relayctl: error: the relay CA Secret ${ns}/kuberelay-relay-ca does not exist in context "mgmt": start the management server first (it creates the CA), or create the Secret yourself\n`,
    );
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-1'))).toBeUndefined();
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'))).toBeUndefined();
    expect(await getIfExists(workload, `/api/v1/namespaces/${agentNs}`)).toBeUndefined();
  });

  it('refuses to overwrite the credentials of another cluster, before issuing anything', async () => {
    const { ns } = await serverNamespace();
    const agentNs = unique('rctl-agent');
    const base = [
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--remote-context',
      'cluster-1',
      '--remote-namespace',
      agentNs,
    ];
    expect((await relayctl(lab, ['register', 'cluster-1', ...base])).code).toBe(0);
    const wrong = await relayctl(lab, ['register', 'cluster-2', ...base]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(
      `relayctl: error: Secret ${agentNs}/kuberelay-agent-credentials in context "cluster-1" holds the credentials of cluster "cluster-1", not "cluster-2"`,
    );
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-2'))).toBeUndefined();
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-2'))).toBeUndefined();
  });
});

describe('relayctl register without --remote-context', () => {
  it('prints the credentials Secret as YAML on stdout: the only place the token appears', async () => {
    const { ns, caBundle } = await serverNamespace({ lease: false });
    const r = await relayctl(lab, [
      'register',
      'cluster-2',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--server',
      'relay.example:9900',
      '--mgmt-cluster',
      'management-cluster',
    ]);
    expect(r.code).toBe(0);
    const doc = parse(r.out) as PrintedSecret;
    expect(doc).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'kuberelay-agent-credentials', namespace: 'gloo-mesh' },
      stringData: { cluster: 'cluster-2', server: 'relay.example:9900', mgmtCluster: 'management-cluster' },
    });
    expect(Object.keys(doc.stringData).sort()).toEqual([
      'bootstrapToken',
      'ca.crt',
      'cluster',
      'mgmtCluster',
      'server',
    ]);
    expect(doc.stringData['ca.crt']?.trim()).toBe(caBundle.trim());
    const token = doc.stringData.bootstrapToken ?? '';
    expect(isWellFormedBootstrapToken(token)).toBe(true);
    const hash = decode(
      await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-2')),
      'sha256',
    );
    expect(hash).toBe(hashBootstrapToken(token));
    expect(r.err).not.toContain(token);
    expect(r.err).toContain('kubectl --context <workload> apply -f -');

    // The printed Secret is what kubectl apply would create: apply it to a workload cluster.
    const agentNs = unique('rctl-agent');
    await createNamespace(workload, agentNs);
    await workload.request({
      method: 'POST',
      path: `/api/v1/namespaces/${agentNs}/secrets`,
      body: { ...doc, metadata: { ...doc.metadata, namespace: agentNs } },
    });
    const applied = await getJson<Secret>(workload, secretPath(agentNs, 'kuberelay-agent-credentials'));
    expect(decode(applied, 'bootstrapToken')).toBe(token);
    expect(decode(applied, 'ca.crt')).toBe(doc.stringData['ca.crt']);
  });

  it('needs --server and --mgmt-cluster when no server Lease announces them', async () => {
    const { ns } = await serverNamespace({ lease: false });
    const r = await relayctl(lab, ['register', 'cluster-2', '--kubecontext', 'mgmt', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      `relayctl: error: --server is required: no management server Lease exists in namespace ${ns} (context "mgmt")`,
    );
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-2'))).toBeUndefined();
  });

  it('with several server replicas announcing their own pod addresses, asks for the Service address', async () => {
    const { ns } = await serverNamespace({ lease: false });
    for (const [pod, ip] of [
      ['mgmt-server-a', '10.0.0.7'],
      ['mgmt-server-b', '10.0.0.8'],
    ] as const) {
      await writeServerLease(mgmt, {
        namespace: ns,
        pod,
        renewTime: new Date(),
        grpcAddress: `${ip}:9900`,
        mgmtCluster: 'mgmt',
      });
    }
    const r = await relayctl(lab, ['register', 'cluster-2', '--kubecontext', 'mgmt', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `relayctl: error: --server is required: the server Leases do not agree on the server address (10.0.0.7:9900, 10.0.0.8:9900) in namespace ${ns} (context "mgmt"); with several server replicas, pass the address agents reach their Service at (a LoadBalancer or NodePort), not a pod`,
    );
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-2'))).toBeUndefined();
  });

  it('says when the server namespace does not exist', async () => {
    const r = await relayctl(lab, [
      'register',
      'cluster-2',
      '--kubecontext',
      'mgmt',
      '-n',
      'rctl-nowhere',
      '--server',
      'a:1',
      '--mgmt-cluster',
      'm',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('relayctl: error: namespace rctl-nowhere does not exist in context "mgmt"');
  });

  it('names the available contexts when --remote-context is wrong', async () => {
    const { ns } = await serverNamespace();
    const r = await relayctl(lab, [
      'register',
      'cluster-2',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      '--remote-context',
      'nope',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'relayctl: error: context "nope" (--remote-context) is not in the kubeconfig; available contexts: mgmt, cluster-1, cluster-2\n',
    );
  });
});

describe('relayctl deregister', () => {
  it('deletes the KubernetesCluster, the bootstrap Secret and the remote credentials; a missing cluster is an error', async () => {
    const { ns } = await serverNamespace();
    const agentNs = unique('rctl-agent');
    const remote = ['--remote-context', 'cluster-1', '--remote-namespace', agentNs];
    expect(
      (await relayctl(lab, ['register', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns, ...remote])).code,
    ).toBe(0);

    const r = await relayctl(lab, [
      'deregister',
      'cluster-1',
      '--kubecontext',
      'mgmt',
      '-n',
      ns,
      ...remote,
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      kind: 'RelayctlDeregister',
      cluster: 'cluster-1',
      namespace: ns,
      context: 'mgmt',
      deleted: [
        { context: 'mgmt', kind: 'KubernetesCluster', namespace: ns, name: 'cluster-1' },
        { context: 'mgmt', kind: 'Secret', namespace: ns, name: 'kuberelay-bootstrap-cluster-1' },
        { context: 'cluster-1', kind: 'Secret', namespace: agentNs, name: 'kuberelay-agent-credentials' },
      ],
    });
    expect(r.err).toContain(`✔ deleted KubernetesCluster ${ns}/cluster-1 (context "mgmt")`);
    expect(r.err).toContain(`✔ deleted Secret ${ns}/kuberelay-bootstrap-cluster-1 (context "mgmt")`);
    expect(r.err).toContain(`✔ deleted Secret ${agentNs}/kuberelay-agent-credentials (context "cluster-1")`);
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-1'))).toBeUndefined();
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-bootstrap-cluster-1'))).toBeUndefined();
    expect(await getIfExists(workload, secretPath(agentNs, 'kuberelay-agent-credentials'))).toBeUndefined();

    const again = await relayctl(lab, ['deregister', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `relayctl: error: cluster cluster-1 is not registered: no KubernetesCluster ${ns}/cluster-1 in context "mgmt" (registered: none); nothing was deleted\n`,
    );
  });

  it('keeps remote credentials that belong to another cluster', async () => {
    const { ns } = await serverNamespace();
    const agentNs = unique('rctl-agent');
    const flags = ['--kubecontext', 'mgmt', '-n', ns, '--remote-namespace', agentNs];
    expect(
      (await relayctl(lab, ['register', 'cluster-1', ...flags, '--remote-context', 'cluster-1'])).code,
    ).toBe(0);
    expect((await relayctl(lab, ['register', 'other', ...flags])).code).toBe(0);
    const r = await relayctl(lab, ['deregister', 'other', ...flags, '--remote-context', 'cluster-1']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('holds the credentials of cluster "cluster-1", not "other"');
    expect(await getIfExists(workload, secretPath(agentNs, 'kuberelay-agent-credentials'))).toBeDefined();
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-1'))).toBeDefined();
  });
});
