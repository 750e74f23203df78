import {
  AGENT_RBAC_NAME,
  agentRbac,
  DEFAULT_KINDS,
  DEFAULT_RELAY_NAMESPACE,
  type KindInfo,
  MGMT_SERVER_RBAC_NAME,
  type RbacBundle,
  type RbacObject,
  serverRbac,
  userSubject,
} from '@kuberelay/shared';
import { isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import type { IdentityOptions } from '../lab/lab.js';

// The relay's programs in the lab run as minted users whose only rights are the generated RBAC
// (shared/src/rbac) bound to that user: never the lab's admin (system:masters). A certificate
// carries a user and groups but no ServiceAccount, so the bundles are bound to a User here where a
// deployment binds the ServiceAccount.

/** The user names the lab's server and agents authenticate as. */
export const RelayUser = {
  server: MGMT_SERVER_RBAC_NAME,
  agent: AGENT_RBAC_NAME,
} as const;

export interface GrantOptions {
  /** The lab cluster to apply the RBAC in. */
  readonly cluster: string;
  /** Admin access to that cluster, used only to apply the RBAC. */
  readonly admin: KubeRest;
  /** Default: the relay namespace (gloo-mesh). */
  readonly namespace?: string;
  /** Default: docs/spec.md §6. */
  readonly kinds?: readonly KindInfo[];
  /** The user to bind; also names the roles, so several identities can live in one cluster. */
  readonly user?: string;
}

/**
 * Applies the management server's RBAC in `cluster`, bound to a User, and returns the identity to
 * mint (`lab.mintIdentity` or `lab.writeIdentityKubeconfig`).
 */
export async function grantServerIdentity(options: GrantOptions): Promise<IdentityOptions> {
  const user = options.user ?? RelayUser.server;
  await applyBundle(
    options.admin,
    serverRbac({
      kinds: options.kinds ?? DEFAULT_KINDS,
      namespace: options.namespace ?? DEFAULT_RELAY_NAMESPACE,
      subjects: [userSubject(user)],
      name: user,
    }),
  );
  return { cluster: options.cluster, user };
}

/** As {@link grantServerIdentity}, for an agent (optionally confined to `writableNamespaces`). */
export async function grantAgentIdentity(
  options: GrantOptions & { readonly writableNamespaces?: readonly string[] },
): Promise<IdentityOptions> {
  const user = options.user ?? RelayUser.agent;
  await applyBundle(
    options.admin,
    agentRbac({
      kinds: options.kinds ?? DEFAULT_KINDS,
      namespace: options.namespace ?? DEFAULT_RELAY_NAMESPACE,
      subjects: [userSubject(user)],
      name: user,
      ...(options.writableNamespaces === undefined ? {} : { writableNamespaces: options.writableNamespaces }),
    }),
  );
  return { cluster: options.cluster, user };
}

/** Creates or replaces every object of a bundle, in order (each role before its binding). */
export async function applyBundle(admin: KubeRest, bundle: RbacBundle): Promise<void> {
  for (const object of bundle.objects) await createOrReplaceRbac(admin, object);
}

async function createOrReplaceRbac(admin: KubeRest, object: RbacObject): Promise<void> {
  const ref = {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: `${object.kind.toLowerCase()}s`,
    namespace: object.metadata.namespace,
  };
  const path = resourcePath({ ...ref, name: object.metadata.name });
  const existing = await admin
    .request<{ metadata: { resourceVersion: string } }>({ method: 'GET', path })
    .catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  if (existing === undefined) {
    await admin.request({ method: 'POST', path: resourcePath(ref), body: object });
    return;
  }
  await admin.request({
    method: 'PUT',
    path,
    body: { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata.resourceVersion } },
  });
}
