import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Agent,
  AgentIdentity,
  credentialsFromSecretData,
  keyMatchesCertificate,
  resolveCredentials,
  SecretCredentialsStore,
  startAgent,
} from '@kuberelay/agent';
import { AGENT_CREDENTIALS_SECRET, type KubeObject } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { parseCertificate } from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { unique } from '../support/testing.js';
import { deleteCopiesIn } from './agentHarness.js';
import { buildTestCopy, createTestPki, MGMT, RelayTestServer, type TestPki } from './relayTestServer.js';

// The agent's credentials lifecycle against a real kube-apiserver (lab cluster-1), where its
// credentials Secret lives, and a RelayService that serves mutual TLS (docs/design.md, "Mutual
// TLS"): bootstrap with a one-time token, the certificate stored in the Secret, restarts that
// reuse it, renewal at a fraction of its life, trust bundles, and refused tokens.

const CLUSTER = 'cluster-1';
const logger = pino({ level: process.env.AGENT_DEBUG ? 'debug' : 'silent' });

let lab: Lab;
let rest: KubeRest;
let pki: TestPki;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  rest = new KubeRest(lab.kubeConfig(CLUSTER));
  pki = await createTestPki();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (text: string) => Buffer.from(text).toString('base64');

interface SecretObject {
  metadata: { resourceVersion: string };
  data?: Record<string, string>;
}

const secretPath = (namespace: string) =>
  `/api/v1/namespaces/${namespace}/secrets/${AGENT_CREDENTIALS_SECRET}`;

/** A namespace with the credentials Secret `relayctl register --remote-context` writes. */
async function registeredNamespace(options: { server: string; bootstrapToken: string }): Promise<string> {
  const namespace = unique('creds');
  await rest.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: namespace } } });
  // Copies left here would be orphans to the next test's agent (it sweeps its relay label).
  cleanups.push(() => deleteCopiesIn(rest, namespace));
  await rest.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/secrets`,
    body: {
      metadata: { name: AGENT_CREDENTIALS_SECRET },
      data: {
        cluster: b64(CLUSTER),
        server: b64(options.server),
        mgmtCluster: b64(MGMT),
        'ca.crt': b64(pki.ca.certPem),
        bootstrapToken: b64(options.bootstrapToken),
      },
    },
  });
  return namespace;
}

async function readSecret(namespace: string) {
  const secret = await rest.request<SecretObject>({ method: 'GET', path: secretPath(namespace) });
  return { resourceVersion: secret.metadata.resourceVersion, ...credentialsFromSecretData(secret.data) };
}

/** What main.ts does: read the Secret, resolve, and build the identity on it. */
async function startFromSecret(options: {
  readonly namespace: string;
  readonly server: RelayTestServer;
  readonly renewFraction?: number;
}): Promise<{ agent: Agent; identity: AgentIdentity }> {
  const store = new SecretCredentialsStore({
    rest,
    namespace: options.namespace,
    name: AGENT_CREDENTIALS_SECRET,
  });
  const resolved = resolveCredentials({
    given: {},
    stored: (await store.load()) ?? {},
    source: store.description,
    now: Date.now(),
  });
  if (!resolved.ok) throw resolved.errors[0];
  const identity = new AgentIdentity({
    cluster: resolved.value.cluster,
    serverAddress: resolved.value.server,
    auth: resolved.value.auth,
    store,
    logger,
    ...(options.renewFraction === undefined ? {} : { renewFraction: options.renewFraction }),
  });
  const agent = await startAgent({
    kubeConfig: lab.kubeConfig(CLUSTER),
    cluster: resolved.value.cluster,
    serverAddress: resolved.value.server,
    identity,
    stateFile: join(await mkdtemp(join(tmpdir(), 'agent-identity-')), 'state.json'),
    podName: 'e2e-agent',
    logger,
  });
  cleanups.push(() => agent.stop());
  return { agent, identity };
}

async function startServer(options: { bootstrapTokens?: string[]; clientCertLifetimeMs?: number }) {
  const server = await RelayTestServer.start({ pki, ...options });
  cleanups.push(() => server.stop());
  return server;
}

const upstream = (name: string, namespace: string): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace },
  spec: { static: { hosts: [{ addr: `${name}.example.com`, port: 80 }] } },
});

async function liveIds(namespace: string, names: readonly string[]) {
  return Promise.all(
    names.map(async (name) => {
      const live = await rest.request<{ metadata: { uid: string; resourceVersion: string } }>({
        method: 'GET',
        path: `/apis/gloo.solo.io/v1/namespaces/${namespace}/upstreams/${name}`,
      });
      return [live.metadata.uid, live.metadata.resourceVersion];
    }),
  );
}

async function writes(agent: Agent): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('kuberelay_agent_writes_total{'))
    .sort()
    .join('\n');
}

const serialOf = (pem: string | undefined) =>
  pem === undefined ? undefined : parseCertificate(pem).serialNumber;

describe('agent credentials (mutual TLS)', () => {
  it('bootstraps with only a bootstrap token, stores its key pair in the Secret, connects with mTLS, and reuses it after a restart', async () => {
    const server = await startServer({ bootstrapTokens: ['krb_first'] });
    const namespace = await registeredNamespace({ server: server.address, bootstrapToken: 'krb_first' });
    const copy = buildTestCopy({ object: upstream('u1', namespace) });
    server.publish([copy]);

    const first = await startFromSecret({ namespace, server });
    const ack = await server.ackOf(0);
    expect(ack.results.map((r) => r.key)).toEqual([copy.key]);
    expect(server.bootstraps).toBe(1);

    const stored = await readSecret(namespace);
    expect(stored.bootstrapToken).toBeUndefined();
    expect(stored.certPem).toContain('BEGIN CERTIFICATE');
    expect(stored.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(keyMatchesCertificate({ certPem: stored.certPem ?? '', keyPem: stored.keyPem ?? '' })).toBe(true);
    expect(stored.caPem?.trim()).toBe(pki.ca.certPem.trim());
    // The stream was opened with exactly the certificate in the Secret.
    expect(server.streamCertSerials).toEqual([serialOf(stored.certPem)]);
    expect(first.identity.kind).toBe('certificate');
    const ids = await liveIds(namespace, ['u1']);
    await first.agent.stop();

    const second = await startFromSecret({ namespace, server });
    await expect.poll(() => server.hellos.length, { timeout: 10_000 }).toBe(2);
    await server.ackOf(ack.version + 1);
    expect(server.bootstraps).toBe(1);
    expect(server.streamCertSerials).toEqual([serialOf(stored.certPem), serialOf(stored.certPem)]);
    expect((await readSecret(namespace)).resourceVersion).toBe(stored.resourceVersion);
    expect(await liveIds(namespace, ['u1'])).toEqual(ids);
    expect(second.agent.connected()).toBe(true);
  });

  it('renews at the fraction of a short-lived certificate, replaces it in the Secret and reconnects without touching a copy', async () => {
    // 9 s certificates: renewal is due after 0.66 × 9 ≈ 6 s.
    const server = await startServer({ bootstrapTokens: ['krb_renew'], clientCertLifetimeMs: 9_000 });
    const namespace = await registeredNamespace({ server: server.address, bootstrapToken: 'krb_renew' });
    server.publish([
      buildTestCopy({ object: upstream('u1', namespace) }),
      buildTestCopy({ object: upstream('u2', namespace) }),
    ]);
    const { agent } = await startFromSecret({ namespace, server });
    const ack = await server.ackOf(0);
    const bootstrapped = await readSecret(namespace);
    const ids = await liveIds(namespace, ['u1', 'u2']);
    const writesBefore = await writes(agent);

    await expect.poll(() => server.streamCertSerials.length, { timeout: 20_000, interval: 100 }).toBe(2);
    const renewed = await readSecret(namespace);
    expect(server.renewals).toHaveLength(1);
    expect(renewed.certPem).not.toBe(bootstrapped.certPem);
    expect(renewed.keyPem).not.toBe(bootstrapped.keyPem);
    expect(serialOf(renewed.certPem)).toBe(serialOf(server.renewals[0]));
    expect(keyMatchesCertificate({ certPem: renewed.certPem ?? '', keyPem: renewed.keyPem ?? '' })).toBe(
      true,
    );
    // The new stream uses the renewed certificate.
    expect(server.streamCertSerials[1]).toBe(serialOf(renewed.certPem));
    // When it renewed, read from the certificates (issued when asked, whole seconds) rather than
    // a stopwatch around the poll: not before 0.66 of the lifetime (5.94 s, 5 s after truncating
    // to seconds), and before the first certificate expired.
    const first = parseCertificate(bootstrapped.certPem ?? '');
    const second = parseCertificate(renewed.certPem ?? '');
    expect(second.notBefore.getTime() - first.notBefore.getTime()).toBeGreaterThanOrEqual(5_000);
    expect(second.notBefore.getTime()).toBeLessThan(first.notAfter.getTime());

    // The reconnect said what the agent holds; nothing was re-applied.
    await expect.poll(() => server.hellos.length, { timeout: 5_000 }).toBe(2);
    expect(server.hellos[1]?.haveVersion).toBe(ack.version);
    await server.ackOf(ack.version + 1);
    expect(await liveIds(namespace, ['u1', 'u2'])).toEqual(ids);
    expect(await writes(agent)).toBe(writesBefore);
    expect(server.bootstraps).toBe(1);
  });

  it('stores a TrustBundle in the Secret and renews once another CA signs (the first of the bundle)', async () => {
    const server = await startServer({ bootstrapTokens: ['krb_trust'] });
    const namespace = await registeredNamespace({ server: server.address, bootstrapToken: 'krb_trust' });
    server.publish([]);
    await startFromSecret({ namespace, server });
    await server.ackOf(0);
    const next = await createTestPki();
    // A rotation's begin: the issuer still signs (listed first), the next CA is trusted too.
    const begun = `${pki.ca.certPem.trim()}\n${next.ca.certPem.trim()}\n`;
    server.sendTrustBundle(begun);
    await expect.poll(async () => (await readSecret(namespace)).caPem, { timeout: 5_000 }).toBe(begun.trim());
    await sleep(1_000);
    expect(server.renewals).toHaveLength(0);

    // Its switch: the next CA signs now (first) while the old one is still trusted: renew now,
    // before finish drops the old CA and the certificate would be refused.
    server.sendTrustBundle(`${next.ca.certPem.trim()}\n${pki.ca.certPem.trim()}\n`);
    await expect.poll(() => server.renewals.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
  });

  it('a refused bootstrap token is reported and retried slowly, not in a hot loop', async () => {
    const server = await startServer({ bootstrapTokens: [] });
    const namespace = await registeredNamespace({ server: server.address, bootstrapToken: 'krb_used' });
    const { agent, identity } = await startFromSecret({ namespace, server });
    // Wait for the first refused attempt, then watch a window in which a hot loop would retry
    // many times.
    await expect.poll(() => server.bootstraps, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await sleep(4_000);
    expect(server.bootstraps).toBeLessThanOrEqual(2);
    expect(identity.bootstrapAttempts).toBe(server.bootstraps);
    expect(server.connects).toBe(0);
    expect(agent.connected()).toBe(false);
    const stored = await readSecret(namespace);
    expect(stored.certPem).toBeUndefined();
    expect(stored.bootstrapToken).toBe('krb_used');
  });
});
