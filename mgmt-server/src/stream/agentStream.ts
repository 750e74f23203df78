import {
  type ConnectRequest,
  type ConnectResponse,
  type Copy,
  type CopyResult,
  DEFAULT_CHUNK_BYTES,
  type Hello,
  NackReason,
  splitVersion,
} from '@kuberelay/proto';
import {
  type Backoff,
  type BackoffOptions,
  type Clock,
  createBackoff,
  type DesiredCopy,
  ErrorCode,
  type Logger,
  type Result,
} from '@kuberelay/shared';
import type { Authenticator, AuthRequest } from '../auth/authenticator.js';
import type { RelayLimits, StreamLease } from '../limits/index.js';
import type { ClusterSnapshot, SnapshotCache } from '../snapshot/snapshotCache.js';
import { AsyncQueue } from './asyncQueue.js';
import { StreamEndCode, StreamError } from './streamError.js';
import type { StreamEvent, StreamObserver } from './streamEvents.js';
import type { StreamSession, StreamSessions } from './streamSessions.js';
import { type Baseline, baselineFromHave, changesAgainst } from './versionContent.js';

/**
 * The gRPC stream as the state machine sees it: two methods, so tests drive it in memory.
 * `messages` ends when the agent half-closes or the call goes away; `send` resolves once the
 * message is buffered (it waits when the transport pushes back) and rejects when the call is gone.
 */
export interface AgentStreamIo {
  send(message: ConnectResponse): Promise<void>;
  readonly messages: AsyncIterable<ConnectRequest>;
}

export interface StreamSettings {
  readonly mgmtCluster: string;
  /** `<namespace>/<pod>` of this replica, sent in Welcome. */
  readonly serverPod: string;
  /** ConfigDistribution gate: off means Welcome says so and no Delta is ever sent. */
  readonly distributionEnabled: boolean;
  readonly heartbeatSeconds: number;
  /** Most bytes of content per Delta message (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Backoff between retries after a Nack other than DIGEST_MISMATCH (default 1 s … 60 s). */
  readonly retryBackoff?: BackoffOptions;
}

/** Certificate services of an mTLS server: renewal on the stream and trust-bundle pushes. */
export interface StreamCertificates {
  /** Signs `csrPem` for `cluster` (registration `uid`); errors are RelayErrors. */
  renew(request: {
    readonly cluster: string;
    readonly uid: string;
    readonly csrPem: string;
  }): Promise<Result<{ readonly certificatePem: string; readonly caBundlePem: string }>>;
  /** The CA bundle agents must trust now. */
  bundlePem(): string;
  /** Calls `listener` whenever the bundle changes; returns the unsubscribe function. */
  onBundleChange(listener: (bundlePem: string) => void): () => void;
}

export interface AgentStreamOptions {
  readonly streamId: string;
  readonly io: AgentStreamIo;
  readonly credentials: AuthRequest;
  readonly authenticator: Authenticator;
  readonly cache: SnapshotCache;
  readonly sessions: StreamSessions;
  readonly settings: StreamSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Aborting ends the stream with ShuttingDown (UNAVAILABLE). */
  readonly signal: AbortSignal;
  readonly observe?: StreamObserver;
  /** Present on an mTLS server; without it, Renew is refused. */
  readonly certificates?: StreamCertificates;
  /** Streams per cluster, message rate, refused attempts per peer (absent: unlimited). */
  readonly limits?: RelayLimits;
}

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

interface InFlight {
  readonly version: number;
  readonly snapshot: ClusterSnapshot;
  readonly replace: boolean;
}

class AgentStream {
  #lease: StreamLease | undefined;
  readonly #o: AgentStreamOptions;
  readonly #queue = new AsyncQueue<Input>();
  /** Ends timers and watches of this stream (not the server). */
  readonly #local = new AbortController();
  readonly #retry: Backoff;
  #logger: Logger;
  #cluster = '';
  #uid: string | undefined;
  #peerClosed = false;

  // Protocol state (valid after Welcome).
  #latest: ClusterSnapshot | undefined;
  #baseline: Baseline = new Map();
  /** Digest of what the agent acknowledged; undefined until the first Ack. */
  #ackedDigest: string | undefined;
  #inFlight: InFlight | undefined;
  #lastVersion = 0;
  #sentFirst = false;
  #replaceNext = false;
  #retryPending = false;
  #lastHeard = 0;

  constructor(options: AgentStreamOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ stream: options.streamId });
    this.#retry = createBackoff({ minMs: 1_000, maxMs: 60_000, ...options.settings.retryBackoff });
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
        const code =
          error.code === ErrorCode.PermissionDenied
            ? StreamEndCode.PermissionDenied
            : StreamEndCode.Unauthenticated;
        return await this.#refuseUnauthenticated(new StreamError({ code, message: error.message }));
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
      const snapshot = this.#o.cache.get(this.#cluster);
      // Checked by #expectHello; a deregistration since then arrives as a snapshot input.
      this.#latest = snapshot;
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
      this.#baseline = baselineFromHave(hello.have);
      this.#lastVersion = hello.haveVersion;
      this.#lastHeard = this.#o.clock.now();
      this.#startHeartbeats();
      await this.#maybeSend();
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

  /** Reads the agent's messages into the queue until the call ends. */
  async #pump(): Promise<void> {
    try {
      for await (const message of this.#o.io.messages) {
        this.#queue.push({ type: 'message', message });
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
    const timeoutMs = 3 * this.#o.settings.heartbeatSeconds * 1000;
    this.#deadline(timeoutMs);
    const first = await this.#queue.next();
    if (first.type === 'end') throw first.error;
    if (first.type !== 'message' || first.message.message?.$case !== 'hello') {
      const what =
        first.type === 'message' ? `a ${first.message.message?.$case ?? 'empty'} message` : 'no message';
      throw this.#refusal(
        undefined,
        new StreamError({
          code: StreamEndCode.InvalidArgument,
          message: `the first message must be a Hello, got ${what}`,
        }),
      );
    }
    const hello = first.message.message.value;
    if (hello.cluster !== this.#cluster) {
      throw this.#refusal(
        hello.cluster,
        new StreamError({
          code: StreamEndCode.PermissionDenied,
          message: `the credentials belong to cluster "${this.#cluster}", not "${hello.cluster}"`,
        }),
      );
    }
    if (this.#o.cache.get(this.#cluster) === undefined) {
      throw this.#refusal(
        hello.cluster,
        new StreamError({
          code: StreamEndCode.PermissionDenied,
          message: `cluster "${this.#cluster}" is not registered (no KubernetesCluster ${this.#cluster})`,
        }),
      );
    }
    return hello;
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
          this.#latest = input.snapshot;
          await this.#maybeSend();
          break;
        case 'timeout':
          break;
        case 'trust':
          await this.#send({ $case: 'trust', value: { caBundlePem: input.bundlePem } });
          break;
        case 'retry':
          this.#retryPending = false;
          await this.#maybeSend();
          break;
        case 'tick': {
          const problem = this.#checkAlive();
          if (problem !== undefined) return problem;
          await this.#send({ $case: 'heartbeat', value: { unixMillis: this.#o.clock.now() } });
          break;
        }
        case 'message': {
          const limited = this.#lease?.onMessage();
          if (limited !== undefined)
            return new StreamError({ code: StreamEndCode.ResourceExhausted, message: limited.message });
          this.#lastHeard = this.#o.clock.now();
          const problem = await this.#handleMessage(input.message);
          if (problem !== undefined) return problem;
          break;
        }
      }
    }
  }

  #checkAlive(): StreamError | undefined {
    const silentMs = this.#o.clock.now() - this.#lastHeard;
    if (silentMs >= 3 * this.#o.settings.heartbeatSeconds * 1000) {
      return new StreamError({
        code: StreamEndCode.PeerSilent,
        message: `nothing heard from the agent for ${Math.round(silentMs / 1000)} s (3 heartbeats)`,
      });
    }
    // Credentials are re-checked so an expired certificate, a CA dropped from the bundle or a
    // re-registration (another uid) ends open streams too.
    const identity = this.#o.authenticator.authenticate(this.#o.credentials);
    if (!identity.ok || identity.value.cluster !== this.#cluster || identity.value.uid !== this.#uid) {
      return new StreamError({
        code: identity.ok ? StreamEndCode.Unauthenticated : toEndCode(identity.errors[0].code),
        message: `the credentials are no longer valid${identity.ok ? '' : `: ${identity.errors[0].message}`}`,
      });
    }
    return undefined;
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
      case 'ack':
        await this.#onAck(message.value.version, message.value.digest, message.value.results);
        return undefined;
      case 'nack':
        await this.#onNack(message.value.version, message.value.reason, message.value.message);
        return undefined;
      case 'renew':
        return this.#onRenew(message.value.csrPem);
    }
  }

  /**
   * Signs a new certificate for the cluster and registration this stream authenticated as (never
   * what the CSR asks for). The stream goes on with its current certificate; the agent reconnects
   * with the new one when it likes. A CSR that does not verify ends the stream: the agent is buggy
   * or is not the key holder.
   */
  async #onRenew(csrPem: string): Promise<StreamError | undefined> {
    const certificates = this.#o.certificates;
    const uid = this.#uid;
    if (certificates === undefined || uid === undefined) {
      return new StreamError({
        code: StreamEndCode.InvalidArgument,
        message: 'certificate renewal is only available to agents authenticated by a client certificate',
      });
    }
    const issued = await certificates.renew({ cluster: this.#cluster, uid, csrPem });
    if (!issued.ok) {
      const error = issued.errors[0];
      return new StreamError({
        code:
          error.code === ErrorCode.InvalidMessage ? StreamEndCode.InvalidArgument : StreamEndCode.Internal,
        message: `renewal failed: ${error.message}`,
      });
    }
    this.#logger.info('client certificate renewed');
    await this.#send({ $case: 'renewed', value: issued.value });
    return undefined;
  }

  async #onAck(version: number, digest: string, results: readonly CopyResult[]): Promise<void> {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || inFlight.version !== version) {
      this.#logger.debug({ version, inFlight: inFlight?.version }, 'ack of a version not in flight; ignored');
      return;
    }
    if (digest !== inFlight.snapshot.digest) {
      // The agent says it applied the version but holds something else: same as a mismatch Nack.
      this.#logger.warn(
        { version, digest, expected: inFlight.snapshot.digest },
        'ack with a different digest',
      );
      await this.#onNack(version, NackReason.NACK_REASON_DIGEST_MISMATCH, 'ack digest differs');
      return;
    }
    this.#inFlight = undefined;
    this.#baseline = inFlight.snapshot.copies;
    this.#ackedDigest = inFlight.snapshot.digest;
    this.#replaceNext = false;
    this.#retry.reset();
    this.#observe({ type: 'acked', cluster: this.#cluster, version, snapshot: inFlight.snapshot, results });
    await this.#maybeSend();
  }

  async #onNack(version: number, reason: NackReason, message: string): Promise<void> {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || inFlight.version !== version) {
      this.#logger.debug(
        { version, inFlight: inFlight?.version },
        'nack of a version not in flight; ignored',
      );
      return;
    }
    this.#inFlight = undefined;
    this.#observe({ type: 'nacked', cluster: this.#cluster, version, reason, message });
    this.#logger.warn({ version, reason, message }, 'agent rejected a version');
    if (reason === NackReason.NACK_REASON_DIGEST_MISMATCH) {
      // The agent's set is not what we think: the next version is the full set. Immediately the
      // first time; a replacing version that mismatches again waits (no tight loop).
      this.#replaceNext = true;
      if (!inFlight.replace) {
        await this.#maybeSend();
        return;
      }
    }
    // Keep the last acknowledged state as the agent's and try again later.
    this.#retryPending = true;
    const delayMs = this.#retry.next();
    this.#o.clock.sleep(delayMs, this.#local.signal).then(
      () => this.#queue.push({ type: 'retry' }),
      () => {},
    );
  }

  /** Sends the next version when one is due: nothing in flight, no retry waiting, content differs. */
  async #maybeSend(): Promise<void> {
    const snapshot = this.#latest;
    if (!this.#o.settings.distributionEnabled || snapshot === undefined) return;
    if (this.#inFlight !== undefined || this.#retryPending) return;
    // The one place that says "snapshot did not change, no reply". The first version is always
    // sent, even empty, so a reconnecting agent learns it is up to date.
    if (this.#sentFirst && !this.#replaceNext && this.#ackedDigest === snapshot.digest) return;
    const replace = this.#replaceNext;
    const changes = replace
      ? { upserts: [...snapshot.copies.values()], removes: [] }
      : changesAgainst(this.#baseline, snapshot.copies);
    const version = Math.max(this.#lastVersion + 1, this.#o.clock.now());
    this.#lastVersion = version;
    this.#sentFirst = true;
    this.#inFlight = { version, snapshot, replace };
    const deltas = splitVersion(
      {
        version,
        replace,
        upserts: changes.upserts.map((copy) => this.#copyMessage(copy)),
        removes: changes.removes,
        digest: snapshot.digest,
      },
      this.#o.settings.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    );
    this.#logger.debug(
      {
        version,
        replace,
        upserts: changes.upserts.length,
        removes: changes.removes.length,
        chunks: deltas.length,
      },
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

function toEndCode(code: ErrorCode): StreamEndCode {
  return code === ErrorCode.PermissionDenied ? StreamEndCode.PermissionDenied : StreamEndCode.Unauthenticated;
}
