import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBERNETES_CLUSTER } from '@kuberelay/shared';
import { ContentType, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { attachLab, type Lab } from '../lab/lab.js';
import { unique } from '../support/testing.js';
import { CHART_ARGS, chartDir } from './chartValues.js';
import { release } from './helm.js';

// The product's CRD is in the chart's crds/, so Helm treats it the way Helm treats every chart's
// CRDs (docs/spec.md D9.4): installed on the first install, never upgraded or deleted by a
// release. `helm upgrade` and `helm uninstall` must leave the CRD and every registration as they
// are, and the documented step for a CRD change, a server-side apply of crds/, must take.

const CRD = `${KUBERNETES_CLUSTER.plural}.${KUBERNETES_CLUSTER.group}`;
const crdPath = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD}`;

let lab: Lab;
beforeAll(() => {
  lab = attachLab(inject('labDir'));
});

describe("the chart's CRD through helm install, upgrade and uninstall", () => {
  it('is never changed or deleted by a release, keeps the registrations, and takes a server-side apply of crds/', async () => {
    const rest = new KubeRest(lab.kubeConfig('mgmt'));
    const namespace = unique('chartcrd');
    const target = { kubeconfig: lab.kubeconfigPath, context: 'mgmt', namespace };
    // What a release could change: the CRD's content, and who manages its fields.
    const crdState = async () => {
      const crd = await rest.request<{
        metadata: {
          labels?: unknown;
          annotations?: unknown;
          managedFields?: { manager?: string; operation?: string }[];
        };
        spec: unknown;
      }>({ method: 'GET', path: crdPath });
      return {
        content: JSON.stringify({
          spec: crd.spec,
          labels: crd.metadata.labels,
          annotations: crd.metadata.annotations,
        }),
        managers: (crd.metadata.managedFields ?? []).map((m) => `${m.manager} ${m.operation}`).sort(),
      };
    };
    const before = await crdState();
    await release('install', target, [...CHART_ARGS.server]);
    const registration = resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: 'kept' });
    await rest.request({
      method: 'POST',
      path: resourcePath({ ...KUBERNETES_CLUSTER, namespace }),
      body: {
        apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
        kind: KUBERNETES_CLUSTER.kind,
        metadata: { name: 'kept', namespace },
        spec: {},
      },
    });
    // Helm 4 server-side applies crds/ at install, existing CRD or not (it then co-owns its
    // fields as manager "helm"); the content is the chart's own, so nothing changes.
    const installed = await crdState();
    expect(installed.content).toBe(before.content);
    expect(installed.managers).toContain('helm Apply');
    await release('upgrade', target, [...CHART_ARGS.server, '--set', 'mgmtServer.replicas=3']);
    // An upgrade never touches crds/; an uninstall never deletes them, nor any registration.
    expect(await crdState()).toEqual(installed);
    await release('uninstall', target);
    expect(await crdState()).toEqual(installed);
    const kept = await rest.request<{ metadata: { name: string } }>({ method: 'GET', path: registration });
    expect(kept.metadata.name).toBe('kept');
    // The README's step for a CRD change: `kubectl apply --server-side -f deploy/charts/kuberelay/crds/`.
    const manifest: unknown = parse(
      readFileSync(join(chartDir, 'crds', 'admin.gloo.solo.io_kubernetesclusters.yaml'), 'utf8'),
    );
    const applied = await rest.request<{ metadata: { name: string } }>({
      method: 'PATCH',
      path: crdPath,
      query: { fieldManager: 'kubectl', force: true },
      contentType: ContentType.apply,
      body: manifest,
    });
    expect(applied.metadata.name).toBe(CRD);
    await rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}` });
  }, 180_000);
});
