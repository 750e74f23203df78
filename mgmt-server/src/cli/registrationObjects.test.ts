import { generateAgentToken, hashAgentToken, tokenMatchesHash } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import {
  credentialsSecretManifest,
  kubernetesClusterManifest,
  secretValue,
  tokenSecretManifest,
} from './registrationObjects.js';

describe('registration objects', () => {
  it('the KubernetesCluster is named after the cluster', () => {
    expect(kubernetesClusterManifest({ cluster: 'qa', namespace: 'gloo-mesh' })).toEqual({
      apiVersion: 'admin.gloo.solo.io/v2',
      kind: 'KubernetesCluster',
      metadata: {
        name: 'qa',
        namespace: 'gloo-mesh',
        labels: { 'app.kubernetes.io/managed-by': 'relayctl' },
      },
      spec: {},
    });
  });

  it('the token Secret holds the hash only, owned by the cluster', () => {
    const token = generateAgentToken();
    const secret = tokenSecretManifest({
      cluster: 'qa',
      namespace: 'gloo-mesh',
      tokenHash: hashAgentToken(token),
      issuedAt: new Date('2026-01-01T00:00:00Z'),
      owner: { uid: 'u-1' },
    });
    expect(JSON.stringify(secret)).not.toContain(token);
    expect(secret).toMatchObject({
      type: 'kuberelay.dev/agent-token',
      metadata: {
        name: 'kuberelay-token-qa',
        labels: { 'kuberelay.dev/cluster': 'qa' },
        annotations: { 'kuberelay.dev/issued-at': '2026-01-01T00:00:00.000Z' },
        ownerReferences: [
          { apiVersion: 'admin.gloo.solo.io/v2', kind: 'KubernetesCluster', name: 'qa', uid: 'u-1' },
        ],
      },
    });
    const hash = secretValue(secret.data, 'sha256') ?? '';
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatchesHash(token, hash)).toBe(true);
  });

  it('the credentials Secret has the four keys the agent reads', () => {
    expect(
      credentialsSecretManifest({
        cluster: 'qa',
        namespace: 'gloo-mesh',
        token: 'krt_x',
        server: 'relay:9900',
        mgmtCluster: 'mgmt',
      }),
    ).toMatchObject({
      metadata: { name: 'kuberelay-agent-credentials', namespace: 'gloo-mesh' },
      stringData: { token: 'krt_x', cluster: 'qa', server: 'relay:9900', mgmtCluster: 'mgmt' },
    });
  });

  it.each([
    { data: undefined, value: undefined },
    { data: { cluster: Buffer.from('qa').toString('base64') }, value: 'qa' },
  ])('secretValue($data)', ({ data, value }) => {
    expect(secretValue(data, 'cluster')).toBe(value);
  });
});
