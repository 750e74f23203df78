import type { KindInfo } from '../kinds/kindInfo.js';
import { AGENT_CREDENTIALS_SECRET } from '../registration/names.js';
import {
  buildBundle,
  checkKinds,
  checkNamespaces,
  type ExplainedRule,
  invalid,
  kindRules,
  type RbacBundle,
  type RbacSubject,
  type RoleSpec,
  subjectsOf,
  Verb,
} from './rbacObjects.js';

/** Default name of the agent's ServiceAccount and of its roles and bindings. */
export const AGENT_RBAC_NAME = 'kuberelay-agent';

export interface AgentRbacOptions {
  /** The distributable kinds (the same list the management server distributes). */
  readonly kinds: readonly KindInfo[];
  /** The agent's own namespace: where its credentials Secret lives. */
  readonly namespace: string;
  /** The ServiceAccount bound (in `namespace`). Default `kuberelay-agent`. */
  readonly serviceAccount?: string;
  /** Bind these instead of the ServiceAccount (e.g. a User, for an agent run outside a pod). */
  readonly subjects?: readonly RbacSubject[];
  /**
   * Only these namespaces receive copies: writes are granted by a Role in each, and copies of
   * cluster-scoped kinds (GatewayClass) cannot be written at all (they fail with the API
   * server's 403, reported as ApplyFailed). Omitted: copies may be written anywhere.
   */
  readonly writableNamespaces?: readonly string[];
  /** The agent's `--credentials-secret`. Default `kuberelay-agent-credentials`. */
  readonly credentialsSecret?: string;
  /** Name of the roles and bindings. Default `kuberelay-agent`. */
  readonly name?: string;
}

const READ = [Verb.get, Verb.list, Verb.watch] as const;
/** What the agent does to a copy: create it, replace it (drift repair), delete it (prune). */
const WRITE = [Verb.create, Verb.update, Verb.delete] as const;

const WHY_READ_COPIES =
  'Copies: one informer (list + watch) per installed distributable kind, in every namespace; it selects copies by label, which RBAC cannot express. get re-reads a copy before every write and every prune (never the cache).';
const WHY_WRITE_COPIES =
  'Copies: create a missing one, update (full PUT, with the live resourceVersion) to revert drift, delete to prune (UID precondition). No patch: the agent never patches a copy.';

/**
 * The agent's rights in its workload cluster, and nothing more, derived from the code's API calls
 * (agent/src: apply/copyApplier.ts, prune/pruneCopies.ts, reconcile/kindWatches.ts,
 * config/credentials.ts, leader/) and, for mutual TLS, from docs/design.md. It records no Events;
 * its Leases (leader election, presence) live in its own namespace only. A missing kind is told from a missing namespace by a get
 * of the kind's CRD (shared kindServed), which the CRD read rule below already allows.
 */
export function agentRbac(options: AgentRbacOptions): RbacBundle {
  checkKinds(options.kinds);
  checkNamespaces('namespace', [options.namespace]);
  const name = options.name ?? AGENT_RBAC_NAME;
  const writable = options.writableNamespaces;
  if (writable !== undefined) {
    if (writable.length === 0) invalid('writableNamespaces is empty: the agent could write no copy');
    checkNamespaces('writable namespace', writable);
  }

  const common: ExplainedRule[] = [
    {
      rule: { apiGroups: [''], resources: ['namespaces'], verbs: [...READ] },
      why: 'The Namespace informer retries copies waiting for their namespace as soon as it appears; get tells NamespaceNotFound from other 404s on create (docs/spec.md §4).',
    },
    {
      rule: {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        verbs: [...READ],
      },
      why: 'Which distributable kinds are installed: the CRD informer starts and stops the copy informers, and retries copies of a kind as soon as its CRD is established.',
    },
  ];
  const roles: RoleSpec[] = [];
  if (writable === undefined) {
    const rules = kindRules(options.kinds, [...READ, ...WRITE]).map((rule) => ({
      rule,
      why: `${WHY_READ_COPIES} ${WHY_WRITE_COPIES}`,
    }));
    roles.push({ name, scope: { cluster: true }, rules: [...rules, ...common] });
  } else {
    const reads = kindRules(options.kinds, READ).map((rule) => ({
      rule,
      why: `${WHY_READ_COPIES} Reading is granted everywhere for that reason; writing only in the writable namespaces.`,
    }));
    roles.push({ name, scope: { cluster: true }, rules: [...reads, ...common] });
    const namespaced = options.kinds.filter((k) => k.namespaced);
    for (const namespace of [...new Set(writable)]) {
      roles.push({
        name: `${name}-copies`,
        scope: { namespace },
        rules: kindRules(namespaced, WRITE).map((rule) => ({
          rule,
          why: `${WHY_WRITE_COPIES} Only in this writable namespace; no cluster-scoped kind is writable.`,
        })),
      });
    }
  }
  roles.push({
    name,
    scope: { namespace: options.namespace },
    rules: [
      {
        rule: {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [options.credentialsSecret ?? AGENT_CREDENTIALS_SECRET],
          verbs: [Verb.get, Verb.update],
        },
        why: "The agent's own credentials Secret, and no other Secret: get reads cluster, server, mgmtCluster and token (with mutual TLS: ca.crt and bootstrapToken). Mutual TLS: after bootstrap and on every renewal the agent stores tls.crt/tls.key there and drops bootstrapToken (read, then a full update with the read resourceVersion). No create or delete: relayctl register writes it.",
      },
      {
        rule: {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: [Verb.get, Verb.list, Verb.create, Verb.update, Verb.patch, Verb.delete],
        },
        why: 'Agent replicas (docs/design.md "Agent replicas"), in its namespace only: the leader Lease (get, create, update with the read resourceVersion to acquire, renew and release it) and one presence Lease per replica (create, patch to renew, delete on a clean stop); the leader lists the presence Leases to count the replicas alive and deletes those dead for an hour. Names are per pod, so they cannot be listed in resourceNames.',
      },
    ],
  });
  return buildBundle(
    roles,
    subjectsOf(options, { serviceAccount: AGENT_RBAC_NAME, namespace: options.namespace }),
  );
}
