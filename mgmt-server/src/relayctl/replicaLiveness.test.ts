import { describe, expect, it } from 'vitest';
import { connected, disconnected, freshLease, now, POD, staleLease } from './checkReport.testkit.js';
import { type ReadyzResult, ReadyzState } from './checkReportTypes.js';
import type { LeaseObject } from './kubeResources.js';
import { withVerifiedConnection } from './replicaLiveness.js';
import { serverReplicas } from './serverLeases.js';

// relayctl status shows a cluster connected only as relayctl check would count it.

const readyz = (state: ReadyzState): ReadonlyMap<string, ReadyzResult> =>
  new Map([[freshLease.metadata.name, { url: 'http://10.0.0.7:8080/readyz', state, detail: '' }]]);

describe('withVerifiedConnection', () => {
  it.each<[string, LeaseObject[], ReturnType<typeof connected>, ReadonlyMap<string, ReadyzResult>, boolean]>([
    ['a live holder', [freshLease], connected(), readyz(ReadyzState.ready), true],
    ['a live holder, not probed', [freshLease], connected(), new Map(), true],
    [
      'a holder whose /readyz refuses (killed)',
      [freshLease],
      connected(),
      readyz(ReadyzState.unreachable),
      false,
    ],
    [
      'a holder with a stale Lease',
      [staleLease],
      connected({ connectedPod: 'gloo-mesh/old-0' }),
      new Map(),
      false,
    ],
    [
      'a holder restarted since it wrote (another instance)',
      [freshLease],
      connected({ serverInstance: `${POD}/gone` }),
      new Map(),
      false,
    ],
    ['no holder Lease at all', [], connected(), new Map(), false],
    ['a disconnected status stays as it is', [freshLease], disconnected, new Map(), false],
  ])('%s: connected %s', (_name, leases, status, probes, expected) => {
    const [cluster] = withVerifiedConnection({
      clusters: [{ name: 'c1', status }],
      replicas: serverReplicas(leases, now),
      readyz: probes,
      now,
    });
    expect(cluster?.status?.connected).toBe(expected);
    // Everything else is what the server wrote.
    expect({ ...cluster?.status, connected: undefined }).toEqual({ ...status, connected: undefined });
  });
});
