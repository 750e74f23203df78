import {
  bootstrapRecordOf,
  bootstrapSecretManifest,
  generateBootstrapToken,
  hashBootstrapToken,
} from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { credentialsSecretManifest, kubernetesClusterManifest, secretValue } from './registrationObjects.js';

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

  it('the bootstrap Secret holds the hash, expiry and uid only, owned by the cluster', () => {
    const token = generateBootstrapToken();
    const secret = bootstrapSecretManifest({
      cluster: 'qa',
      namespace: 'gloo-mesh',
      tokenHash: hashBootstrapToken(token),
      clusterUid: 'uid-1',
      issuedAt: new Date('2030-01-01T00:00:00Z'),
      expiresAt: new Date('2030-01-02T00:00:00Z'),
    });
    expect(JSON.stringify(secret)).not.toContain(token);
    expect(secret).toMatchObject({
      type: 'kuberelay.dev/bootstrap-token',
      metadata: {
        name: 'kuberelay-bootstrap-qa',
        annotations: {
          'kuberelay.dev/expires-at': '2030-01-02T00:00:00.000Z',
          'kuberelay.dev/cluster-uid': 'uid-1',
        },
        ownerReferences: [{ kind: 'KubernetesCluster', name: 'qa', uid: 'uid-1' }],
      },
    });
    const record = bootstrapRecordOf(secret, 'qa');
    expect(record).toEqual({
      cluster: 'qa',
      sha256: hashBootstrapToken(token),
      expiresAt: Date.parse('2030-01-02T00:00:00Z'),
      clusterUid: 'uid-1',
    });
    // The record of one cluster never serves another.
    expect(bootstrapRecordOf(secret, 'prod')).toBeUndefined();
  });

  it('the credentials Secret has the keys the agent reads', () => {
    expect(
      credentialsSecretManifest({
        cluster: 'qa',
        namespace: 'gloo-mesh',
        bootstrapToken: 'krb_x',
        caBundlePem: 'PEM',
        server: 'relay:9900',
        mgmtCluster: 'mgmt',
      }),
    ).toMatchObject({
      metadata: { name: 'kuberelay-agent-credentials', namespace: 'gloo-mesh' },
      stringData: {
        bootstrapToken: 'krb_x',
        'ca.crt': 'PEM',
        cluster: 'qa',
        server: 'relay:9900',
        mgmtCluster: 'mgmt',
      },
    });
  });

  it.each([
    { data: undefined, value: undefined },
    { data: { cluster: Buffer.from('qa').toString('base64') }, value: 'qa' },
  ])('secretValue($data)', ({ data, value }) => {
    expect(secretValue(data, 'cluster')).toBe(value);
  });
});
