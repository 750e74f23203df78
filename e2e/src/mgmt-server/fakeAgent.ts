import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type ConnectRequest,
  type ConnectResponse,
  type Delta,
  RelayServiceClient,
  type Welcome,
} from '@kuberelay/proto';

/** TLS of a scripted agent: the CA bundle it trusts and, optionally, its client certificate. */
export interface AgentTls {
  readonly caPem: string;
  readonly keyPem?: string;
  readonly certPem?: string;
}

/**
 * A scripted agent on a real grpc-js channel: what the management server's integration tests use
 * to look at the wire without the real agent's apply logic in the way.
 */
export class ScriptedAgent {
  readonly received: ConnectResponse[] = [];
  /** Resolves with the status the stream ended with (code 0 for OK). */
  readonly ended: Promise<{ code: number; details: string }>;
  readonly #client: RelayServiceClient;
  readonly #call: ReturnType<RelayServiceClient['connect']>;
  #waiters: (() => void)[] = [];

  constructor(options: { port: number; tls?: AgentTls }) {
    const tls = options.tls;
    const channel =
      tls === undefined
        ? credentials.createInsecure()
        : credentials.createSsl(
            Buffer.from(tls.caPem),
            tls.keyPem === undefined ? null : Buffer.from(tls.keyPem),
            tls.certPem === undefined ? null : Buffer.from(tls.certPem),
          );
    this.#client = new RelayServiceClient(`127.0.0.1:${options.port}`, channel);
    this.#call = this.#client.connect(new Metadata());
    this.#call.on('data', (message: ConnectResponse) => {
      this.received.push(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ended = new Promise((resolve) => {
      this.#call.on('error', (error: ServiceError) => resolve({ code: error.code, details: error.details }));
      this.#call.on('status', (status: { code: number; details: string }) => {
        if (status.code === 0) resolve(status);
      });
    });
  }

  send(message: ConnectRequest['message']): void {
    this.#call.write({ message });
  }

  hello(cluster: string): void {
    this.send({
      $case: 'hello',
      // Offers no digest format, as an agent from before they were negotiated.
      value: {
        cluster,
        agentVersion: 'e2e',
        agentPod: 'e2e-agent',
        haveVersion: 0,
        have: [],
        digestFormats: [],
        features: [],
      },
    });
  }

  /** Waits until `count` messages arrived (or fails after `timeoutMs`). */
  async waitForMessages(count: number, timeoutMs = 10_000): Promise<ConnectResponse[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${count} messages, got ${this.received.map((m) => m.message?.$case).join(', ')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  welcome(): Welcome | undefined {
    const first = this.received[0]?.message;
    return first?.$case === 'welcome' ? first.value : undefined;
  }

  deltas(): Delta[] {
    return this.received.flatMap((m) => (m.message?.$case === 'delta' ? [m.message.value] : []));
  }

  close(): void {
    this.#call.end();
    this.#client.close();
  }
}
