import { Server, ServerCredentials, type ServerDuplexStream, status } from '@grpc/grpc-js';
import {
  type Ack,
  type ConnectRequest,
  type ConnectResponse,
  type Copy,
  type Hello,
  type Nack,
  RelayServiceService,
  type Report,
  splitVersion,
} from '@kuberelay/proto';
import {
  contentHash,
  formatSourceUri,
  type KubeObject,
  objectKey,
  objectRefOf,
  stateDigest,
} from '@kuberelay/shared';

export const TEST_TOKEN = 'krt_test-token';
export const MGMT = 'mgmt-e2e';

/** A copy as the management server would build it (SPEC §3 labels and annotation). */
export function buildTestCopy(options: {
  readonly object: KubeObject;
  readonly sourceNamespace?: string;
  readonly overwrite?: boolean;
  readonly mgmtCluster?: string;
}): Copy {
  const mgmtCluster = options.mgmtCluster ?? MGMT;
  const { object } = options;
  const copy: KubeObject = {
    ...object,
    metadata: {
      ...object.metadata,
      labels: {
        ...object.metadata.labels,
        'app.kubernetes.io/managed-by': 'kuberelay-agent',
        'relay.solo.io/cluster': mgmtCluster,
      },
      annotations: {
        ...object.metadata.annotations,
        'gloo.solo.io/distributed-source': formatSourceUri({
          mgmtCluster,
          namespace:
            object.metadata.namespace === undefined ? undefined : (options.sourceNamespace ?? 'source-ns'),
          kind: object.kind,
          name: object.metadata.name,
        }),
      },
    },
  };
  return {
    key: objectKey(objectRefOf(copy)),
    hash: contentHash(copy),
    manifest: Buffer.from(JSON.stringify(copy)),
    overwrite: options.overwrite ?? false,
  };
}

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

/**
 * A small RelayService for driving a real agent: a token check, Welcome, and Deltas computed
 * against what the agent said it has (Hello) and then acknowledged, one version in flight.
 * It records every Hello, Ack, Nack and Report.
 */
export class RelayTestServer {
  readonly hellos: Hello[] = [];
  readonly acks: Ack[] = [];
  readonly nacks: Nack[] = [];
  readonly reports: Report[] = [];
  readonly #server = new Server();
  #port = 0;
  #desired = new Map<string, Copy>();
  #version = 1_000;
  #stream: AgentStream | undefined;
  #distributionEnabled = true;

  static async start(
    options: { port?: number; distributionEnabled?: boolean } = {},
  ): Promise<RelayTestServer> {
    const server = new RelayTestServer();
    server.#distributionEnabled = options.distributionEnabled ?? true;
    server.#server.addService(RelayServiceService, {
      connect: (call: ServerDuplexStream<ConnectRequest, ConnectResponse>) => server.#connect(call),
    });
    server.#port = await new Promise<number>((resolve, reject) =>
      server.#server.bindAsync(
        `127.0.0.1:${options.port ?? 0}`,
        ServerCredentials.createInsecure(),
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

  /** Resolves with the Ack of `version` (or the first Ack at or after it). */
  async ackOf(version: number, timeoutMs = 15_000): Promise<Ack> {
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

  #connect(call: ServerDuplexStream<ConnectRequest, ConnectResponse>): void {
    this.connects += 1;
    const auth = call.metadata.get('authorization')[0];
    if (auth !== `Bearer ${TEST_TOKEN}`) {
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'unknown token' });
      return;
    }
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
      digest: stateDigest(desired),
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
