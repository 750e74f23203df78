import type { ConnectRequest, ConnectResponse } from '@kuberelay/proto';
import type { RelayStream } from './relayStream.js';

type RequestMessage = NonNullable<ConnectRequest['message']>;
type RequestCase = RequestMessage['$case'];
type RequestOf<C extends RequestCase> = Extract<RequestMessage, { $case: C }>['value'];

/**
 * An in-memory RelayStream for tests: `push` plays the server, `sent` records what the agent
 * said, `end` closes the stream (optionally with an error, as gRPC does).
 */
export class FakeStream implements RelayStream {
  readonly sent: ConnectRequest[] = [];
  cancelled = false;
  readonly #queue: ConnectResponse[] = [];
  #ended: { error?: unknown } | undefined;
  #wake: (() => void) | undefined;
  #onSend: ((message: ConnectRequest) => void) | undefined;

  send(message: ConnectRequest): void {
    this.sent.push(message);
    this.#onSend?.(message);
  }

  /** Called on every message the agent sends (a scripted server). */
  onSend(listener: (message: ConnectRequest) => void): void {
    this.#onSend = listener;
  }

  push(message: ConnectResponse): void {
    this.#queue.push(message);
    this.#wake?.();
  }

  end(error?: unknown): void {
    this.#ended = error === undefined ? {} : { error };
    this.#wake?.();
  }

  cancel(): void {
    this.cancelled = true;
    this.end(Object.assign(new Error('Cancelled on client'), { code: 1, details: 'Cancelled on client' }));
  }

  sentOfCase<C extends RequestCase>(kind: C): RequestOf<C>[] {
    const values: RequestOf<C>[] = [];
    for (const { message } of this.sent) {
      if (message?.$case === kind) values.push(message.value as RequestOf<C>);
    }
    return values;
  }

  get messages(): AsyncIterable<ConnectResponse> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  async *#iterate(): AsyncGenerator<ConnectResponse> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended !== undefined) {
        if ('error' in this.#ended) throw this.#ended.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
