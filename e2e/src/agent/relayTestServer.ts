import {
  Server,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  type Ack,
  type BootstrapRequest,
  type BootstrapResponse,
  type ConnectRequest,
  type ConnectResponse,
  type Copy,
  DigestFormat,
  type Hello,
  type Nack,
  policyFromWire,
  RelayServiceService,
  type Report,
  splitVersion,
} from '@kuberelay/proto';
import { copyPolicy, stateDigest } from '@kuberelay/shared';
import { parseClusterIdentity, verifyCertificate } from '@kuberelay/shared/pki';
import { MGMT } from './testCopy.js';
import { RelayTestServerCredentials, signClientCsr, type TestPki } from './testPki.js';

// The test RelayService itself. Its PKI (CA, server and client certificates) is in testPki.ts and
// the copies it serves are built by testCopy.ts; both are re-exported here, where tests import them.
export { buildTestCopy, MGMT } from './testCopy.js';
export { createTestPki, signClientCsr, type TestPki } from './testPki.js';

export const TEST_CLUSTER = 'cluster-1';

/** What the agent holds of a copy; `overwrite` is unknown for what only Hello told us. */
interface Held {
  readonly hash: string;
  readonly overwrite?: boolean;
}

interface AgentStream {
  readonly call: ServerDuplexStream<ConnectRequest, ConnectResponse>;
  readonly hello: Hello;
  /** What the agent holds as far as this stream knows (after its Hello, then each Ack). */
  holds: Map<string, Held>;
  inFlight: { version: number; desired: Map<string, Copy> } | undefined;
}

export interface RelayTestServerOptions {
  readonly pki: TestPki;
  readonly port?: number;
  readonly distributionEnabled?: boolean;
  /** One-time bootstrap tokens the server accepts (each once). */
  readonly bootstrapTokens?: readonly string[];
  /** Lifetime of the client certificates it signs (bootstrap and renewal). Default 1 day. */
  readonly clientCertLifetimeMs?: number;
}

/**
 * A small RelayService for driving a real agent over mutual TLS: Bootstrap with one-time tokens,
 * client certificate checks on Connect (relay CA, client usage, cluster from the SPIFFE URI),
 * renewal, Welcome, and Deltas computed against what the agent said it has (Hello) and then
 * acknowledged, one version in flight. It records every Hello, Ack, Nack, Report, bootstrap and
 * renewal, and the certificate each stream was opened with.
 */
export class RelayTestServer {
  readonly hellos: Hello[] = [];
  /** Bootstrap calls, accepted or not. */
  bootstraps = 0;
  /** Certificates signed in answer to RenewRequest. */
  readonly renewals: string[] = [];
  /** Serial number of the client certificate of each accepted stream, in order. */
  readonly streamCertSerials: string[] = [];
  readonly acks: Ack[] = [];
  readonly nacks: Nack[] = [];
  readonly reports: Report[] = [];
  readonly #server = new Server();
  #port = 0;
  #desired = new Map<string, Copy>();
  #version = 1_000;
  #stream: AgentStream | undefined;
  #distributionEnabled = true;
  #pki: TestPki | undefined;
  #bootstrapTokens = new Set<string>();
  #lifetimeMs = 86_400_000;

  static async start(options: RelayTestServerOptions): Promise<RelayTestServer> {
    const server = new RelayTestServer();
    server.#distributionEnabled = options.distributionEnabled ?? true;
    server.#pki = options.pki;
    server.#bootstrapTokens = new Set(options.bootstrapTokens ?? []);
    server.#lifetimeMs = options.clientCertLifetimeMs ?? server.#lifetimeMs;
    server.#server.addService(RelayServiceService, {
      connect: (call: ServerDuplexStream<ConnectRequest, ConnectResponse>) => server.#connect(call),
      bootstrap: (
        call: ServerUnaryCall<BootstrapRequest, BootstrapResponse>,
        callback: sendUnaryData<BootstrapResponse>,
      ) => {
        server.#bootstrap(call.request).then(
          (response) => callback(null, response),
          (error: { code: status; details: string }) => callback(error),
        );
      },
    });
    server.#port = await new Promise<number>((resolve, reject) =>
      server.#server.bindAsync(
        `127.0.0.1:${options.port ?? 0}`,
        new RelayTestServerCredentials(options.pki),
        (error, port) => (error ? reject(error) : resolve(port)),
      ),
    );
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get connected(): boolean {
    return this.#stream !== undefined;
  }

  /** Sets the desired copies; a connected agent gets the difference as the next version. */
  publish(copies: readonly Copy[]): number {
    this.#desired = new Map(copies.map((c) => [c.key, c]));
    return this.#sendNext();
  }

  /** Resolves with the Ack of `version` (or the first Ack at or after it). The bound only tells
   * "never" from "late": a first version on a loaded 2-core machine took over 15 s once. */
  async ackOf(version: number, timeoutMs = 30_000): Promise<Ack> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ack = this.acks.find((a) => a.version >= version);
      if (ack !== undefined) return ack;
      if (Date.now() > deadline) throw new Error(`no Ack of version ${version} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.#stream?.call.end();
    this.#server.forceShutdown();
  }

  /** Streams opened, including refused ones. */
  connects = 0;

  /** Sends a TrustBundle to the connected agent. */
  sendTrustBundle(caBundlePem: string): void {
    this.#stream?.call.write({ message: { $case: 'trust', value: { caBundlePem } } });
  }

  async #bootstrap(request: BootstrapRequest): Promise<BootstrapResponse> {
    this.bootstraps += 1;
    const pki = this.#requirePki();
    if (!this.#bootstrapTokens.delete(request.token)) {
      throw {
        code: status.UNAUTHENTICATED,
        details: `the bootstrap token for cluster ${request.cluster} is used, expired or revoked; run relayctl register ${request.cluster} --kubecontext <mgmt> again`,
      };
    }
    const certificatePem = await signClientCsr({
      ca: pki.ca,
      csrPem: request.csrPem,
      cluster: request.cluster,
      lifetimeMs: this.#lifetimeMs,
    });
    return { certificatePem, caBundlePem: pki.ca.certPem };
  }

  #requirePki(): TestPki {
    if (this.#pki === undefined) throw new Error('RelayTestServer started without a PKI');
    return this.#pki;
  }

  #connect(call: ServerDuplexStream<ConnectRequest, ConnectResponse>): void {
    this.connects += 1;
    const peer = call.getAuthContext().sslPeerCertificate;
    const verified =
      peer?.raw === undefined
        ? undefined
        : verifyCertificate({
            certificate: peer.raw,
            bundlePem: this.#requirePki().ca.certPem,
            usage: 'client',
            now: Date.now(),
          });
    const cluster = verified?.ok ? parseClusterIdentity(verified.value.uris)?.cluster : undefined;
    if (verified === undefined || !verified.ok || cluster === undefined) {
      call.emit('error', {
        code: status.UNAUTHENTICATED,
        details: verified === undefined ? 'no client certificate' : 'client certificate not accepted',
      });
      return;
    }
    this.streamCertSerials.push(verified.value.serialNumber);
    call.on('error', () => {});
    call.on('data', (request: ConnectRequest) => this.#onRequest(call, request));
    call.on('end', () => {
      if (this.#stream?.call === call) this.#stream = undefined;
      call.end();
    });
  }

  #onRequest(call: ServerDuplexStream<ConnectRequest, ConnectResponse>, request: ConnectRequest): void {
    const message = request.message;
    switch (message?.$case) {
      case 'hello': {
        this.hellos.push(message.value);
        this.#stream = {
          call,
          hello: message.value,
          holds: new Map(message.value.have.map((h) => [h.key, { hash: h.hash }])),
          inFlight: undefined,
        };
        call.write({
          message: {
            $case: 'welcome',
            value: {
              cluster: message.value.cluster,
              mgmtCluster: MGMT,
              serverPod: 'test-server',
              distributionEnabled: this.#distributionEnabled,
              heartbeatSeconds: 5,
              // stateDigest's default below: the entrySum format.
              digestFormat: DigestFormat.DIGEST_FORMAT_ENTRY_SUM,
            },
          },
        });
        this.#sendNext();
        break;
      }
      case 'ack': {
        this.acks.push(message.value);
        const stream = this.#stream;
        if (stream?.inFlight?.version === message.value.version) {
          stream.holds = new Map(
            [...stream.inFlight.desired].map(([k, c]) => [k, { hash: c.hash, overwrite: c.overwrite }]),
          );
          stream.inFlight = undefined;
          // Anything published meanwhile goes out now (one version in flight).
          if (this.#differs(stream)) this.#sendNext();
        }
        break;
      }
      case 'nack':
        this.nacks.push(message.value);
        if (this.#stream) {
          this.#stream.inFlight = undefined;
          this.#stream.holds = new Map();
          this.#sendNext(true);
        }
        break;
      case 'report':
        this.reports.push(message.value);
        break;
      case 'renew': {
        const pki = this.#requirePki();
        const cluster = this.#stream?.hello.cluster ?? TEST_CLUSTER;
        void signClientCsr({
          ca: pki.ca,
          csrPem: message.value.csrPem,
          cluster,
          lifetimeMs: this.#lifetimeMs,
        }).then((certificatePem) => {
          this.renewals.push(certificatePem);
          call.write({
            message: { $case: 'renewed', value: { certificatePem, caBundlePem: pki.ca.certPem } },
          });
        });
        break;
      }
      default:
        break;
    }
  }

  #differs(stream: AgentStream): boolean {
    if (stream.holds.size !== this.#desired.size) return true;
    for (const copy of this.#desired.values()) if (changed(stream.holds.get(copy.key), copy)) return true;
    return false;
  }

  /** Sends the next version (possibly empty) unless one is in flight; returns its number. */
  #sendNext(replace = false): number {
    this.#version += 1;
    const stream = this.#stream;
    if (stream === undefined || !this.#distributionEnabled || stream.inFlight !== undefined)
      return this.#version;
    const desired = new Map(this.#desired);
    const upserts = [...desired.values()].filter((c) => replace || changed(stream.holds.get(c.key), c));
    const removes = replace ? [] : [...stream.holds.keys()].filter((k) => !desired.has(k));
    stream.inFlight = { version: this.#version, desired };
    for (const delta of splitVersion({
      version: this.#version,
      replace,
      upserts,
      removes,
      // The digest covers each copy's policy as the agent reads it off the wire.
      digest: stateDigest(
        new Map(
          [...desired].map(([key, c]) => [key, { ...c, policy: copyPolicy(policyFromWire(c.policy)) }]),
        ),
      ),
    })) {
      stream.call.write({ message: { $case: 'delta', value: delta } });
    }
    return this.#version;
  }
}

function changed(held: Held | undefined, copy: Copy): boolean {
  return (
    held === undefined ||
    held.hash !== copy.hash ||
    (held.overwrite !== undefined && held.overwrite !== copy.overwrite)
  );
}
