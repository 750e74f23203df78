import { isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';

/** A Kubernetes object as the tests write it. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    managedFields?: unknown[];
  };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

const PLURALS: Record<string, string> = {
  Gateway: 'gateways',
  GatewayClass: 'gatewayclasses',
  HTTPRoute: 'httproutes',
  Upstream: 'upstreams',
  RouteOption: 'routeoptions',
  VirtualHostOption: 'virtualhostoptions',
  ListenerOption: 'listeneroptions',
  HttpListenerOption: 'httplisteneroptions',
  GatewayParameters: 'gatewayparameters',
  Namespace: 'namespaces',
  Secret: 'secrets',
  KubernetesCluster: 'kubernetesclusters',
  ConfigMap: 'configmaps',
  Lease: 'leases',
};

/** The REST path of an object (or its collection when `name` is omitted). */
export function pathOf(o: {
  apiVersion: string;
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
}): string {
  const [group, version] = o.apiVersion.includes('/')
    ? (o.apiVersion.split('/') as [string, string])
    : ['', o.apiVersion];
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`no plural known for ${o.kind}`);
  return resourcePath({ group, version, plural, namespace: o.namespace, name: o.name });
}

export async function createOrReplace(rest: KubeRest, obj: Obj): Promise<Obj> {
  const path = pathOf({ ...obj, namespace: obj.metadata.namespace, name: obj.metadata.name });
  const existing = await rest.request<Obj>({ method: 'GET', path }).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  if (!existing) {
    return rest.request<Obj>({
      method: 'POST',
      path: pathOf({ ...obj, namespace: obj.metadata.namespace }),
      body: obj,
    });
  }
  return rest.request<Obj>({
    method: 'PUT',
    path,
    body: { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } },
  });
}

/** Every copy's resourceVersion in a namespace of a kind, to prove nothing was written. */
export async function resourceVersions(
  rest: KubeRest,
  o: { apiVersion: string; kind: string; namespace: string },
): Promise<Record<string, string>> {
  const list = await rest.request<{ items: Obj[] }>({ method: 'GET', path: pathOf(o) });
  return Object.fromEntries(list.items.map((i) => [i.metadata.name, i.metadata.resourceVersion ?? '']));
}
