import { connect as http2Connect } from 'node:http2';
import { join } from 'node:path';
import { type Agent, identityFromSecret, startAgent } from '@kuberelay/agent';
import type { MgmtServer, MgmtServerOptions } from '@kuberelay/mgmt-server';
import { AGENT_CREDENTIALS_SECRET } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import type { Lab } from '../lab/lab.js';
import { relayctl } from '../relayctl/harness.js';
import { startTestServer, unique } from '../support/testing.js';

// Shared by the hardening tests: a management server on the lab's `mgmt` cluster with a logger
// that keeps every line in memory, a raw HTTP/2 client for frames no gRPC library would send,
// and the scan for secret material in any text.

export { unique };

export async function createNamespace(rest: KubeRest, prefix: string): Promise<string> {
  const name = unique(prefix);
  await rest.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
  return name;
}

/** Every line a pino logger wrote, at every level down to trace. */
export interface CapturedLog {
  readonly logger: pino.Logger;
  readonly lines: string[];
  text(): string;
}

/** A pino logger at `trace` writing to memory (and to stderr too when HARDENING_TEST_LOG is set). */
export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    {
      write: (line: string) => {
        lines.push(line);
        if (process.env.HARDENING_TEST_LOG) process.stderr.write(line);
      },
    },
  );
  return { logger, lines, text: () => lines.join('') };
}

/** A ready management server (support/testing.ts), for the hardening tests. */
export async function startServer(
  lab: Lab,
  namespace: string,
  overrides: Partial<MgmtServerOptions> = {},
): Promise<MgmtServer> {
  const server = await startTestServer(lab, namespace, overrides);
  await server.ready;
  return server;
}

/** The outcome of a raw HTTP/2 request: HTTP status, and the gRPC status from headers or trailers. */
export interface RawOutcome {
  readonly httpStatus: number | undefined;
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string;
  /** The connection or stream failed without a gRPC status (reset, GOAWAY, refused). */
  readonly transportError: string | undefined;
}

/**
 * Sends `body` (already framed, or deliberately not) as one request on a fresh HTTP/2 connection
 * and waits for the end of the response. Never sends anything a well-behaved gRPC client would
 * refuse to send, unless the caller builds it: this is how we reach the server's parser directly.
 */
/** Where the server's gRPC endpoint listens and the CA bundle its certificate chains to. */
export interface GrpcTarget {
  readonly port: number;
  readonly caPem: string;
  /** A client certificate to present (an authenticated peer); absent: none, as any peer can. */
  readonly client?: { readonly certPem: string; readonly keyPem: string };
}

export const grpcTarget = (server: MgmtServer): GrpcTarget => ({
  port: server.grpcPort,
  caPem: server.caBundlePem(),
});

/**
 * An HTTP/2 session over TLS that trusts the relay CA and, unless the target says otherwise, shows
 * no client certificate: what any peer on the network can open (Bootstrap must be reachable so).
 */
function openSession(target: GrpcTarget) {
  const session = http2Connect(`https://127.0.0.1:${target.port}`, {
    ca: target.caPem,
    minVersion: 'TLSv1.3',
    ...(target.client === undefined ? {} : { cert: target.client.certPem, key: target.client.keyPem }),
  });
  session.on('error', () => {});
  return session;
}

export async function rawGrpcCall(options: {
  readonly target: GrpcTarget;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: readonly Uint8Array[];
  /** End the request after the body (default true); false leaves it half-open. */
  readonly end?: boolean;
  readonly timeoutMs?: number;
}): Promise<RawOutcome> {
  const session = openSession(options.target);
  try {
    return await new Promise<RawOutcome>((resolve) => {
      let httpStatus: number | undefined;
      let grpcStatus: number | undefined;
      let grpcMessage = '';
      const take = (headers: Record<string, unknown>) => {
        if (typeof headers[':status'] === 'number') httpStatus = headers[':status'];
        const code = headers['grpc-status'];
        if (code !== undefined) grpcStatus = Number(code);
        const message = headers['grpc-message'];
        if (typeof message === 'string') grpcMessage = decodeURIComponent(message);
      };
      const done = (transportError?: string) => {
        resolve({ httpStatus, grpcStatus, grpcMessage, transportError });
        request.close();
      };
      const timer = setTimeout(() => done('timed out'), options.timeoutMs ?? 10_000);
      const request = session.request({
        ':method': 'POST',
        ':path': options.path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...options.headers,
      });
      request.on('response', (headers) => {
        take(headers);
        // A trailers-only answer: the status is in the headers and the call is over.
        if (grpcStatus !== undefined) {
          clearTimeout(timer);
          done();
        }
      });
      // The status is final once the trailers are in, even if our side never ended the request.
      request.on('trailers', (trailers) => {
        take(trailers);
        clearTimeout(timer);
        done();
      });
      request.on('data', () => {});
      request.on('error', (error: Error) => {
        clearTimeout(timer);
        done(error.message);
      });
      request.on('close', () => {
        clearTimeout(timer);
        done(grpcStatus === undefined ? `closed (rst code ${request.rstCode})` : undefined);
      });
      for (const chunk of options.body) request.write(chunk);
      if (options.end ?? true) request.end();
    });
  } finally {
    session.destroy();
  }
}

/** A gRPC length-prefixed message: flag byte, 4-byte big-endian length, payload. */
export function grpcFrame(
  payload: Uint8Array,
  options: { compressed?: boolean; length?: number } = {},
): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(options.compressed ? 1 : 0, 0);
  header.writeUInt32BE(options.length ?? payload.byteLength, 1);
  return Buffer.concat([header, payload]);
}

export const CONNECT_PATH = '/kuberelay.relay.v1.RelayService/Connect';
export const BOOTSTRAP_PATH = '/kuberelay.relay.v1.RelayService/Bootstrap';
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** Asks the standard health service; 1 is SERVING (grpc.health.v1.HealthCheckResponse). */
export async function healthStatus(target: GrpcTarget): Promise<number | undefined> {
  // HealthCheckRequest{service: ""} is the empty message; the answer is read from the raw frame.
  const session = openSession(target);
  try {
    return await new Promise<number | undefined>((resolve) => {
      const chunks: Buffer[] = [];
      const request = session.request({
        ':method': 'POST',
        ':path': HEALTH_CHECK_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('error', () => resolve(undefined));
      request.on('close', () => {
        const body = Buffer.concat(chunks);
        // Frame header (5 bytes), then field 1 (status) as a varint: 0x08 <status>.
        resolve(body.length >= 7 && body[5] === 0x08 ? body[6] : body.length === 5 ? 0 : undefined);
      });
      request.end(grpcFrame(new Uint8Array()));
    });
  } finally {
    session.destroy();
  }
}

/**
 * Secret material that must never appear outside the places meant to hold it. Full tokens only:
 * redactToken keeps the first 8 characters (`krt_AbCd…(redacted)`), which is fine to show.
 */
const SECRET_PATTERNS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'an agent token (krt_)', pattern: /krt_[A-Za-z0-9_-]{20,}/ },
  { name: 'a bootstrap token (krb_)', pattern: /krb_[A-Za-z0-9_-]{20,}/ },
  { name: 'a PEM private key', pattern: /PRIVATE KEY/ },
];

/** What in `text` looks like a secret, or equals one of `known` (exact values we issued). */
export function secretsIn(text: string, known: readonly string[]): string[] {
  const found = SECRET_PATTERNS.filter((p) => p.pattern.test(text)).map((p) => p.name);
  for (const value of known) {
    if (value.length >= 8 && text.includes(value)) found.push(`the value ${value.slice(0, 8)}…`);
  }
  return found;
}

/** What `relayctl register --remote-context` wrote, and where. */
export interface Registration {
  readonly cluster: string;
  readonly workload: string;
  /** Namespace of the credentials Secret in the workload cluster. */
  readonly credentialsNamespace: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Registers `cluster` as a user does, writing the agent's credentials Secret into `workload`. */
export async function registerCluster(options: {
  readonly lab: Lab;
  readonly server: MgmtServer;
  readonly namespace: string;
  readonly cluster: string;
  readonly workload: string;
  readonly credentialsNamespace: string;
}): Promise<Registration> {
  const run = await relayctl(options.lab, [
    'register',
    options.cluster,
    '--kubecontext',
    'mgmt',
    '-n',
    options.namespace,
    '--remote-context',
    options.workload,
    '--remote-namespace',
    options.credentialsNamespace,
    '--server',
    `127.0.0.1:${options.server.grpcPort}`,
    '--mgmt-cluster',
    'mgmt',
  ]);
  if (run.code !== 0) throw new Error(`relayctl register failed (${run.code}): ${run.err}`);
  return {
    cluster: options.cluster,
    workload: options.workload,
    credentialsNamespace: options.credentialsNamespace,
    stdout: run.out,
    stderr: run.err,
  };
}

/** The credentials Secret's values as text (bootstrap token, certificate, private key, ...). */
export async function credentialValues(
  lab: Lab,
  registration: Registration,
): Promise<Record<string, string>> {
  const secret = await new KubeRest(lab.kubeConfig(registration.workload)).request<{
    data?: Record<string, string>;
  }>({
    method: 'GET',
    path: `/api/v1/namespaces/${registration.credentialsNamespace}/secrets/${AGENT_CREDENTIALS_SECRET}`,
  });
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/**
 * Starts a real agent the way its main.ts does for a Secret: credentials from the Secret that
 * relayctl wrote (bootstrap token and CA bundle), stored back there once it has a certificate.
 */
export async function startRegisteredAgent(options: {
  readonly lab: Lab;
  readonly registration: Registration;
  readonly stateDir: string;
  readonly logger: pino.Logger;
}): Promise<Agent> {
  const { registration } = options;
  const kubeConfig = options.lab.kubeConfig(registration.workload);
  const { identity, credentials } = await identityFromSecret({
    kubeConfig,
    namespace: registration.credentialsNamespace,
    logger: options.logger,
  });
  return startAgent({
    kubeConfig,
    cluster: credentials.cluster,
    serverAddress: credentials.server,
    identity,
    ...(credentials.mgmtCluster === undefined ? {} : { mgmtCluster: credentials.mgmtCluster }),
    stateFile: join(options.stateDir, `${registration.cluster}.json`),
    httpListen: '127.0.0.1:0',
    podName: `agent-${registration.cluster}`,
    logger: options.logger,
  });
}

/** Polls `check` every 200 ms until it holds, or fails after `timeoutMs` naming `what`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
