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

/** How long the CRD wait tolerates no progress at all before it gives up (see {@link waitForCrds}). */
export const DEFAULT_CRD_STALL_TIMEOUT_MS = 120_000;

export interface InstallCrdsOptions {
  /** Prefix of progress lines and errors, e.g. the cluster's name. */
  readonly label?: string;
  readonly onProgress?: (message: string) => void;
  /** Give up after this long without any CRD making progress (default 120 s). */
  readonly stallTimeoutMs?: number;
}

/**
 * Creates the CRDs of the `*.yaml` files in `dirs` and waits until the API server serves each one
 * (Established). They are sent as raw JSON: client-node's typed CRD model drops the
 * `x-kubernetes-*` schema fields (preserve-unknown-fields, list types, CEL validations) on the way.
 */
export async function installCrds(
  kc: KubeConfig,
  dirs: string | readonly string[],
  options: InstallCrdsOptions = {},
): Promise<number> {
  const rest = new KubeRest(kc);
  const crds = (typeof dirs === 'string' ? [dirs] : dirs).flatMap((dir) => readCrds(dir));
  await Promise.all(crds.map((body) => rest.request({ method: 'POST', path: CRDS, body })));
  await waitForCrds({ ...options, rest, names: crds.map((crd) => crd.metadata?.name ?? '') });
  return crds.length;
}

/**
 * Waits until every CRD in `names` is Established (its resources are served). There is no fixed
 * budget: on a loaded machine the real Gateway API schemas (hundreds of KiB, CEL rules) take the
 * API server tens of seconds, and a wait that is still seeing CRDs come up should keep waiting. It
 * fails when the API server refuses a CRD's names (NamesAccepted=False), or when no pending CRD has
 * changed a condition for `stallTimeoutMs`. Progress lines name the CRDs still pending.
 */
export async function waitForCrds(
  options: InstallCrdsOptions & { rest: KubeRest; names: readonly string[] },
): Promise<void> {
  const label = options.label ? `${options.label}: ` : '';
  const stallMs = options.stallTimeoutMs ?? DEFAULT_CRD_STALL_TIMEOUT_MS;
  const start = Date.now();
  const pending = new Map(options.names.map((name) => [name, '']));
  let lastProgress = start;
  let lastReport = start;
  let pollMs = 100;
  while (pending.size > 0) {
    let changed = false;
    for (const [name, seen] of pending) {
      const crd = await options.rest.request<V1CustomResourceDefinition>({
        method: 'GET',
        path: `${CRDS}/${name}`,
      });
      const conditions = crd.status?.conditions ?? [];
      const rejected = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
      if (rejected) throw new Error(`${label}CRD ${name} was not accepted: ${rejected.message}`);
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) {
        pending.delete(name);
        changed = true;
        continue;
      }
      const now = conditions.map((c) => `${c.type}=${c.status}`).join(',');
      if (now !== seen) {
        pending.set(name, now);
        changed = true;
      }
    }
    if (pending.size === 0) return;
    const waited = Date.now() - start;
    if (changed) {
      lastProgress = Date.now();
      pollMs = 100;
    } else {
      // Nothing moved: ask less often, so the wait itself does not load the busy API server.
      pollMs = Math.min(pollMs * 2, 1_000);
    }
    if (Date.now() - lastProgress > stallMs) {
      throw new Error(
        `${label}${pending.size} of ${options.names.length} CRDs not Established, and none made progress in ${Math.round(stallMs / 1000)} s: ${describe(pending)}`,
      );
    }
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      options.onProgress?.(
        `${label}${options.names.length - pending.size}/${options.names.length} CRDs Established after ${Math.round(waited / 1000)} s; waiting for ${describe(pending)}`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const describe = (pending: ReadonlyMap<string, string>): string =>
  [...pending].map(([name, conditions]) => `${name} (${conditions || 'no conditions yet'})`).join(', ');

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
