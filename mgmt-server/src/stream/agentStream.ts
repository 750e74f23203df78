import type { ConnectResponse, Hello } from '@kuberelay/proto';
import type { Logger } from '@kuberelay/shared';
import type { StreamLease } from '../limits/index.js';
import { AsyncQueue } from './asyncQueue.js';
import { ConnectedStream, type StreamInput } from './connectedStream.js';
import { dialectOf, wireDigestFormat } from './digestFormat.js';
import { checkHello, toEndCode } from './streamChecks.js';
import { StreamEndCode, StreamError } from './streamError.js';
import type { StreamEvent } from './streamEvents.js';
import type {
  AgentStreamIo,
  AgentStreamOptions,
  StreamCertificates,
  StreamSettings,
} from './streamOptions.js';
import type { StreamSession } from './streamSessions.js';

export type { AgentStreamIo, AgentStreamOptions, StreamCertificates, StreamSettings };

/**
 * Most inputs waiting to be handled before the stream stops reading the agent's messages. Each is
 * at most one decoded message (bounded by the decoding boundary), so this bounds what one stream
 * buffers however slowly its state machine goes; the agent is pushed back by HTTP/2 flow control.
 */
export const MAX_PENDING_INPUTS = 16;

/** How long a refused agent gets to send its Hello, so the rejected-agents record can name it. */
const REJECTED_HELLO_WAIT_MS = 2_000;

/**
 * Runs one agent stream to its end (docs/design.md, Protocol). This file is the admission: wait for
 * the server's complete view, authenticate the client certificate, admit the stream (limits),
 * expect a Hello naming the authenticated and registered cluster, Welcome; then ConnectedStream
 * (connectedStream.ts) serves versions, Acks, heartbeats. Resolves with the error the stream must
 * end with, or undefined when it ended normally (the agent closed it). Never rejects.
 */
export async function runAgentStream(options: AgentStreamOptions): Promise<StreamError | undefined> {
  const stream = new AgentStream(options);
  return stream.run();
}

class AgentStream {
  #lease: StreamLease | undefined;
  readonly #o: AgentStreamOptions;
  readonly #queue = new AsyncQueue<StreamInput>({ limit: MAX_PENDING_INPUTS });
  /** Ends timers and watches of this stream (not the server). */
  readonly #local = new AbortController();
  #logger: Logger;
  #cluster = '';
  #uid: string | undefined;
  #peerClosed = false;

  constructor(options: AgentStreamOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ stream: options.streamId });
  }

  async run(): Promise<StreamError | undefined> {
    const onAbort = () =>
      this.#queue.push({
        type: 'end',
        error: new StreamError({ code: StreamEndCode.ShuttingDown, message: 'the server is shutting down' }),
      });
    if (this.#o.signal.aborted) onAbort();
    this.#o.signal.addEventListener('abort', onAbort, { once: true });
    void this.#pump();
    let session: StreamSession | undefined;
    let connected = false;
    let outcome: StreamError | undefined;
    try {
      // A restarting server says nothing, not even a refusal, until it has a complete view
      // (docs/spec.md §4): before the registry is synced every agent would look unregistered.
      await this.#untilReady();
      // A peer refused too often lately is cut off before any work is done for it.
      const cutOff = this.#o.limits?.refusals.check(this.#o.credentials.peer);
      if (cutOff !== undefined)
        return new StreamError({ code: StreamEndCode.ResourceExhausted, message: cutOff.message });
      const identity = this.#o.authenticator.authenticate(this.#o.credentials);
      if (!identity.ok) {
        const error = identity.errors[0];
        return await this.#refuseUnauthenticated(
          new StreamError({ code: toEndCode(error.code), message: error.message }),
        );
      }
      this.#cluster = identity.value.cluster;
      this.#uid = identity.value.uid;
      const admission = this.#o.limits?.streams.admit(this.#cluster);
      if (admission !== undefined && !admission.ok) {
        return new StreamError({ code: StreamEndCode.ResourceExhausted, message: admission.refusal.message });
      }
      this.#lease = admission?.lease;
      this.#logger = this.#logger.child({ cluster: this.#cluster });
      const hello = await this.#expectHello();
      const dialect = dialectOf(hello);
      session = {
        id: this.#o.streamId,
        cluster: this.#cluster,
        end: (error) => this.#queue.push({ type: 'end', error }),
      };
      this.#o.sessions.claim(session);
      const unwatch = this.#o.cache.watch(this.#cluster, (next) =>
        this.#queue.push({ type: 'snapshot', snapshot: next }),
      );
      this.#local.signal.addEventListener('abort', unwatch, { once: true });
      await this.#send({
        $case: 'welcome',
        value: {
          cluster: this.#cluster,
          mgmtCluster: this.#o.settings.mgmtCluster,
          serverPod: this.#o.settings.serverPod,
          distributionEnabled: this.#o.settings.distributionEnabled,
          heartbeatSeconds: this.#o.settings.heartbeatSeconds,
          digestFormat: wireDigestFormat(dialect.digestFormat),
        },
      });
      connected = true;
      const certificates = this.#o.certificates;
      if (certificates !== undefined) {
        // Always once after Welcome, then on every change: an agent that was away during a CA
        // rotation step learns the current bundle when it reconnects.
        const unsubscribe = certificates.onBundleChange((bundlePem) =>
          this.#queue.push({ type: 'trust', bundlePem }),
        );
        this.#local.signal.addEventListener('abort', unsubscribe, { once: true });
        await this.#send({ $case: 'trust', value: { caBundlePem: certificates.bundlePem() } });
      }
      this.#observe({
        type: 'connected',
        streamId: this.#o.streamId,
        cluster: this.#cluster,
        agentVersion: hello.agentVersion,
        agentPod: hello.agentPod,
        agentReplicas: hello.agentReplicas,
        peer: this.#o.credentials.peer,
      });
      this.#logger.info(
        {
          agentVersion: hello.agentVersion,
          agentPod: hello.agentPod,
          haveVersion: hello.haveVersion,
          have: hello.have.length,
        },
        'agent connected',
      );
      outcome = await new ConnectedStream({
        options: this.#o,
        queue: this.#queue,
        signal: this.#local.signal,
        logger: this.#logger,
        cluster: this.#cluster,
        uid: this.#uid,
        dialect,
        send: (message) => this.#send(message),
        observe: (event) => this.#observe(event),
      }).run(hello);
      return outcome;
    } catch (error) {
      if (this.#peerClosed && error instanceof StreamError && error.code === StreamEndCode.Internal) {
        // The agent went away while we were talking: a normal end, not a failure.
        outcome = undefined;
        return undefined;
      }
      outcome =
        error instanceof StreamError
          ? error
          : new StreamError({ code: StreamEndCode.Internal, message: 'internal error', cause: error });
      if (outcome.code === StreamEndCode.Internal) {
        this.#logger.error({ err: error }, 'agent stream failed');
      }
      return outcome;
    } finally {
      this.#lease?.release();
      this.#o.signal.removeEventListener('abort', onAbort);
      this.#local.abort();
      this.#queue.release();
      const wasCurrent = session !== undefined && this.#o.sessions.release(session);
      if (connected) {
        this.#observe({
          type: 'disconnected',
          streamId: this.#o.streamId,
          cluster: this.#cluster,
          wasCurrent,
          code: outcome?.code ?? 'Closed',
        });
        this.#logger.info(
          { code: outcome?.code ?? 'Closed', reason: outcome?.message },
          'agent disconnected',
        );
      }
    }
  }

  /**
   * Reads the agent's messages into the queue until the call ends. The message rate is charged
   * here, as messages arrive, not when the state machine gets to them: a flood ends the stream
   * before it is buffered. While the queue is full, reading waits (backpressure).
   */
  async #pump(): Promise<void> {
    try {
      for await (const message of this.#o.io.messages) {
        const limited = this.#lease?.onMessage();
        if (limited !== undefined) {
          this.#queue.push({
            type: 'end',
            error: new StreamError({ code: StreamEndCode.ResourceExhausted, message: limited.message }),
          });
          return;
        }
        this.#queue.push({ type: 'message', message });
        await this.#queue.room();
      }
    } catch (error) {
      if (error instanceof StreamError) {
        // The decoding boundary refused a message (malformed, over a limit): end with its status.
        this.#queue.push({ type: 'end', error });
        return;
      }
      this.#logger.debug({ err: error }, 'agent stream read ended with an error');
    }
    this.#peerClosed = true;
    this.#queue.push({ type: 'closed' });
  }

  async #refuseUnauthenticated(error: StreamError): Promise<StreamError> {
    // The decision is already made; waiting briefly for the Hello only lets the record name the
    // cluster the agent claims (what an operator looks for in `relayctl check`).
    this.#deadline(REJECTED_HELLO_WAIT_MS);
    const first = await this.#queue.next();
    const claimed =
      first.type === 'message' && first.message.message?.$case === 'hello'
        ? first.message.message.value.cluster
        : undefined;
    this.#reject(claimed, error);
    return error;
  }

  #reject(claimedCluster: string | undefined, error: StreamError): void {
    this.#o.limits?.refusals.recordRefusal(this.#o.credentials.peer);
    this.#observe({
      type: 'rejected',
      claimedCluster,
      code: error.code,
      reason: error.message,
      peer: this.#o.credentials.peer,
    });
    this.#logger.warn(
      { claimedCluster, code: error.code, reason: error.message, peer: this.#o.credentials.peer },
      'agent refused',
    );
  }

  async #expectHello(): Promise<Hello> {
    this.#deadline(3 * this.#o.settings.heartbeatSeconds * 1000);
    const first = await this.#queue.next();
    if (first.type === 'end') throw first.error;
    const checked = checkHello({
      first: first.type === 'message' ? first.message : undefined,
      cluster: this.#cluster,
      registered: this.#o.cache.get(this.#cluster) !== undefined,
    });
    if (!checked.ok) throw this.#refusal(checked.claimed, checked.error);
    return checked.hello;
  }

  #refusal(claimed: string | undefined, error: StreamError): StreamError {
    this.#reject(claimed, error);
    return error;
  }

  /** Waits for the first desired state without touching the queue (the Hello stays in it). */
  async #untilReady(): Promise<void> {
    if (this.#o.cache.isReady()) return;
    const signal = this.#o.signal;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(new StreamError({ code: StreamEndCode.ShuttingDown, message: 'the server is shutting down' }));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void this.#o.cache.ready.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Pushes a `timeout` input after `ms` (every input goes through the queue: racing promises
   * against `next()` would lose the item an abandoned `next()` receives). */
  #deadline(ms: number): void {
    this.#o.clock.sleep(ms, this.#local.signal).then(
      () => this.#queue.push({ type: 'timeout' }),
      () => {},
    );
  }

  async #send(message: ConnectResponse['message']): Promise<void> {
    if (this.#peerClosed) {
      throw new StreamError({ code: StreamEndCode.Internal, message: 'the agent closed the stream' });
    }
    try {
      await this.#o.io.send({ message });
    } catch (error) {
      throw new StreamError({
        code: StreamEndCode.Internal,
        message: 'sending to the agent failed',
        cause: error,
      });
    }
  }

  #observe(event: StreamEvent): void {
    try {
      this.#o.observe?.(event);
    } catch (error) {
      this.#logger.error({ err: error, event: event.type }, 'stream observer failed');
    }
  }
}
