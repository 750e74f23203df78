import type { KindInfo } from '../kinds/kindInfo.js';
import { undistributableKinds } from '../kinds/neighbourKinds.js';
import {
  bootstrapSecretName,
  KUBERNETES_CLUSTER,
  REJECTED_AGENTS_CONFIGMAP,
  RELAY_CA_SECRET,
} from '../registration/names.js';
import { ROLLOUT_REVISIONS_CONFIGMAP } from '../rollout/revisions.js';
import {
  buildBundle,
  checkKinds,
  checkNamespaces,
  type ExplainedRule,
  kindRules,
  type RbacBundle,
  type RbacSubject,
  subjectsOf,
  Verb,
} from './rbacObjects.js';

/** Default name of the server's ServiceAccount and of its roles and bindings. */
export const MGMT_SERVER_RBAC_NAME = 'kuberelay-mgmt-server';

export interface ServerRbacOptions {
  /** The distributable kinds the server watches (its `--kinds`; docs/spec.md §6 by default). */
  readonly kinds: readonly KindInfo[];
  /** The server's `--namespace`: KubernetesClusters, token/CA/bootstrap Secrets, Lease, ConfigMap. */
  readonly namespace: string;
  /** The ServiceAccount bound (in `namespace`). Default `kuberelay-mgmt-server`. */
  readonly serviceAccount?: string;
  /** Bind these instead of the ServiceAccount (e.g. a User, for a server run outside a pod). */
  readonly subjects?: readonly RbacSubject[];
  /** Name of the roles and bindings. Default `kuberelay-mgmt-server`. */
  readonly name?: string;
}

const READ = [Verb.get, Verb.list, Verb.watch] as const;
const BOOTSTRAP = bootstrapSecretName('<cluster>');

/**
 * The management server's rights, and nothing more, derived from the code's API calls
 * (mgmt-server/src: sources/managementView.ts, status/*.ts) and, for mutual TLS, from
 * docs/design.md. A ClusterRole for what lives in every namespace (sources, their Events, CRDs)
 * and a Role in the server's namespace for its own objects. It never writes a source, never
 * creates or deletes a KubernetesCluster (relayctl does, with the operator's rights) and never
 * touches anything in another namespace except Events.
 */
export function serverRbac(options: ServerRbacOptions): RbacBundle {
  checkKinds(options.kinds);
  checkNamespaces('namespace', [options.namespace]);
  const name = options.name ?? MGMT_SERVER_RBAC_NAME;
  const clusterWide: ExplainedRule[] = [
    ...kindRules(options.kinds, READ).map((rule) => ({
      rule,
      why: 'Sources: one informer (list + watch) per distributable kind, in every namespace, because sources live anywhere. get adds nothing to list. No write verb: the server never changes a source.',
    })),
    ...kindRules(
      undistributableKinds(options.kinds).map((k) => ({ ...k, version: '' })),
      [Verb.list, Verb.watch],
    ).map((rule) => ({
      rule,
      why: 'Annotated objects of kinds that are not distributed: a fixed list of neighbours of the distributable kinds in the Gateway API and Gloo groups (shared/src/kinds/neighbourKinds.ts), minus --kinds. A metadata-only informer per installed kind finds those carrying gloo.solo.io/distribute-to, so each gets a KindNotDistributable Warning Event instead of being ignored without a word. Only metadata is read, but RBAC cannot grant less than list + watch.',
    })),
    {
      rule: {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: [...READ],
      },
      why: 'Which distributable kinds are installed: the CRD informer starts and stops the source informers as CRDs appear and go (docs/spec.md §6).',
    },
    {
      rule: { apiGroups: [''], resources: ['events'], verbs: [Verb.create, Verb.get, Verb.patch] },
      why: "Events on sources (docs/spec.md §8) go into each source's own namespace (default for a cluster-scoped one), so this cannot be a Role. create records one; a repeat gets 409, then get + patch bumps its count. Only the core API group: the server does not use events.k8s.io.",
    },
  ];
  const own: ExplainedRule[] = [
    {
      rule: {
        apiGroups: [KUBERNETES_CLUSTER.group],
        resources: [KUBERNETES_CLUSTER.plural],
        verbs: [...READ],
      },
      why: "The cluster registry informer (list + watch); get re-reads a cluster before writing \"disconnected\", so another replica's live status is not overwritten. No create/update/delete: registering is relayctl's, run with the operator's rights.",
    },
    {
      rule: {
        apiGroups: [KUBERNETES_CLUSTER.group],
        resources: [`${KUBERNETES_CLUSTER.plural}/status`],
        verbs: [Verb.patch],
      },
      why: 'Connection status: a merge patch on the status subresource, the only write the server makes to a KubernetesCluster.',
    },
    {
      rule: { apiGroups: [''], resources: ['secrets'], verbs: [...READ] },
      why: `The token Secrets informer (list + watch filtered by type, which RBAC cannot express) and, with mutual TLS, the relay CA ${RELAY_CA_SECRET} (get, then an informer on its name) and the one-time ${BOOTSTRAP} Secrets (a name per cluster, so no fixed resourceNames). This namespace only.`,
    },
    {
      rule: { apiGroups: [''], resources: ['secrets'], verbs: [Verb.create] },
      why: `Mutual TLS: the server creates ${RELAY_CA_SECRET} at its first start when missing (it never overwrites it, so no update). RBAC cannot limit create by name.`,
    },
    {
      rule: { apiGroups: [''], resources: ['secrets'], verbs: [Verb.delete] },
      why: `Mutual TLS: a bootstrap token is single-use, so the server deletes ${BOOTSTRAP} once it has signed the CSR. The names follow the registered clusters, so no fixed resourceNames.`,
    },
    {
      rule: {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: [Verb.create, Verb.patch, Verb.delete, Verb.list, Verb.get],
      },
      why: "Presence: each replica renews Lease kuberelay-mgmt-server-<pod> (merge patch), creates it when missing and deletes it on a clean shutdown. The pod name is not known when RBAC is written, hence no resourceNames. list: every replica reads the others' Leases to find statuses a dead server process left saying connected (StaleStatusSweeper). get: before renewing, a replica reads its own Lease to notice a second process started with the same --pod-name.",
    },
    {
      rule: {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: [REJECTED_AGENTS_CONFIGMAP, ROLLOUT_REVISIONS_CONFIGMAP],
        verbs: [Verb.get, Verb.update],
      },
      why: 'The record of refused agents and the revisions rollouts completed (what relayctl rollout undo restores): read, merge, replace with the read resourceVersion. These two ConfigMaps only.',
    },
    {
      rule: { apiGroups: [''], resources: ['configmaps'], verbs: [Verb.create] },
      why: `The first refusal creates ${REJECTED_AGENTS_CONFIGMAP}, the first complete rollout ${ROLLOUT_REVISIONS_CONFIGMAP}. RBAC cannot limit create by name.`,
    },
  ];
  return buildBundle(
    [
      { name, scope: { cluster: true }, rules: clusterWide },
      { name, scope: { namespace: options.namespace }, rules: own },
    ],
    subjectsOf(options, { serviceAccount: MGMT_SERVER_RBAC_NAME, namespace: options.namespace }),
  );
}
