import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentType, KubeRest } from '@kuberelay/shared/kube';
import { describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { attachLab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';

// deploy/manifests/mgmt-server.yaml runs several replicas (issue 10): two by default, a
// PodDisruptionBudget and anti-affinity that select exactly the Deployment's pods, and the
// downward-API variables each replica needs to be told apart. The objects are also sent to the
// lab's API server as a strict server-side dry run, so a misspelt field fails here, not at deploy.

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

const manifests = parseAllDocuments(
  readFileSync(join(repoRoot, 'deploy', 'manifests', 'mgmt-server.yaml'), 'utf8'),
).map((d) => d.toJS() as Manifest);
const byKind = (kind: string) => {
  const found = manifests.find((m) => m.kind === kind);
  if (found === undefined) throw new Error(`mgmt-server.yaml has no ${kind}`);
  return found;
};

describe('deploy/manifests/mgmt-server.yaml', () => {
  const deployment = byKind('Deployment') as Manifest & {
    spec: {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: {
          affinity?: {
            podAntiAffinity?: {
              preferredDuringSchedulingIgnoredDuringExecution?: {
                podAffinityTerm: {
                  topologyKey: string;
                  labelSelector: { matchLabels: Record<string, string> };
                };
              }[];
            };
          };
          containers: { env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[];
        };
      };
    };
  };
  const pdb = byKind('PodDisruptionBudget') as Manifest & {
    spec: {
      maxUnavailable?: number;
      minAvailable?: number;
      selector: { matchLabels: Record<string, string> };
    };
  };

  it('runs two replicas that one disruption at a time may take down, spread over nodes', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const terms =
      deployment.spec.template.spec.affinity?.podAntiAffinity
        ?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(terms?.map((t) => t.podAffinityTerm.topologyKey)).toEqual(['kubernetes.io/hostname']);
    expect(terms?.[0]?.podAffinityTerm.labelSelector.matchLabels).toEqual(
      deployment.spec.selector.matchLabels,
    );
    // Selectors must select the template's own pods, or the budget guards nothing.
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('tells each replica its pod name, namespace and IP', () => {
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    const fields = Object.fromEntries(env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    expect(fields).toMatchObject({
      POD_NAME: 'metadata.name',
      POD_NAMESPACE: 'metadata.namespace',
      POD_IP: 'status.podIP',
    });
  });

  it('is accepted by a real API server (strict server-side dry run)', async () => {
    const rest = new KubeRest(attachLab(inject('labDir')).kubeConfig('mgmt'));
    const plural: Record<string, string> = {
      ServiceAccount: 'serviceaccounts',
      Service: 'services',
      Deployment: 'deployments',
      PodDisruptionBudget: 'poddisruptionbudgets',
    };
    for (const m of manifests.filter((x) => plural[x.kind] !== undefined)) {
      const base = m.apiVersion === 'v1' ? '/api/v1' : `/apis/${m.apiVersion}`;
      await expect(
        // Server-side apply: whether or not another test left the object behind.
        rest.request({
          method: 'PATCH',
          path: `${base}/namespaces/${m.metadata.namespace}/${plural[m.kind]}/${m.metadata.name}`,
          query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: 'kuberelay-e2e' },
          contentType: ContentType.apply,
          body: m,
        }),
        `${m.kind} ${m.metadata.name}`,
      ).resolves.toMatchObject({ kind: m.kind });
    }
  });
});
