import {
  type Ack,
  ChunkAssembler,
  type Hello,
  type Nack,
  NackReason,
  type RenewResponse,
  type Report,
  type TrustBundle,
  type VersionContent,
  type Welcome,
} from '@kuberelay/proto';
import { type Clock, ErrorCode, type Logger, RelayError } from '@kuberelay/shared';
import type { RelayStream } from './relayStream.js';

export type VersionReply =
  | { readonly $case: 'ack'; readonly value: Ack }
  | { readonly $case: 'nack'; readonly value: Nack };

/** What the session needs from the agent: the protocol's decisions, none of its mechanics. */
export interface SessionHandler {
  /** The first message: who we are and what we hold (read at each connect). */
  hello(): Hello;
  onWelcome(welcome: Welcome): void;
  /** Applies one complete version; resolves with the Ack or Nack to send. */
  applyVersion(version: VersionContent): Promise<VersionReply>;
  /** The answer to a RenewRequest. Not awaited: the handler owns its errors. */
  onRenewed?(renewed: RenewResponse): void;
  /** The server's trust bundle changed (CA rotation). Not awaited: the handler owns its errors. */
  onTrustBundle?(trust: TrustBundle): void;
  /** Agent replicas alive, sent with every heartbeat (undefined: not said). */
  agentReplicas?(): number | undefined;
}

export interface RelaySessionOptions {
  readonly stream: RelayStream;
  readonly handler: SessionHandler;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Heartbeat interval until the server's Welcome says otherwise (docs/design.md: 5 s). */
const DEFAULT_HEARTBEAT_MS = 5_000;
/** The server is considered gone after this many heartbeat intervals without a message. */
const SILENT_HEARTBEATS = 3;
/**
 * A server that accepted the connection but sent no Welcome within this is dropped and dialled
 * again: a frozen or overloaded process (SIGSTOP, a stuck event loop) holds the TCP connection
 * open, and without this the agent would wait for keepalive (~15 s) before trying a replica that
 * works or the same server once it is back.
 */
export const WELCOME_TIMEOUT_MS = 10_000;

/**
 * One Connect stream, from Hello to its end: Welcome first, then versions (reassembled from
 * chunks, applied one at a time in order, each answered with an Ack or Nack), heartbeats both ways,
 * and Reports in between. A server silent for 3 heartbeats is dropped (keepalive catches a dead
 * TCP peer; this catches a stuck server). `run` resolves when the stream ends and every version it
 * delivered has been answered, so the next session starts from a settled state.
 */
export class RelaySession {
  readonly #options: RelaySessionOptions;
  readonly #assembler = new ChunkAssembler();
  readonly #controller = new AbortController();
  #welcomed = false;
  #open = true;
  /** Why the session dropped the stream itself (a silent or stuck server), if it did. */
  #dropReason: string | undefined;
  #lastReceived = 0;
  #closeReason: string | undefined;

  constructor(options: RelaySessionOptions) {
    this.#options = options;
  }

  get welcomed(): boolean {
    return this.#welcomed;
  }

  /** Sends a Report if the stream is open and welcomed; false otherwise (the next Ack says it all). */
  sendReport(report: Report): boolean {
    if (!this.#open || !this.#welcomed) return false;
    this.#options.stream.send({ message: { $case: 'report', value: report } });
    return true;
  }

  /** Sends a RenewRequest if the stream is open and welcomed; false otherwise. */
  sendRenewal(csrPem: string): boolean {
    if (!this.#open || !this.#welcomed) return false;
    this.#options.stream.send({ message: { $case: 'renew', value: { csrPem } } });
    return true;
  }

  /**
   * Ends the stream from the agent's side (a renewed certificate must be used by a new
   * connection); `run` then resolves instead of failing.
   */
  close(reason: string): void {
    if (this.#closeReason !== undefined || !this.#open) return;
    this.#closeReason = reason;
    this.#options.stream.cancel();
  }

  /** Why the agent closed this session, if it did. */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }

  async run(): Promise<void> {
    const { stream, handler, clock, signal } = this.#options;
    const local = AbortSignal.any([signal, this.#controller.signal]);
    const cancel = () => stream.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    let versions: Promise<void> = Promise.resolve();
    this.#lastReceived = clock.now();
    void this.#welcomeWatchdog(local);
    try {
      stream.send({ message: { $case: 'hello', value: handler.hello() } });
      for await (const response of stream.messages) {
        this.#lastReceived = clock.now();
        const message = response.message;
        switch (message?.$case) {
          case 'welcome':
            if (this.#welcomed) break;
            this.#welcomed = true;
            handler.onWelcome(message.value);
            void this.#heartbeats(
              message.value.heartbeatSeconds > 0
                ? message.value.heartbeatSeconds * 1000
                : DEFAULT_HEARTBEAT_MS,
              local,
            );
            break;
          case 'delta': {
            if (!this.#welcomed) {
              throw new RelayError({
                code: ErrorCode.InvalidMessage,
                message: 'the server sent a Delta before Welcome',
              });
            }
            const assembled = this.#assembler.push(message.value);
            if (assembled.state === 'invalid') {
              this.#send(nack(message.value.version, NackReason.NACK_REASON_BAD_CHUNKS, assembled.message));
            } else if (assembled.state === 'complete') {
              const version = assembled.version;
              versions = versions.then(() => this.#apply(version));
            }
            break;
          }
          case 'renewed':
            handler.onRenewed?.(message.value);
            break;
          case 'trust':
            handler.onTrustBundle?.(message.value);
            break;
          default:
            // Heartbeats (and fields a newer server may add) only prove the server is alive.
            break;
        }
      }
    } catch (error) {
      if (signal.aborted || this.#closeReason !== undefined) return;
      if (this.#dropReason !== undefined) {
        throw new RelayError({ code: ErrorCode.Internal, message: this.#dropReason, cause: error });
      }
      throw error;
    } finally {
      this.#open = false;
      this.#controller.abort();
      signal.removeEventListener('abort', cancel);
      this.#assembler.reset();
      await versions;
    }
  }

  async #apply(version: VersionContent): Promise<void> {
    try {
      const reply = await this.#options.handler.applyVersion(version);
      this.#send({ message: reply });
    } catch (error) {
      if (this.#options.signal.aborted) return;
      this.#options.logger.error({ err: error, version: version.version }, 'applying a version failed');
      this.#send(nack(version.version, NackReason.NACK_REASON_INTERNAL, String(error)));
    }
  }

  async #welcomeWatchdog(signal: AbortSignal): Promise<void> {
    try {
      await this.#options.clock.sleep(WELCOME_TIMEOUT_MS, signal);
    } catch {
      return; // the session ended first
    }
    if (this.#welcomed || !this.#open) return;
    this.#options.logger.warn(
      { waitedMs: WELCOME_TIMEOUT_MS },
      'management server accepted the stream but sent no Welcome; dialling again',
    );
    this.#dropReason = `the management server sent no Welcome within ${WELCOME_TIMEOUT_MS / 1000} s; reconnecting`;
    this.#options.stream.cancel();
  }

  #send(message: Parameters<RelayStream['send']>[0]): void {
    if (this.#open) this.#options.stream.send(message);
  }

  async #heartbeats(intervalMs: number, signal: AbortSignal): Promise<void> {
    const { clock, stream, logger } = this.#options;
    while (!signal.aborted) {
      try {
        await clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
      if (clock.now() - this.#lastReceived > SILENT_HEARTBEATS * intervalMs) {
        logger.warn(
          { silentMs: clock.now() - this.#lastReceived },
          'management server is silent; dropping the stream',
        );
        this.#dropReason = `the management server sent nothing for ${SILENT_HEARTBEATS} heartbeats; reconnecting`;
        stream.cancel();
        return;
      }
      const agentReplicas = this.#options.handler.agentReplicas?.();
      this.#send({
        message: {
          $case: 'heartbeat',
          value: { unixMillis: clock.now(), ...(agentReplicas === undefined ? {} : { agentReplicas }) },
        },
      });
    }
  }
}

function nack(version: number, reason: NackReason, message: string): Parameters<RelayStream['send']>[0] {
  return { message: { $case: 'nack', value: { version, reason, message } } };
}
