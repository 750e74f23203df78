import { describe, expect, it } from 'vitest';
import {
  buildCheckReport,
  type ClusterObservation,
  clustersCell,
  ReadyzState,
  renderCheckReport,
} from './checkReport.js';
import { connected, freshLease, input, now, POD, staleLease } from './checkReport.testkit.js';
import type { LeaseObject } from './kubeResources.js';

// relayctl check with several server replicas: the "Connected Pod | Clusters" table lists each
// replica that can hold streams and the clusters it holds; a dead replica holds none.

const OTHER = 'kuberelay-mgmt-server-5c2a';
const otherLease: LeaseObject = {
  metadata: {
    name: `kuberelay-mgmt-server-${OTHER}`,
    annotations: {
      'kuberelay.dev/grpc-address': '10.0.0.8:9900',
      'kuberelay.dev/http-address': '10.0.0.8:8080',
    },
  },
  spec: { holderIdentity: OTHER, renewTime: '2026-01-01T00:09:58.000000Z' },
};
const on = (pod: string) => connected({ connectedPod: `gloo-mesh/${pod}` });
const unreachable = (lease: LeaseObject) =>
  new Map([
    [
      lease.metadata.name,
      { url: 'http://10.0.0.7:8080/readyz', state: ReadyzState.unreachable, detail: 'ECONNREFUSED' },
    ],
  ]);

describe('relayctl check, several server replicas', () => {
  it.each<{
    name: string;
    leases: LeaseObject[];
    clusters: ClusterObservation[];
    readyz?: ReturnType<typeof unreachable>;
    pods: { pod: string; clusters: string[] }[];
    ok: boolean;
  }>([
    {
      name: 'clusters spread over two replicas',
      leases: [freshLease, otherLease],
      clusters: [
        { name: 'c1', status: on(POD) },
        { name: 'c2', status: on(OTHER) },
        { name: 'c3', status: on(POD) },
      ],
      pods: [
        { pod: `gloo-mesh/${OTHER}`, clusters: ['c2'] },
        { pod: `gloo-mesh/${POD}`, clusters: ['c1', 'c3'] },
      ],
      ok: true,
    },
    {
      name: 'a replica holding no cluster is listed with none',
      leases: [freshLease, otherLease],
      clusters: [{ name: 'c1', status: on(POD) }],
      pods: [
        { pod: `gloo-mesh/${OTHER}`, clusters: [] },
        { pod: `gloo-mesh/${POD}`, clusters: ['c1'] },
      ],
      ok: true,
    },
    {
      name: 'a dead replica (its /readyz refuses) holds nothing, though statuses still name it',
      leases: [freshLease, otherLease],
      clusters: [
        { name: 'c1', status: on(POD) },
        { name: 'c2', status: on(OTHER) },
      ],
      readyz: unreachable(freshLease),
      pods: [{ pod: `gloo-mesh/${OTHER}`, clusters: ['c2'] }],
      ok: false,
    },
    {
      name: 'a replica whose Lease is stale is not listed',
      leases: [freshLease, staleLease],
      clusters: [{ name: 'c1', status: on('old-0') }],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: [] }],
      ok: false,
    },
  ])('$name', ({ leases, clusters, readyz, pods, ok }) => {
    const report = buildCheckReport(input({ leases, clusters, ...(readyz ? { readyz } : {}) }));
    expect(report.connectedPods).toEqual(pods);
    expect(report.ok).toBe(ok);
  });

  it('prints each replica with the clusters it holds', () => {
    const report = buildCheckReport(
      input({
        leases: [freshLease, otherLease],
        clusters: [
          { name: 'c1', status: on(POD) },
          { name: 'c2', status: on(POD) },
        ],
      }),
    );
    expect(renderCheckReport(report, { now })).toContain(
      [
        'Connected Pod                        | Clusters',
        `gloo-mesh/${OTHER} | 0`,
        `gloo-mesh/${POD} | 2 (c1, c2)`,
      ].join('\n'),
    );
  });

  it.each([
    [[], '0'],
    [['a'], '1 (a)'],
    [
      Array.from({ length: 12 }, (_, i) => `c${i}`),
      '12 (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, and 2 more)',
    ],
  ])('names the clusters of a replica: %j -> %s', (names, cell) => {
    expect(clustersCell(names)).toBe(cell);
  });
});
