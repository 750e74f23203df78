import {
  DEFAULT_KINDS,
  groupKindOf,
  type KindInfo,
  parseKindsAnnotation,
  RegistrationAnnotation,
  SERVER_LEASE_PREFIX,
  SERVER_LEASE_RENEW_SECONDS,
} from '@kuberelay/shared';
import type { LeaseObject } from './kubeResources.js';
import { ageMs } from './render.js';

/** How often a server replica renews its Lease (docs/design.md, "Server presence"). */
export const SERVER_LEASE_RENEW_INTERVAL_MS = SERVER_LEASE_RENEW_SECONDS * 1000;
/** A replica whose Lease was not renewed for 3 intervals is considered gone. */
export const SERVER_LEASE_STALE_AFTER_MS = 3 * SERVER_LEASE_RENEW_INTERVAL_MS;

/** The server's `--cluster-name` on its Lease: `register` defaults `--mgmt-cluster` from it. */
export const MGMT_CLUSTER_ANNOTATION = RegistrationAnnotation.mgmtCluster;

/** One management server replica, as its Lease describes it. */
export interface ServerReplica {
  readonly lease: string;
  /** The pod name (the Lease name without its prefix). */
  readonly pod: string;
  readonly holder: string | undefined;
  readonly renewTime: string | undefined;
  /** Milliseconds since the last renewal; undefined when never renewed. */
  readonly ageMs: number | undefined;
  /** Renewed within SERVER_LEASE_STALE_AFTER_MS. */
  readonly fresh: boolean;
  readonly grpcAddress: string | undefined;
  readonly httpAddress: string | undefined;
  readonly mgmtCluster: string | undefined;
  /** Another live process renews this Lease too (the same --pod-name twice): its instance. */
  readonly sharedWith: string | undefined;
  /** The distributable kinds the replica announces (undefined: none, or an unreadable value). */
  readonly kinds: readonly KindInfo[] | undefined;
  /** Its --gateway-class-mapping as announced (undefined: an older server that does not say). */
  readonly classMapping: string | undefined;
}

/** The server Leases among `leases` (others in the namespace are ignored), sorted by pod. */
export function serverReplicas(leases: readonly LeaseObject[], now: Date): ServerReplica[] {
  return leases
    .filter((l) => l.metadata.name.startsWith(SERVER_LEASE_PREFIX))
    .map((l) => {
      const renewTime = l.spec?.renewTime ?? l.spec?.acquireTime;
      const age = ageMs(renewTime, now);
      const annotations = l.metadata.annotations ?? {};
      return {
        lease: l.metadata.name,
        pod: l.metadata.name.slice(SERVER_LEASE_PREFIX.length),
        holder: l.spec?.holderIdentity,
        renewTime,
        ageMs: age,
        fresh: age !== undefined && age <= SERVER_LEASE_STALE_AFTER_MS,
        grpcAddress: nonEmpty(annotations[RegistrationAnnotation.grpcAddress]),
        httpAddress: nonEmpty(annotations[RegistrationAnnotation.httpAddress]),
        mgmtCluster: nonEmpty(annotations[MGMT_CLUSTER_ANNOTATION]),
        sharedWith: nonEmpty(annotations[RegistrationAnnotation.sharedWith]),
        kinds: kindsOf(annotations[RegistrationAnnotation.kinds]),
        // Not nonEmpty: an empty mapping (no swap) is a value.
        classMapping: annotations[RegistrationAnnotation.gatewayClassMapping]?.trim(),
      };
    })
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

function kindsOf(value: string | undefined): readonly KindInfo[] | undefined {
  if (value === undefined) return undefined;
  const parsed = parseKindsAnnotation(value);
  return parsed.ok ? parsed.value : undefined;
}

/** The kinds relayctl lists sources of, where they come from, and what the user should know. */
export interface DiscoveredKinds {
  readonly kinds: readonly KindInfo[];
  /** `Lease <names>`, or `default` when no Lease announces kinds. */
  readonly from: string;
  /** Said on stderr: why the default set is used, or that replicas disagree. */
  readonly note: string | undefined;
}

/**
 * The distributable kinds the server replicas announce on their Leases (fresh Leases preferred,
 * as in discoverFromLeases). Replicas that disagree (a rollout changing --kinds) give the union,
 * so no source is hidden. With no announcement (an older server, no Lease), the docs/spec.md §6 defaults.
 */
export function discoverKinds(replicas: readonly ServerReplica[]): DiscoveredKinds {
  const announcing = replicas.filter((r) => r.kinds !== undefined);
  const fresh = announcing.filter((r) => r.fresh);
  const pool = fresh.length > 0 ? fresh : announcing;
  if (pool.length === 0) {
    return {
      kinds: DEFAULT_KINDS,
      from: 'default',
      note: `no management server Lease announces its kinds (annotation ${RegistrationAnnotation.kinds}); showing the default kinds`,
    };
  }
  const union = new Map<string, KindInfo>();
  for (const replica of pool) {
    for (const kind of replica.kinds ?? [])
      if (!union.has(groupKindOf(kind))) union.set(groupKindOf(kind), kind);
  }
  const lists = new Set(pool.map((r) => (r.kinds ?? []).map(groupKindOf).sort().join(',')));
  return {
    kinds: [...union.values()],
    from: `Lease ${pool.map((r) => r.lease).join(', ')}`,
    note:
      lists.size > 1
        ? 'the server replicas announce different kinds; showing the sources of all of them'
        : undefined,
  };
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/** A value discovered from the Leases, or why it could not be. */
export type Discovered =
  | { readonly ok: true; readonly value: string; readonly from: string }
  | { readonly ok: false; readonly problem: string };

/**
 * The one value every server Lease agrees on for `pick` (several replicas behind one Service
 * announce the same address). Fresh Leases are preferred; stale ones are used only when no
 * replica is running, since a server that is down may still be the one being installed.
 */
export function discoverFromLeases(
  replicas: readonly ServerReplica[],
  pick: (r: ServerReplica) => string | undefined,
  what: string,
): Discovered {
  if (replicas.length === 0) return { ok: false, problem: 'no management server Lease exists' };
  const fresh = replicas.filter((r) => r.fresh);
  const pool = fresh.length > 0 ? fresh : replicas;
  const values = [...new Set(pool.map(pick).filter((v): v is string => v !== undefined))].sort();
  const [only] = values;
  if (values.length === 1 && only !== undefined) {
    const leases = pool.filter((r) => pick(r) === only).map((r) => r.lease);
    return { ok: true, value: only, from: `Lease ${leases.join(', ')}` };
  }
  if (values.length === 0) return { ok: false, problem: `no management server Lease announces its ${what}` };
  return { ok: false, problem: `the server Leases do not agree on the ${what} (${values.join(', ')})` };
}

/** The URL of a replica's /readyz, from its http-address annotation (`host:port` or a URL). */
export function readyzUrl(httpAddress: string): string {
  const base = /^https?:\/\//.test(httpAddress) ? httpAddress : `http://${httpAddress}`;
  return `${base.replace(/\/+$/, '')}/readyz`;
}
