import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

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

/** Creates the CRDs of `dir` and waits until the API server serves each one (Established). */
export async function installCrds(
  kc: KubeConfig,
  dir: string,
  options: { timeoutMs?: number } = {},
): Promise<number> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const crds = readCrds(dir);
  await Promise.all(crds.map((body) => api.createCustomResourceDefinition({ body })));
  await Promise.all(
    crds.map((crd) => waitEstablished(api, crd.metadata?.name ?? '', options.timeoutMs ?? 30_000)),
  );
  return crds.length;
}

/** Waits until the CRD `name` is Established (its resources are served). */
export async function waitEstablished(
  api: ApiextensionsV1Api,
  name: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
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
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(
    names.map(async (name) => {
      try {
        await core.createNamespace({ body: { metadata: { name } } });
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }),
  );
}
