import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../lab/paths.js';
import type { Obj } from './relayFixture.js';

/** The objects of a YAML file in deploy/examples. */
export function example(file: string): Obj[] {
  const text = readFileSync(join(repoRoot, 'deploy', 'examples', file), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** The reference example (Step 3): Gateway, Upstream, HTTPRoute, in that order. */
export function referenceExample(): { gateway: Obj; upstream: Obj; route: Obj } {
  const [gateway, upstream, route] = example('config-distro.yaml');
  if (!gateway || !upstream || !route) throw new Error('deploy/examples/config-distro.yaml changed shape');
  return { gateway, upstream, route };
}

/** An Upstream source in the management cluster. */
export function upstream(
  name: string,
  distributeTo: string | undefined,
  options: { namespace?: string; port?: number } = {},
): Obj {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name,
      namespace: options.namespace ?? 'gloo-mesh',
      labels: { test: name },
      ...(distributeTo === undefined ? {} : { annotations: { 'gloo.solo.io/distribute-to': distributeTo } }),
    },
    spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: options.port ?? 8000 } },
  };
}

export const copyOf = (o: Obj, namespace: string) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace,
  name: o.metadata.name,
});
