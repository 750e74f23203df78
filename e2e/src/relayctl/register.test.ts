import { hashAgentToken, isWellFormedAgentToken, tokenMatchesHash } from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  createNamespace,
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

/** A server namespace with a running server's Lease announcing its address and cluster name. */
async function serverNamespace(options: { lease: boolean } = { lease: true }): Promise<string> {
  const ns = unique('rctl-reg');
  await createNamespace(mgmt, ns);
  if (options.lease) {
    await writeServerLease(mgmt, {
      namespace: ns,
      pod: 'server-0',
      renewTime: new Date(),
      grpcAddress: 'relay.example:9900',
      mgmtCluster: 'mgmt',
    });
  }
  return ns;
}

describe('relayctl register --remote-context', () => {
  it('writes the KubernetesCluster, the hashed token Secret and the agent credentials; re-registering rotates', async () => {
    const ns = await serverNamespace();
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
    const first = await relayctl(lab, args);
    expect(first.err).toContain('✔');
    expect(first.code).toBe(0);
    expect(first.out).toBe('');

    const kc = await getJson<{ metadata: { uid: string } }>(mgmt, kcPath(ns, 'cluster-1'));
    const tokenSecret = await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-token-cluster-1'));
    expect(tokenSecret.type).toBe('kuberelay.dev/agent-token');
    expect(tokenSecret.metadata.labels?.['kuberelay.dev/cluster']).toBe('cluster-1');
    expect(tokenSecret.metadata.annotations?.['kuberelay.dev/issued-at']).toMatch(/^\d{4}-/);
    expect(Object.keys(tokenSecret.data ?? {})).toEqual(['sha256']);

    const creds = await getJson<Secret>(workload, secretPath(agentNs, 'kuberelay-agent-credentials'));
    const token = decode(creds, 'token');
    expect(isWellFormedAgentToken(token)).toBe(true);
    expect({
      cluster: decode(creds, 'cluster'),
      server: decode(creds, 'server'),
      mgmtCluster: decode(creds, 'mgmtCluster'),
    }).toEqual({ cluster: 'cluster-1', server: 'relay.example:9900', mgmtCluster: 'mgmt' });
    const hash = decode(tokenSecret, 'sha256');
    expect(hash).toBe(hashAgentToken(token));
    expect(first.err).not.toContain(token);
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
      tokenSecret: { name: 'kuberelay-token-cluster-1', action: 'rotated' },
      server: 'relay.example:9900',
      mgmtCluster: 'mgmt',
      credentials: { context: 'cluster-1', namespace: agentNs, action: 'replaced' },
    });
    expect(second.err).toContain('rotated: the previous token no longer works');
    const kcAfter = await getJson<{ metadata: { uid: string } }>(mgmt, kcPath(ns, 'cluster-1'));
    expect(kcAfter.metadata.uid).toBe(kc.metadata.uid);
    const newToken = decode(
      await getJson<Secret>(workload, secretPath(agentNs, 'kuberelay-agent-credentials')),
      'token',
    );
    const newHash = decode(
      await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-token-cluster-1')),
      'sha256',
    );
    expect(newToken).not.toBe(token);
    expect(tokenMatchesHash(newToken, newHash)).toBe(true);
    expect(tokenMatchesHash(token, newHash)).toBe(false);
    expect(second.out + second.err).not.toContain(newToken);
  });

  it('refuses to overwrite the credentials of another cluster, before rotating anything', async () => {
    const ns = await serverNamespace();
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
  });
});

describe('relayctl register without --remote-context', () => {
  it('prints the credentials Secret as YAML on stdout: the only place the token appears', async () => {
    const ns = await serverNamespace({ lease: false });
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
    const doc = parse(r.out) as {
      kind: string;
      metadata: { name: string; namespace: string };
      stringData: Record<string, string>;
    };
    expect(doc).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'kuberelay-agent-credentials', namespace: 'gloo-mesh' },
      stringData: { cluster: 'cluster-2', server: 'relay.example:9900', mgmtCluster: 'management-cluster' },
    });
    const token = doc.stringData.token ?? '';
    const hash = decode(await getJson<Secret>(mgmt, secretPath(ns, 'kuberelay-token-cluster-2')), 'sha256');
    expect(tokenMatchesHash(token, hash)).toBe(true);
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
    expect(decode(applied, 'token')).toBe(token);
  });

  it('needs --server and --mgmt-cluster when no server Lease announces them', async () => {
    const ns = await serverNamespace({ lease: false });
    const r = await relayctl(lab, ['register', 'cluster-2', '--kubecontext', 'mgmt', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      `relayctl: error: --server is required: no management server Lease exists in namespace ${ns} (context "mgmt")`,
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
    const ns = await serverNamespace();
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
  it('deletes the KubernetesCluster, the token Secret and the remote credentials; a missing cluster is an error', async () => {
    const ns = await serverNamespace();
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
        { context: 'mgmt', kind: 'Secret', namespace: ns, name: 'kuberelay-token-cluster-1' },
        { context: 'cluster-1', kind: 'Secret', namespace: agentNs, name: 'kuberelay-agent-credentials' },
      ],
    });
    expect(r.err).toContain(`✔ deleted KubernetesCluster ${ns}/cluster-1 (context "mgmt")`);
    expect(await getIfExists(mgmt, kcPath(ns, 'cluster-1'))).toBeUndefined();
    expect(await getIfExists(mgmt, secretPath(ns, 'kuberelay-token-cluster-1'))).toBeUndefined();
    expect(await getIfExists(workload, secretPath(agentNs, 'kuberelay-agent-credentials'))).toBeUndefined();

    const again = await relayctl(lab, ['deregister', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns]);
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `relayctl: error: cluster cluster-1 is not registered: no KubernetesCluster ${ns}/cluster-1 in context "mgmt" (registered: none); nothing was deleted\n`,
    );
  });

  it('keeps remote credentials that belong to another cluster', async () => {
    const ns = await serverNamespace();
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
