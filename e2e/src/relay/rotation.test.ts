import { X509Certificate } from 'node:crypto';
import { AGENT_CREDENTIALS_SECRET, RELAY_CA_SECRET } from '@kuberelay/shared';
import { splitPemBundle } from '@kuberelay/shared/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, referenceExample, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// Issue 4: rotating the relay CA (and with it the server's certificate and every agent's) while
// the real management server and agents keep distributing, with zero copies churned.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
const { gateway, upstream: referenceUpstream, route } = referenceExample();
/** The reference example's sources and the namespace each is copied into. */
const COPIES: readonly (readonly [Obj, string])[] = [
  [gateway, 'gloo-system'],
  [referenceUpstream, 'httpbin'],
  [route, 'httpbin'],
];
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-rotation' });
  for (const [o] of COPIES) await f.apply(o);
  // Every copy must exist before the fingerprint is taken: the three sources may reach a cluster
  // in different versions, so waiting for one of them is not enough.
  for (const c of WORKLOADS) {
    for (const [o, ns] of COPIES) await f.waitFor(c, copyOf(o, ns), (live) => live !== undefined);
  }
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

const decode = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

/** The agent's stored certificate and trusted bundle (its credentials Secret, read as admin). */
async function agentCredentials(cluster: string): Promise<{ cert: X509Certificate; bundle: string[] }> {
  const secret = await f.workload(cluster).request<{ data?: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${f.namespace}/secrets/${AGENT_CREDENTIALS_SECRET}`,
  });
  return {
    cert: new X509Certificate(decode(secret.data, 'tls.crt')),
    bundle: splitPemBundle(decode(secret.data, 'ca.crt')),
  };
}

/** The relay CA Secret: the CA that signs now, and every CA trusted. */
async function relayCa(): Promise<{ signing: X509Certificate; bundle: string[] }> {
  const secret = await f.mgmt.request<{ data?: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${f.namespace}/secrets/${RELAY_CA_SECRET}`,
  });
  return {
    signing: new X509Certificate(decode(secret.data, 'tls.crt')),
    bundle: splitPemBundle(decode(secret.data, 'ca-bundle.crt')),
  };
}

/** Every copy's UID and resourceVersion in both workload clusters. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of WORKLOADS) {
    for (const [o, ns] of COPIES) {
      const live = await f.get(c, copyOf(o, ns));
      out[`${c}/${o.kind}`] = `${live?.metadata.uid} rv=${live?.metadata.resourceVersion}`;
    }
  }
  return out;
}

describe('CA rotation with the real server and agents', () => {
  it('begin → switch → finish re-issues every certificate and churns no copy', async () => {
    const before = await fingerprint();
    const oldCa = (await relayCa()).signing;
    for (const c of WORKLOADS) expect((await agentCredentials(c)).cert.checkIssued(oldCa)).toBe(true);

    // begin: a second CA is trusted; every agent is told and stores both.
    expect((await f.relayctl(['rotate-ca', 'begin'])).code).toBe(0);
    for (const c of WORKLOADS) {
      await expect.poll(async () => (await agentCredentials(c)).bundle.length, { timeout: 20_000 }).toBe(2);
    }

    // switch: the new CA signs; the server re-issues its certificate, every agent renews.
    expect((await f.relayctl(['rotate-ca', 'switch'])).code).toBe(0);
    const newCa = (await relayCa()).signing;
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
    await expect
      .poll(() => new X509Certificate(f.server?.serverCertificatePem() ?? '').checkIssued(newCa), {
        timeout: 20_000,
      })
      .toBe(true);
    for (const c of WORKLOADS) {
      await expect
        .poll(async () => (await agentCredentials(c)).cert.checkIssued(newCa), { timeout: 30_000 })
        .toBe(true);
    }

    // finish: only the new CA is trusted; the agents reconnect with their new certificates.
    expect((await f.relayctl(['rotate-ca', 'finish'])).code).toBe(0);
    expect((await relayCa()).bundle).toHaveLength(1);
    await expect
      .poll(() => [...f.agents.values()].every((a) => a.connected()), { timeout: 20_000 })
      .toBe(true);
    for (const c of WORKLOADS) {
      await expect.poll(async () => (await f.clusterStatus(c))?.connected, { timeout: 20_000 }).toBe(true);
    }

    // No copy was deleted, re-created or even rewritten along the way...
    expect(await fingerprint()).toEqual(before);
    // ...and distribution still works end to end under the new CA.
    const after = upstream('after-rotation', '*/httpbin');
    await f.apply(after);
    for (const c of WORKLOADS) await f.waitFor(c, copyOf(after, 'httpbin'), (o) => o !== undefined, 20_000);
  }, 150_000);
});
