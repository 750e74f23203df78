import { status } from '@grpc/grpc-js';
import type { BootstrapResponse } from '@kuberelay/proto';
import { createBackoff, createManualClock, type ManualClock } from '@kuberelay/shared';
import {
  BACKDATE_MS,
  type CertificateAndKey,
  clusterSpiffeId,
  createCa,
  createCsr,
  signCsr,
} from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CredentialInputs } from './agentCredentials.js';
import { AgentIdentity, type BootstrapCall } from './agentIdentity.js';
import type { CredentialsStore, CredentialsUpdate } from './credentialsStore.js';

// AgentIdentity without a network or a real clock: the Bootstrap RPC, the store and the CSR
// factory are injected, time is a manual clock, certificates are real (signed by a test CA).

const logger = pino({ level: 'silent' });
const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

let ca: CertificateAndKey;
beforeAll(async () => {
  ca = await createCa({ commonName: 'identity-test-ca', validityMs: 1_000 * HOUR, now: START });
});

/** Signs `csrPem` for cluster qa, valid from START for `lifetimeMs`. */
function sign(csrPem: string, lifetimeMs = 10 * HOUR, signer = ca): Promise<string> {
  return signCsr({
    ca: signer,
    csrPem,
    commonName: 'qa',
    usage: 'client',
    uris: [clusterSpiffeId('qa')],
    now: START + BACKDATE_MS,
    validityMs: lifetimeMs - BACKDATE_MS,
  });
}

class MemoryStore implements CredentialsStore {
  readonly description = 'memory store';
  readonly saved: CredentialsUpdate[] = [];
  failing = false;
  contents: CredentialInputs = {};
  async load() {
    return this.contents;
  }
  async save(update: CredentialsUpdate) {
    if (this.failing) throw new Error('the store is unavailable');
    this.saved.push(update);
  }
}

type Answer = (request: Parameters<BootstrapCall>[0]) => Promise<BootstrapResponse>;

function setup(answers: Answer[]) {
  const clock = createManualClock({ start: START });
  const store = new MemoryStore();
  const calls: Parameters<BootstrapCall>[0][] = [];
  const identity = new AgentIdentity({
    cluster: 'qa',
    serverAddress: 'relay:9900',
    auth: { kind: 'bootstrap', caPem: ca.certPem, bootstrapToken: 'krb_first' },
    store,
    logger,
    clock,
    bootstrap: async (request) => {
      calls.push(request);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no more answers');
      return answer(request);
    },
    retryBackoff: createBackoff({ minMs: 1_000, maxMs: 1_000, random: () => 0.999 }),
    refusedBackoff: createBackoff({ minMs: 1_000, maxMs: 1_000, random: () => 0.999 }),
    refusedFloorMs: 30_000,
  });
  return { clock, store, calls, identity };
}

const grant: Answer = async ({ request }) => ({
  certificatePem: await sign(request.csrPem),
  caBundlePem: ca.certPem,
});
const refuse: Answer = async () => {
  throw Object.assign(new Error('token used'), { code: status.UNAUTHENTICATED, details: 'token used' });
};
const unavailable: Answer = async () => {
  throw Object.assign(new Error('down'), { code: status.UNAVAILABLE, details: 'connection refused' });
};

/** Lets `ready` run (real key generation and signing) until it waits on the clock. */
const sleeping = (clock: ManualClock) => expect.poll(() => clock.pendingSleeps()).toBe(1);

describe('AgentIdentity: bootstrap', () => {
  it('trades the token for a certificate of its own key, stores it and drops the token', async () => {
    const { identity, store, calls } = setup([grant]);
    const changed = identity.changed();
    await identity.ready(new AbortController().signal);
    expect(identity.kind).toBe('certificate');
    expect(changed.aborted).toBe(true);
    expect(calls.map((c) => c.request.token)).toEqual(['krb_first']);
    expect(store.saved).toHaveLength(1);
    expect(store.saved[0]).toMatchObject({ caPem: ca.certPem, removeBootstrapToken: true });
    expect(store.saved[0]?.certPem).toContain('BEGIN CERTIFICATE');
    expect(store.saved[0]?.keyPem).toContain('PRIVATE KEY');
    expect(identity.dialCredentials().auth.kind).toBe('mtls');
  });

  it('retries a transient failure after the retry backoff, on the clock', async () => {
    const { identity, clock, calls } = setup([unavailable, grant]);
    const ready = identity.ready(new AbortController().signal);
    await sleeping(clock);
    expect(calls).toHaveLength(1);
    await clock.advance(998);
    expect(calls).toHaveLength(1);
    await clock.advance(2);
    await ready;
    expect(calls).toHaveLength(2);
    expect(identity.kind).toBe('certificate');
  });

  it('refuses a certificate that is not for the key it generated, and asks again', async () => {
    const otherKey = await createCsr({ commonName: 'qa' });
    const wrongKey: Answer = async () => ({
      certificatePem: await sign(otherKey.csrPem),
      caBundlePem: ca.certPem,
    });
    const { identity, clock, store, calls } = setup([wrongKey, grant]);
    const ready = identity.ready(new AbortController().signal);
    await sleeping(clock);
    expect(identity.kind).toBe('bootstrap');
    expect(store.saved).toEqual([]);
    await clock.advance(1_000);
    await ready;
    expect(calls).toHaveLength(2);
    expect(identity.kind).toBe('certificate');
  });

  it('after a refused token, waits at least the floor, but takes a new token from the store at once', async () => {
    const { identity, clock, store, calls } = setup([refuse, grant]);
    const ready = identity.ready(new AbortController().signal);
    await sleeping(clock);
    expect(calls).toHaveLength(1);
    await clock.advance(15_000); // the store is polled: nothing new yet
    await sleeping(clock);
    expect(calls).toHaveLength(1);
    store.contents = { bootstrapToken: 'krb_second', caPem: ca.certPem };
    await clock.advance(15_000);
    await ready;
    expect(calls.map((c) => c.request.token)).toEqual(['krb_first', 'krb_second']);
  });

  it('keeps using credentials it could not store, and writes them before the next connection', async () => {
    const { identity, store } = setup([grant]);
    store.failing = true;
    await identity.ready(new AbortController().signal);
    expect(identity.kind).toBe('certificate');
    expect(store.saved).toEqual([]);
    store.failing = false;
    await identity.ready(new AbortController().signal);
    expect(store.saved).toHaveLength(1);
    expect(store.saved[0]).toMatchObject({ removeBootstrapToken: true });
  });
});

describe('AgentIdentity: renewal and trust bundles', () => {
  async function withCertificate() {
    const s = setup([grant]);
    await s.identity.ready(new AbortController().signal);
    s.store.saved.length = 0;
    return s;
  }

  it('is due at the renew fraction of the certificate life (0.66 by default)', async () => {
    const { identity } = await withCertificate();
    expect(identity.renewalDue(START + 6 * HOUR)).toMatchObject({ due: false });
    expect(identity.renewalDue(START + 6.7 * HOUR)).toMatchObject({ due: true });
  });

  it('accepts only a renewed certificate for the key of its own request', async () => {
    const { identity, store } = await withCertificate();
    const stray = await createCsr({ commonName: 'qa' });
    const csrPem = await identity.createRenewalRequest();
    const wrong = await identity.acceptRenewal({ certificatePem: await sign(stray.csrPem), caBundlePem: '' });
    expect(wrong.ok).toBe(false);
    expect(store.saved).toEqual([]);
    const before = identity.dialCredentials().generation;
    const renewed = await identity.acceptRenewal({
      certificatePem: await sign(csrPem, 20 * HOUR),
      caBundlePem: '',
    });
    expect(renewed.ok).toBe(true);
    expect(identity.dialCredentials().generation).toBeGreaterThan(before);
    expect(store.saved).toHaveLength(1);
    expect(store.saved[0]?.caPem).toBeUndefined(); // the bundle did not change
    expect(identity.renewalDue(START + 12 * HOUR)).toMatchObject({ due: false });
  });

  it('refuses a renewal nobody asked for', async () => {
    const { identity } = await withCertificate();
    const csr = await createCsr({ commonName: 'qa' });
    expect(
      (await identity.acceptRenewal({ certificatePem: await sign(csr.csrPem), caBundlePem: '' })).ok,
    ).toBe(false);
  });

  it('stores a new trust bundle once, and ignores the same one again', async () => {
    const { identity, store } = await withCertificate();
    const next = await createCa({ commonName: 'identity-test-ca-2', validityMs: 1_000 * HOUR, now: START });
    const bundle = `${next.certPem}${ca.certPem}`;
    expect((await identity.acceptTrustBundle(ca.certPem)).ok).toBe(true);
    expect(store.saved).toEqual([]);
    expect((await identity.acceptTrustBundle(bundle)).ok).toBe(true);
    expect(store.saved).toEqual([{ caPem: bundle }]);
    // Signed by the old CA, now second in the bundle: renew now (a rotation's switch).
    expect(identity.renewalDue(START + HOUR)).toMatchObject({ due: true });
    expect((await identity.acceptTrustBundle('not a certificate')).ok).toBe(false);
  });
});
