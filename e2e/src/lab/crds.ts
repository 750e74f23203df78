import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isConflict, KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Reads every CustomResourceDefinition in the `*.yaml` files of `dir`. */
export function readCrds(dir: string): V1CustomResourceDefinition[] {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJSON() as V1CustomResourceDefinition | null;
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds;
}

/**
 * Creates the CRDs of `dir` and waits until the API server serves each one (Established).
 * They are sent as raw JSON: client-node's typed CRD model drops the `x-kubernetes-*` schema
 * fields (preserve-unknown-fields, list types, CEL validations) on the way.
 */
export async function installCrds(
  kc: KubeConfig,
  dir: string,
  options: { timeoutMs?: number } = {},
): Promise<number> {
  const rest = new KubeRest(kc);
  const crds = readCrds(dir);
  await Promise.all(crds.map((body) => rest.request({ method: 'POST', path: CRDS, body })));
  await Promise.all(
    crds.map((crd) => waitEstablished(rest, crd.metadata?.name ?? '', options.timeoutMs ?? 30_000)),
  );
  return crds.length;
}

/** Waits until the CRD `name` is Established (its resources are served). */
export async function waitEstablished(rest: KubeRest, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await rest.request<V1CustomResourceDefinition>({ method: 'GET', path: `${CRDS}/${name}` });
    const established = crd.status?.conditions?.find((c) => c.type === 'Established');
    if (established?.status === 'True') return;
    const rejected = crd.status?.conditions?.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
    if (rejected) throw new Error(`CRD ${name} was not accepted: ${rejected.message}`);
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates the namespaces (those that exist already are fine). */
export async function createNamespaces(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const rest = new KubeRest(kc);
  await Promise.all(
    names.map((name) =>
      rest
        .request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } })
        .catch((error: unknown) => {
          if (!isConflict(error)) throw error;
        }),
    ),
  );
}
