import {
  type ConnectRequest,
  type ConnectResponse,
  type Copy,
  type CopyResult,
  DEFAULT_CHUNK_BYTES,
  type Hello,
  policyToWire,
  splitVersion,
} from '@kuberelay/proto';
import { createBackoff, type DesiredCopy, type Logger } from '@kuberelay/shared';
import {
  type ClusterSnapshot,
  hasPolicy,
  type StreamDialect,
  snapshotDigest,
} from '../snapshot/snapshotCache.js';
import type { AsyncQueue } from './asyncQueue.js';
import { checkAlive, renewOnStream } from './streamChecks.js';
import { StreamEndCode, StreamError } from './streamError.js';
import type { StreamEvent } from './streamEvents.js';
import type { AgentStreamOptions } from './streamOptions.js';
import { type ProtocolStep, VersionProtocol, type VersionToSend } from './versionProtocol.js';

/** Inputs of the state machine, handled one at a time in arrival order. */
export type StreamInput =
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

/** What the connected phase shares with the stream that admitted the agent. */
export interface ConnectedContext {
  readonly options: AgentStreamOptions;
  readonly queue: AsyncQueue<StreamInput>;
  /** Ends with the stream: timers and watches of this stream stop. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly cluster: string;
  readonly uid: string | undefined;
  /** What the Hello and Welcome agreed for this stream's digests and copies. */
  readonly dialect: StreamDialect;
  send(message: ConnectResponse['message']): Promise<void>;
  observe(event: StreamEvent): void;
}

/**
 * An agent stream after Welcome (docs/design.md, Protocol): heartbeats and liveness, the agent's
 * messages, snapshots of its cluster and trust bundles, each handled one at a time from the
 * stream's queue; the versions themselves are decided by the pure VersionProtocol. Resolves with
 * the error the stream must end with, or undefined when the agent closed it.
 */
export class ConnectedStream {
  readonly #c: ConnectedContext;
  readonly #protocol: VersionProtocol;
  #lastHeard: number;
  #warnedPolicy = false;

  constructor(context: ConnectedContext) {
    this.#c = context;
    this.#protocol = new VersionProtocol({
      distributionEnabled: context.options.settings.distributionEnabled,
      retryBackoff: createBackoff({ minMs: 1_000, maxMs: 60_000, ...context.options.settings.retryBackoff }),
      dialect: context.dialect,
    });
    this.#lastHeard = context.options.clock.now();
  }

  /** Starts heartbeats, sends the first version (against what the Hello says), then serves. */
  async run(hello: Hello): Promise<StreamError | undefined> {
    this.#startHeartbeats();
    // The snapshot was checked when the Hello was; a deregistration since arrives as an input.
    await this.#step(
      this.#protocol.start({
        have: hello.have,
        haveVersion: hello.haveVersion,
        snapshot: this.#c.options.cache.get(this.#c.cluster),
        now: this.#c.options.clock.now(),
      }),
    );
    return this.#loop();
  }

  #startHeartbeats(): void {
    const periodMs = this.#c.options.settings.heartbeatSeconds * 1000;
    const signal = this.#c.signal;
    void (async () => {
      while (!signal.aborted) {
        try {
          await this.#c.options.clock.sleep(periodMs, signal);
        } catch {
          return;
        }
        this.#c.queue.push({ type: 'tick' });
      }
    })();
  }

  async #loop(): Promise<StreamError | undefined> {
    for (;;) {
      const input = await this.#c.queue.next();
      switch (input.type) {
        case 'end':
          return input.error;
        case 'closed':
          return undefined;
        case 'snapshot':
          if (input.snapshot === undefined) {
            return new StreamError({
              code: StreamEndCode.Deregistered,
              message: `cluster "${this.#c.cluster}" was deregistered (KubernetesCluster deleted)`,
            });
          }
          await this.#step(this.#protocol.snapshot(input.snapshot, this.#c.options.clock.now()));
          break;
        case 'timeout':
          break;
        case 'trust':
          await this.#c.send({ $case: 'trust', value: { caBundlePem: input.bundlePem } });
          break;
        case 'retry':
          await this.#step(this.#protocol.retryDue(this.#c.options.clock.now()));
          break;
        case 'tick': {
          const problem = this.#checkAlive();
          if (problem !== undefined) return problem;
          await this.#c.send({ $case: 'heartbeat', value: { unixMillis: this.#c.options.clock.now() } });
          break;
        }
        case 'message': {
          this.#lastHeard = this.#c.options.clock.now();
          const problem = await this.#handleMessage(input.message);
          if (problem !== undefined) return problem;
          break;
        }
      }
    }
  }

  #checkAlive(): StreamError | undefined {
    return checkAlive({
      now: this.#c.options.clock.now(),
      lastHeard: this.#lastHeard,
      heartbeatSeconds: this.#c.options.settings.heartbeatSeconds,
      // Credentials are re-checked so an expired certificate, a CA dropped from the bundle or a
      // re-registration (another uid) ends open streams too.
      identity: this.#c.options.authenticator.authenticate(this.#c.options.credentials),
      cluster: this.#c.cluster,
      uid: this.#c.uid,
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
        this.#c.observe({
          type: 'heartbeat',
          cluster: this.#c.cluster,
          agentReplicas: message.value.agentReplicas,
        });
        return undefined;
      case 'report':
        this.#c.observe({
          type: 'reported',
          cluster: this.#c.cluster,
          version: message.value.version,
          results: message.value.results,
        });
        return undefined;
      case 'ack': {
        const { version, digest, results } = message.value;
        await this.#step(this.#protocol.ack({ version, digest, now: this.#c.options.clock.now() }), results);
        return undefined;
      }
      case 'nack': {
        const { version, reason, message: text } = message.value;
        await this.#step(
          this.#protocol.nack({ version, reason, message: text, now: this.#c.options.clock.now() }),
        );
        return undefined;
      }
      case 'renew':
        return this.#onRenew(message.value.csrPem);
    }
  }

  async #onRenew(csrPem: string): Promise<StreamError | undefined> {
    const renewed = await renewOnStream({
      certificates: this.#c.options.certificates,
      cluster: this.#c.cluster,
      uid: this.#c.uid,
      csrPem,
    });
    if (renewed instanceof StreamError) return renewed;
    this.#c.logger.info('client certificate renewed');
    await this.#c.send({ $case: 'renewed', value: renewed });
    return undefined;
  }

  /** Does what the version protocol decided: observe, schedule a retry, send a version. */
  async #step(step: ProtocolStep, ackResults: readonly CopyResult[] = []): Promise<void> {
    if (step.ignored !== undefined) this.#c.logger.debug({ why: step.ignored }, 'ignored a message');
    if (step.acked !== undefined) {
      this.#c.observe({ type: 'acked', cluster: this.#c.cluster, ...step.acked, results: ackResults });
    }
    if (step.nacked !== undefined) {
      this.#c.observe({ type: 'nacked', cluster: this.#c.cluster, ...step.nacked });
      this.#c.logger.warn(step.nacked, 'agent rejected a version');
    }
    if (step.retryAfterMs !== undefined) {
      this.#c.options.clock.sleep(step.retryAfterMs, this.#c.signal).then(
        () => this.#c.queue.push({ type: 'retry' }),
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
        digest: snapshotDigest(snapshot, this.#c.dialect),
      },
      this.#c.options.settings.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    );
    this.#c.logger.debug(
      { version, replace, upserts: upserts.length, removes: removes.length, chunks: deltas.length },
      'sending version',
    );
    if (!this.#c.dialect.copyPolicy && !this.#warnedPolicy && hasPolicy(snapshot)) {
      // Said once per stream: the agent keeps working, but pauses, report-only drift and ignored
      // fields are not honoured in this cluster until it is upgraded (docs/spec.md D10.4).
      this.#warnedPolicy = true;
      this.#c.logger.warn(
        'the agent does not know per-source policy (kuberelay.dev/paused, drift, ignore-fields): its copies are applied as if the sources had none; upgrade the agent',
      );
    }
    for (const delta of deltas) {
      await this.#c.send({ $case: 'delta', value: delta });
    }
    this.#c.observe({ type: 'sent', cluster: this.#c.cluster, version, replace, snapshot });
  }

  #copyMessage(copy: DesiredCopy): Copy {
    return {
      key: copy.key,
      hash: copy.hash,
      manifest: this.#c.options.cache.encoded.manifest(copy),
      overwrite: copy.overwrite,
      policy: this.#c.dialect.copyPolicy ? policyToWire(copy.policy) : undefined,
    };
  }
}
