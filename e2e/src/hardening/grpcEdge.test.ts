import { mkdtempSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { credentials, status as grpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Agent } from '@kuberelay/agent';
import type { MgmtServer } from '@kuberelay/mgmt-server';
import { ConnectRequest, RelayServiceClient } from '@kuberelay/proto';
import { ContentType, KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  CONNECT_PATH,
  captureLog,
  createNamespace,
  credentialValues,
  type GrpcTarget,
  grpcFrame,
  grpcTarget,
  healthStatus,
  type Registration,
  rawGrpcCall,
  registerCluster,
  startRegisteredAgent,
  startServer,
  waitUntil,
} from './hardeningHarness.js';

// The gRPC edge of a real management server against what a hostile or broken peer can send:
// messages over the receive limit, garbage, frames no gRPC client would write, and bytes that are
// not HTTP/2 at all. Every call must end with a status that says what was wrong, and the server
// must go on serving the real agent that was connected all along.

/** mgmt-server/src/grpc/grpcServer.ts MAX_RECEIVE_BYTES. */
const SERVER_MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

let lab: Lab;
let namespace: string;
let server: MgmtServer;
let target: GrpcTarget;
let agent: Agent;
let registration: Registration;
const log = captureLog();

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  const rest = new KubeRest(lab.kubeConfig('mgmt'));
  namespace = await createNamespace(rest, 'hard-edge');
  server = await startServer(lab, namespace, { logger: log.logger });
  target = grpcTarget(server);
  const credentialsNamespace = await createNamespace(
    new KubeRest(lab.kubeConfig('cluster-1')),
    'hard-edge-agent',
  );
  registration = await registerCluster({
    lab,
    server,
    namespace,
    cluster: 'edge-1',
    workload: 'cluster-1',
    credentialsNamespace,
  });
  agent = await startRegisteredAgent({
    lab,
    registration,
    stateDir: mkdtempSync(join(tmpdir(), 'kuberelay-hardening-')),
    logger: log.logger,
  });
  await waitUntil('the agent is connected', () => agent.connected());
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
});

/** The server still answers health checks and readiness, and the agent is still connected. */
async function expectStillServing(): Promise<void> {
  expect(await healthStatus(target)).toBe(1);
  const ready = await fetch(`http://127.0.0.1:${server.httpPort}/readyz`);
  expect(ready.status).toBe(200);
  const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  expect(metrics).toContain('kuberelay_mgmt_connected_agents 1');
  expect(agent.connected()).toBe(true);
}

/** Opens a Connect stream with grpc-js over TLS (no client certificate), sends one message. */
async function sendOne(message: ConnectRequest['message']): Promise<{ code: number; details: string }> {
  const client = new RelayServiceClient(
    `127.0.0.1:${target.port}`,
    credentials.createSsl(Buffer.from(target.caPem)),
  );
  try {
    const call = client.connect(new Metadata());
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      call.on('error', (error: ServiceError) => resolve({ code: error.code, details: error.details }));
      call.on('status', (s: { code: number; details: string }) => resolve(s));
      call.on('data', () => {});
    });
    call.write({ message });
    return await ended;
  } finally {
    client.close();
  }
}

describe('gRPC edge hardening', () => {
  it('answers an authenticated agent that sends a malformed message with INVALID_ARGUMENT and the reason', async () => {
    const stored = await credentialValues(lab, registration);
    const outcome = await rawGrpcCall({
      target: { ...target, client: { certPem: stored['tls.crt'] ?? '', keyPem: stored['tls.key'] ?? '' } },
      path: CONNECT_PATH,
      body: [grpcFrame(Uint8Array.from([0x0a, 0x05, 0x0a]))],
    });
    expect(outcome.transportError).toBeUndefined();
    expect(outcome.grpcStatus).toBe(grpcStatus.INVALID_ARGUMENT);
    expect(outcome.grpcMessage.length).toBeGreaterThan(0);
    await expectStillServing();
  });

  it('ends a message over the receive limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const ended = await sendOne({
      $case: 'nack',
      value: { version: 1, reason: 0, message: 'x'.repeat(SERVER_MAX_RECEIVE_BYTES + 1024) },
    });
    expect(ended.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    expect(ended.details).toMatch(/larger than max/);
    // The same through a raw frame header that only claims the size: refused before buffering it.
    const claimed = await rawGrpcCall({
      target,
      path: CONNECT_PATH,
      body: [grpcFrame(new Uint8Array(16), { length: 0xffff_fff0 })],
      end: false,
    });
    expect(claimed.grpcStatus).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    await expectStillServing();
  });

  it('refuses a compression bomb once it inflates past the limit', async () => {
    // 64 MiB of zeros gzip to about 64 KiB: small on the wire, four times the receive limit inflated.
    const bomb = gzipSync(Buffer.alloc(4 * SERVER_MAX_RECEIVE_BYTES));
    const outcome = await rawGrpcCall({
      target,
      path: CONNECT_PATH,
      headers: { 'grpc-encoding': 'gzip' },
      body: [grpcFrame(bomb, { compressed: true })],
    });
    expect(outcome.grpcStatus).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    expect(outcome.grpcMessage).toMatch(/decompresses to a size larger than/);
    await expectStillServing();
  });

  // Each case: what goes on the wire, and the status that must come back. Not one of them may
  // crash the server or leave the call hanging.
  it.each<{
    name: string;
    body: Buffer[];
    headers: Record<string, string>;
    codes: number[];
    message: RegExp;
  }>([
    {
      name: 'a frame that is not protobuf (truncated field)',
      body: [grpcFrame(Uint8Array.from([0x0a, 0x05, 0x0a]))],
      headers: {},
      // The decoding boundary hands the handler a refusal instead of throwing, and the handler
      // authenticates first: a peer without a certificate learns nothing about parsing.
      codes: [grpcStatus.UNAUTHENTICATED],
      message: /certificate/i,
    },
    {
      name: 'a 64-bit number past 2^53 (the generated decoder throws)',
      body: [
        grpcFrame(Uint8Array.from([0x22, 0x0a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
      ],
      headers: {},
      codes: [grpcStatus.UNAUTHENTICATED],
      message: /certificate/i,
    },
    {
      name: 'a gzip flag with bytes that are not gzip',
      body: [grpcFrame(Buffer.from('not gzip at all'), { compressed: true })],
      headers: { 'grpc-encoding': 'gzip' },
      codes: [grpcStatus.INTERNAL],
      message: /decompress/i,
    },
    {
      name: 'an encoding the server does not know',
      body: [grpcFrame(Buffer.from('zzz'), { compressed: true })],
      headers: { 'grpc-encoding': 'brotli-please' },
      codes: [grpcStatus.UNIMPLEMENTED],
      message: /brotli-please/,
    },
    {
      name: 'a message cut short by the end of the stream',
      body: [grpcFrame(new Uint8Array(100)).subarray(0, 40)],
      headers: {},
      // The half message is never decoded: without a client certificate the stream is refused
      // first, promptly, and the refusal says how to get one.
      codes: [grpcStatus.UNAUTHENTICATED],
      message: /.+/,
    },
    {
      name: 'a valid Hello without credentials',
      body: [
        grpcFrame(
          ConnectRequest.encode({
            message: {
              $case: 'hello',
              value: {
                cluster: 'edge-1',
                agentVersion: 'x',
                agentPod: 'x',
                haveVersion: 0,
                have: [],
                digestFormats: [],
                features: [],
              },
            },
          }).finish(),
        ),
      ],
      headers: {},
      codes: [grpcStatus.UNAUTHENTICATED],
      message: /no client certificate/,
    },
  ])('answers $name with a clear status', async ({ body, headers, codes, message }) => {
    const outcome = await rawGrpcCall({ target, path: CONNECT_PATH, headers, body });
    if (process.env.HARDENING_TEST_PRINT) process.stderr.write(`${JSON.stringify(outcome)}\n`);
    expect(outcome.transportError).toBeUndefined();
    expect(codes).toContain(outcome.grpcStatus);
    expect(outcome.grpcMessage).toMatch(message);
  });

  it('answers a request that is not gRPC at all without crashing', async () => {
    const outcome = await rawGrpcCall({
      target,
      path: CONNECT_PATH,
      headers: { 'content-type': 'text/plain' },
      body: [Buffer.from('hello?')],
    });
    expect(outcome.httpStatus).toBe(415);
    const unknown = await rawGrpcCall({
      target,
      path: '/kuberelay.relay.v1.RelayService/Nope',
      body: [grpcFrame(new Uint8Array())],
    });
    expect(unknown.grpcStatus).toBe(grpcStatus.UNIMPLEMENTED);
    await expectStillServing();
  });

  it('drops a connection that speaks garbage instead of TLS, and keeps serving', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(target.port, '127.0.0.1', () => {
        socket.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));
      });
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => resolve(true));
      setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 10_000);
    });
    expect(closed).toBe(true);
    await expectStillServing();
    // Nothing a peer sends is worth more than a debug line: no error-level noise an attacker
    // could use to flood the logs (and hide in them).
    const errors = log.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });

  it('does not recompute the desired state when a KubernetesCluster changes but the registered set does not', async () => {
    const computes = async () => {
      const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
      return Number(/^kuberelay_mgmt_desired_state_compute_seconds_count (\d+)$/m.exec(text)?.[1]);
    };
    const mgmt = new KubeRest(lab.kubeConfig('mgmt'));
    const path = `/apis/admin.gloo.solo.io/v2/namespaces/${namespace}/kubernetesclusters/edge-1`;
    const before = await computes();
    // What the status writes of a thousand streams look like to the server's watch: MODIFIED
    // events of registered clusters. Two of them, each seen by the server's /metrics scrape.
    for (const n of ['1', '2']) {
      await mgmt.request({
        method: 'PATCH',
        path,
        contentType: ContentType.mergePatch,
        body: { metadata: { annotations: { 'test.kuberelay.dev/touched': n } } },
      });
    }
    // A registration that changes the set does recompute: the metric is the one that would move.
    const other = `${path.slice(0, path.lastIndexOf('/'))}`;
    await mgmt.request({
      method: 'POST',
      path: other,
      body: {
        apiVersion: 'admin.gloo.solo.io/v2',
        kind: 'KubernetesCluster',
        metadata: { name: 'edge-idle', namespace },
        spec: { clusterDomain: 'cluster.local' },
      },
    });
    await waitUntil('a recompute for the new cluster', async () => (await computes()) > before);
    expect(Number.isFinite(before)).toBe(true);
    expect(await computes()).toBe(before + 1);
    await mgmt.request({ method: 'DELETE', path: `${other}/edge-idle` });
  });
});
