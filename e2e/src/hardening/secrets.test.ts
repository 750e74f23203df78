import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Agent } from '@kuberelay/agent';
import type { MgmtServer } from '@kuberelay/mgmt-server';
import { RelayServiceClient } from '@kuberelay/proto';
import { KUBERNETES_CLUSTER, REJECTED_AGENTS_CONFIGMAP } from '@kuberelay/shared';
import { KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { relayctl } from '../relayctl/harness.js';
import {
  captureLog,
  createNamespace,
  credentialValues,
  grpcTarget,
  type Registration,
  registerCluster,
  secretsIn,
  startRegisteredAgent,
  startServer,
  waitUntil,
} from './hardeningHarness.js';

// Secrets never leak: with the server and a real agent logging everything at `trace`, a cluster
// registered, bootstrapped, connected and served a copy, and a few refused attempts with made-up
// credentials, no token, bootstrap token or private key appears in any log line, in /metrics, in
// relayctl check/status output, or in what the server writes to the API (status, records, Events).

let lab: Lab;
let mgmt: KubeRest;
let namespace: string;
let server: MgmtServer;
let agent: Agent;
let registration: Registration;
const log = captureLog();
/** Every secret value issued or presented in this test; none may show up anywhere below. */
const known: string[] = [];

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  mgmt = new KubeRest(lab.kubeConfig('mgmt'));
  namespace = await createNamespace(mgmt, 'hard-secrets');
  server = await startServer(lab, namespace, { logger: log.logger });
  const workload = new KubeRest(lab.kubeConfig('cluster-1'));
  // Copies of a source in `namespace` land in the same namespace of the workload cluster.
  await workload.request({
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { metadata: { name: namespace } },
  });
  registration = await registerCluster({
    lab,
    server,
    namespace,
    cluster: 'sec-1',
    workload: 'cluster-1',
    credentialsNamespace: namespace,
  });
  const issued = await credentialValues(lab, registration);
  // Whatever the registration issued: a bootstrap token today, a bearer token before mutual TLS.
  for (const key of ['bootstrapToken', 'token']) if (issued[key]) known.push(issued[key]);
  expect(known.length).toBeGreaterThan(0);

  agent = await startRegisteredAgent({
    lab,
    registration,
    stateDir: mkdtempSync(join(tmpdir(), 'kuberelay-hardening-')),
    logger: log.logger,
  });
  await waitUntil('the agent is connected', () => agent.connected());
  // After bootstrap the Secret holds the agent's certificate and private key.
  const stored = await credentialValues(lab, registration);
  for (const key of ['tls.key']) if (stored[key]) known.push(stored[key]);

  await mgmt.request({
    method: 'POST',
    path: resourcePath({ group: 'gloo.solo.io', version: 'v1', plural: 'upstreams', namespace }),
    body: {
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'secret-test', namespace, annotations: { 'gloo.solo.io/distribute-to': 'sec-1' } },
      spec: { kube: { serviceName: 'httpbin', serviceNamespace: 'httpbin', servicePort: 8000 } },
    },
  });
  await waitUntil(
    'the copy is acknowledged',
    async () => {
      // This copy's own entry: sources other test files left in the shared lab may be selected
      // for sec-1 too (a '*' glob), so the counts are not this file's to predict.
      const kc = await mgmt.request<{ status?: { copies?: { key: string; outcome: string }[] } }>({
        method: 'GET',
        path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: 'sec-1' }),
      });
      return (
        kc.status?.copies?.some(
          (c) => c.key === `gloo.solo.io/Upstream/${namespace}/secret-test` && c.outcome === 'Applied',
        ) === true
      );
    },
    30_000,
  );

  // Refused attempts with made-up secrets: a guessed bootstrap token and a bearer token. Refusals
  // are where a careless server echoes what it was given.
  const guessedBootstrap = `krb_${'A'.repeat(43)}`;
  const guessedToken = `krt_${'B'.repeat(43)}`;
  known.push(guessedBootstrap, guessedToken);
  const target = grpcTarget(server);
  const client = new RelayServiceClient(
    `127.0.0.1:${target.port}`,
    credentials.createSsl(Buffer.from(target.caPem)),
  );
  try {
    const bootstrapRefusal = await new Promise<ServiceError | null>((resolve) =>
      client.bootstrap({ cluster: 'sec-1', token: guessedBootstrap, csrPem: 'not a csr' }, (error) =>
        resolve(error),
      ),
    );
    expect(bootstrapRefusal?.code).toBe(grpcStatus.UNAUTHENTICATED);
    expect(bootstrapRefusal?.details).not.toContain(guessedBootstrap);
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${guessedToken}`);
    const call = client.connect(metadata);
    const refused = await new Promise<ServiceError>((resolve) => call.on('error', resolve));
    call.write({
      message: {
        $case: 'hello',
        value: {
          cluster: 'sec-1',
          agentVersion: 'x',
          agentPod: 'x',
          haveVersion: 0,
          have: [],
          digestFormats: [],
          features: [],
        },
      },
    });
    expect(refused.code).toBe(grpcStatus.UNAUTHENTICATED);
    expect(refused.details).not.toContain(guessedToken);
  } finally {
    client.close();
  }
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
});

describe('secret material never leaks', () => {
  it('is absent from every log line of the server and the agent, at trace level', () => {
    // Not vacuous: the scan recognises what it looks for, and the logs saw the whole story.
    expect(known.map((value) => secretsIn(`x${value}x`, known).length > 0)).toEqual(known.map(() => true));
    expect(known.some((value) => value.includes('PRIVATE KEY'))).toBe(true);
    expect(log.lines.length).toBeGreaterThan(20);
    expect(log.text()).toContain('agent connected');
    const leaking = log.lines.filter((line) => secretsIn(line, known).length > 0);
    expect(leaking.map((line) => `${secretsIn(line, known).join(', ')}: ${line.slice(0, 300)}`)).toEqual([]);
  });

  it('is absent from /metrics of the server and the agent', async () => {
    const serverMetrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    const agentMetrics = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
    expect(serverMetrics).toContain('kuberelay_mgmt_connected_agents 1');
    expect(secretsIn(serverMetrics, known)).toEqual([]);
    expect(secretsIn(agentMetrics, known)).toEqual([]);
  });

  it('is absent from relayctl check and status, in text and JSON', async () => {
    for (const args of [['check'], ['check', '-o', 'json'], ['status'], ['status', '-o', 'json']]) {
      const run = await relayctl(lab, [...args, '--kubecontext', 'mgmt', '-n', namespace]);
      expect(run.out, `relayctl ${args.join(' ')}`).toContain('sec-1');
      expect(secretsIn(run.out + run.err, known), `relayctl ${args.join(' ')}`).toEqual([]);
    }
    // register prints progress on stderr (and the Secret goes to the workload cluster, not stdout).
    expect(secretsIn(registration.stdout + registration.stderr, known)).toEqual([]);
  });

  it('is absent from what the server writes to the API: status, the rejected-agents record, Events', async () => {
    const written = await Promise.all([
      mgmt.request({ method: 'GET', path: resourcePath({ ...KUBERNETES_CLUSTER, namespace }) }),
      mgmt
        .request({
          method: 'GET',
          path: `/api/v1/namespaces/${namespace}/configmaps/${REJECTED_AGENTS_CONFIGMAP}`,
        })
        .catch(() => ({})),
      mgmt.request({ method: 'GET', path: `/api/v1/namespaces/${namespace}/events` }),
      mgmt.request({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases` }),
    ]);
    expect(secretsIn(JSON.stringify(written), known)).toEqual([]);
  });
});
