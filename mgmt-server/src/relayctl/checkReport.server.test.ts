import { describe, expect, it } from 'vitest';
import { freshLease, input, POD, staleLease, summary } from './checkReport.testkit.js';

// relayctl check's server section: whether a management server runs, from its Leases (fresh,
// stale, shared by two processes) and its /readyz answers.

describe('buildCheckReport', () => {
  it.each([
    {
      name: 'no server Lease → server error, not ok',
      input: input({ leases: [] }),
      ok: false,
      server: [
        'error: no management server is running: no Lease kuberelay-mgmt-server-* in namespace gloo-mesh',
      ],
    },
    {
      name: 'only a stale Lease → server error',
      input: input({ leases: [staleLease] }),
      ok: false,
      server: [
        'error: no management server is running: no replica renewed its Lease in the last 30s',
        'error: replica old-0: Lease renewed 9m ago (stopped? a replica renews it every 10s)',
      ],
    },
    {
      name: 'namespace missing',
      input: input({ leases: [], namespaceExists: false }),
      ok: false,
      server: [
        'error: namespace gloo-mesh does not exist in context "mgmt": is the management server installed there? (-n selects its namespace)',
      ],
    },
    {
      name: 'fresh Lease next to a stale one',
      input: input({
        leases: [freshLease, staleLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://10.0.0.7:8080/readyz', state: 'ready', detail: 'HTTP 200' } as const,
          ],
        ]),
      }),
      ok: true,
      server: [
        `ok: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://10.0.0.7:8080/readyz answers ready (HTTP 200)`,
        'warning: replica old-0: Lease renewed 9m ago (stopped? a replica renews it every 10s)',
      ],
    },
    {
      name: 'readyz not ready is a warning',
      input: input({
        leases: [freshLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://x/readyz', state: 'not-ready', detail: 'HTTP 503' } as const,
          ],
        ]),
      }),
      ok: true,
      server: [
        `warning: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://x/readyz answers NOT ready (HTTP 503)`,
      ],
    },
    {
      name: 'readyz unreachable is an error: a crashed or frozen replica keeps a fresh Lease for 30 s',
      input: input({
        leases: [freshLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://x/readyz', state: 'unreachable', detail: 'ECONNREFUSED' } as const,
          ],
        ]),
      }),
      ok: false,
      server: [
        `error: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://x/readyz does not answer (ECONNREFUSED): crashed or frozen? (if relayctl cannot reach the server's HTTP port from here, run it where it can, or pass --no-probe to trust the Lease alone)`,
      ],
    },
    {
      name: 'two processes renew one Lease (the same --pod-name twice)',
      input: input({
        leases: [
          {
            ...freshLease,
            metadata: {
              ...freshLease.metadata,
              annotations: { ...freshLease.metadata.annotations, 'kuberelay.dev/shared-with': `${POD}/b` },
            },
            spec: { ...freshLease.spec, holderIdentity: `${POD}/a` },
          },
        ],
      }),
      ok: false,
      server: [
        `error: replica ${POD}: two server processes renew its Lease (${POD}/a and ${POD}/b): each must run with its own --pod-name, or their statuses mix and one is invisible here`,
        `ok: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900`,
      ],
    },
  ])('$name', ({ input: i, ok, server }) => {
    const s = summary(i);
    expect(s.ok).toBe(ok);
    expect(s.sections[0]?.[2]).toEqual(server);
  });
});
