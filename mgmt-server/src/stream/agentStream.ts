import {
  type ConnectRequest,
  type ConnectResponse,
  type Copy,
  type CopyResult,
  DEFAULT_CHUNK_BYTES,
  type Hello,
  splitVersion,
} from '@kuberelay/proto';
import { createBackoff, type DesiredCopy, type Logger } from '@kuberelay/shared';
import type { StreamLease } from '../limits/index.js';
import type { ClusterSnapshot } from '../snapshot/snapshotCache.js';
import { AsyncQueue } from './asyncQueue.js';
import { checkAlive, checkHello, renewOnStream, toEndCode } from './streamChecks.js';
import { StreamEndCode, StreamError } from './streamError.js';
import type { StreamEvent } from './streamEvents.js';
import type {
  AgentStreamIo,
  AgentStreamOptions,
  StreamCertificates,
  StreamSettings,
} from './streamOptions.js';
import type { StreamSession } from './streamSessions.js';
import { type ProtocolStep, VersionProtocol, type VersionToSend } from './versionProtocol.js';

export type { AgentStreamIo, AgentStreamOptions, StreamCertificates, StreamSettings };

/** Inputs of the state machine, handled one at a time in arrival order. */
type Input =
  | { readonly type: 'message'; readonly message: ConnectRequest }
  | { readonly type: 'closed' }
  | { readonly type: 'snapshot'; readonly snapshot: ClusterSnapshot | undefined }
  | { readonly type: 'tick' }
  | { readonly type: 'retry' }
  /** A one-off deadline (Hello wait) passed; ignored once it no longer matters. */
  | { readonly type: 'timeout' }
  /** The relay CA bundle changed: push it (TrustBundle). */
  | { readonly type: 'trust'; readonly bundlePem: string }
  | { readonly type: 'end'; readonly error: StreamError };

/**
 * Most inputs waiting to be handled before the stream stops reading the agent's messages. Each is
 * at most one decoded message (bounded by the decoding boundary), so this bounds what one stream
 * buffers however slowly its state machine goes; the agent is pushed back by HTTP/2 flow control.
 */
export const MAX_PENDING_INPUTS = 16;

/** How long a refused agent gets to send its Hello, so the rejected-agents record can name it. */
const REJECTED_HELLO_WAIT_MS = 2_000;

/**
 * Runs one agent stream to its end (docs/design.md, Protocol): authenticate from metadata, expect
 * a Hello naming the authenticated and registered cluster, Welcome, then versions with one in
 * flight, Ack/Nack handling, heartbeats. Resolves with the error the stream must end with, or
 * undefined when it ended normally (the agent closed it). Never rejects.
 */
export async function runAgentStream(options: AgentStreamOptions): Promise<StreamError | undefined> {
  const stream = new AgentStream(options);
  return stream.run();
}

class AgentStream {
  #lease: StreamLease | undefined;
  readonly #o: AgentStreamOptions;
  readonly #queue = new AsyncQueue<Input>({ limit: MAX_PENDING_INPUTS });
  /** Ends timers and watches of this stream (not the server). */
  readonly #local = new AbortController();
  readonly #protocol: VersionProtocol;
  #logger: Logger;
  #cluster = '';
  #uid: string | undefined;
  #peerClosed = false;
  #lastHeard = 0;

  constructor(options: AgentStreamOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ stream: options.streamId });
    this.#protocol = new VersionProtocol({
      distributionEnabled: options.settings.distributionEnabled,
      retryBackoff: createBackoff({ minMs: 1_000, maxMs: 60_000, ...options.settings.retryBackoff }),
    });
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
      // A restarting server says nothing, not even a refusal, until it has a complete view (docs/spec.md
      // §4): before the token Secrets are synced every agent would look unauthenticated.
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
      this.#lastHeard = this.#o.clock.now();
      this.#startHeartbeats();
      // The snapshot was checked by #expectHello; a deregistration since arrives as an input.
      await this.#step(
        this.#protocol.start({
          have: hello.have,
          haveVersion: hello.haveVersion,
          snapshot: this.#o.cache.get(this.#cluster),
          now: this.#o.clock.now(),
        }),
      );
      outcome = await this.#loop();
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

  #startHeartbeats(): void {
    const periodMs = this.#o.settings.heartbeatSeconds * 1000;
    const signal = this.#local.signal;
    void (async () => {
      while (!signal.aborted) {
        try {
          await this.#o.clock.sleep(periodMs, signal);
        } catch {
          return;
        }
        this.#queue.push({ type: 'tick' });
      }
    })();
  }

  async #loop(): Promise<StreamError | undefined> {
    for (;;) {
      const input = await this.#queue.next();
      switch (input.type) {
        case 'end':
          return input.error;
        case 'closed':
          return undefined;
        case 'snapshot':
          if (input.snapshot === undefined) {
            return new StreamError({
              code: StreamEndCode.Deregistered,
              message: `cluster "${this.#cluster}" was deregistered (KubernetesCluster deleted)`,
            });
          }
          await this.#step(this.#protocol.snapshot(input.snapshot, this.#o.clock.now()));
          break;
        case 'timeout':
          break;
        case 'trust':
          await this.#send({ $case: 'trust', value: { caBundlePem: input.bundlePem } });
          break;
        case 'retry':
          await this.#step(this.#protocol.retryDue(this.#o.clock.now()));
          break;
        case 'tick': {
          const problem = this.#checkAlive();
          if (problem !== undefined) return problem;
          await this.#send({ $case: 'heartbeat', value: { unixMillis: this.#o.clock.now() } });
          break;
        }
        case 'message': {
          this.#lastHeard = this.#o.clock.now();
          const problem = await this.#handleMessage(input.message);
          if (problem !== undefined) return problem;
          break;
        }
      }
    }
  }

  #checkAlive(): StreamError | undefined {
    return checkAlive({
      now: this.#o.clock.now(),
      lastHeard: this.#lastHeard,
      heartbeatSeconds: this.#o.settings.heartbeatSeconds,
      // Credentials are re-checked so an expired certificate, a CA dropped from the bundle or a
      // re-registration (another uid) ends open streams too.
      identity: this.#o.authenticator.authenticate(this.#o.credentials),
      cluster: this.#cluster,
      uid: this.#uid,
    });
  }

  async #handleMessage(request: ConnectRequest): Promise<StreamError | undefined> {
    const message = request.message;
    switch (message?.$case) {
      case undefined:
        return new StreamError({ code: StreamEndCode.InvalidArgument, message: 'empty message' });
      case 'hello':
        return new StreamError({
          code: StreamEndCode.InvalidArgument,
          message: 'Hello sent twice on one stream',
        });
      case 'heartbeat':
        this.#observe({ type: 'heartbeat', cluster: this.#cluster });
        return undefined;
      case 'report':
        this.#observe({
          type: 'reported',
          cluster: this.#cluster,
          version: message.value.version,
          results: message.value.results,
        });
        return undefined;
      case 'ack': {
        const { version, digest, results } = message.value;
        await this.#step(this.#protocol.ack({ version, digest, now: this.#o.clock.now() }), results);
        return undefined;
      }
      case 'nack': {
        const { version, reason, message: text } = message.value;
        await this.#step(this.#protocol.nack({ version, reason, message: text, now: this.#o.clock.now() }));
        return undefined;
      }
      case 'renew':
        return this.#onRenew(message.value.csrPem);
    }
  }

  async #onRenew(csrPem: string): Promise<StreamError | undefined> {
    const renewed = await renewOnStream({
      certificates: this.#o.certificates,
      cluster: this.#cluster,
      uid: this.#uid,
      csrPem,
    });
    if (renewed instanceof StreamError) return renewed;
    this.#logger.info('client certificate renewed');
    await this.#send({ $case: 'renewed', value: renewed });
    return undefined;
  }

  /** Does what the version protocol decided: observe, schedule a retry, send a version. */
  async #step(step: ProtocolStep, ackResults: readonly CopyResult[] = []): Promise<void> {
    if (step.ignored !== undefined) this.#logger.debug({ why: step.ignored }, 'ignored a message');
    if (step.acked !== undefined) {
      this.#observe({ type: 'acked', cluster: this.#cluster, ...step.acked, results: ackResults });
    }
    if (step.nacked !== undefined) {
      this.#observe({ type: 'nacked', cluster: this.#cluster, ...step.nacked });
      this.#logger.warn(step.nacked, 'agent rejected a version');
    }
    if (step.retryAfterMs !== undefined) {
      this.#o.clock.sleep(step.retryAfterMs, this.#local.signal).then(
        () => this.#queue.push({ type: 'retry' }),
        () => {},
      );
    }
    if (step.send !== undefined) await this.#sendVersion(step.send);
  }

  async #sendVersion(next: VersionToSend): Promise<void> {
    const { version, replace, upserts, removes, snapshot } = next;
    const deltas = splitVersion(
      {
        version,
        replace,
        upserts: upserts.map((copy) => this.#copyMessage(copy)),
        removes: [...removes],
        digest: snapshot.digest,
      },
      this.#o.settings.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    );
    this.#logger.debug(
      { version, replace, upserts: upserts.length, removes: removes.length, chunks: deltas.length },
      'sending version',
    );
    for (const delta of deltas) {
      await this.#send({ $case: 'delta', value: delta });
    }
    this.#observe({ type: 'sent', cluster: this.#cluster, version, replace, snapshot });
  }

  #copyMessage(copy: DesiredCopy): Copy {
    return {
      key: copy.key,
      hash: copy.hash,
      manifest: this.#o.cache.encoded.manifest(copy),
      overwrite: copy.overwrite,
    };
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
