import { type Backoff, type Clock, createBackoff, type Logger } from '@kuberelay/shared';
import { describeStreamError, isAuthRefusal } from './grpcDial.js';
import type { DialStream } from './relayStream.js';
import { RelaySession, type SessionHandler } from './session.js';

export interface ConnectLoopOptions {
  readonly dial: DialStream;
  /**
   * Awaited before every dial: credentials must be ready (bootstrap). `afterRefusal` says the last
   * stream was refused for its credentials, so they are worth reading again. Rejects only when
   * the signal is aborted.
   */
  readonly prepare?: (options: {
    readonly signal: AbortSignal;
    readonly afterRefusal: boolean;
  }) => Promise<void>;
  readonly handler: SessionHandler;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Between ordinary failures: full jitter, 0.5 s growing to 2 s (RECONNECT_BACKOFF). */
  readonly backoff?: Backoff;
  /**
   * After a refusal of our credentials: the operator must act, so retry slowly (30 s growing to
   * 5 min) instead of hammering the server and the log.
   */
  readonly authBackoff?: Backoff;
  /** The current session while one is open, undefined between sessions. */
  readonly onSession?: (session: RelaySession | undefined) => void;
}

/**
 * Ordinary reconnects are capped low: an agent must be back within ~2 s of its server being ready
 * again (a restart, a rollout), and a refused TCP dial costs the server nothing. Full jitter still
 * spreads a fleet's reconnects over those 2 s. The channel's own subchannel backoff is capped to
 * the same (grpcDial.ts), or it would hold dials back for up to 2 min behind this loop.
 */
export const RECONNECT_BACKOFF = Object.freeze({ minMs: 500, maxMs: 2_000 });

/** Least delay after the server refused the agent's credentials. */
const AUTH_REFUSAL_FLOOR_MS = 5_000;

/**
 * Connects, runs a session until the stream ends, and reconnects after a jittered delay, forever,
 * until `signal` is aborted. A session that got its Welcome resets the delays: a server restart
 * is followed by a quick reconnect, spread by the jitter.
 */
export async function runConnectLoop(options: ConnectLoopOptions): Promise<void> {
  const { clock, signal, logger } = options;
  const backoff = options.backoff ?? createBackoff(RECONNECT_BACKOFF);
  const authBackoff = options.authBackoff ?? createBackoff({ minMs: 30_000, maxMs: 300_000 });
  let afterRefusal = false;
  while (!signal.aborted) {
    if (options.prepare !== undefined) {
      try {
        await options.prepare({ signal, afterRefusal });
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
    }
    const session = new RelaySession({
      stream: options.dial(),
      handler: options.handler,
      clock,
      logger,
      signal,
    });
    options.onSession?.(session);
    let failure: unknown;
    try {
      await session.run();
    } catch (error) {
      failure = error;
    } finally {
      options.onSession?.(undefined);
    }
    if (signal.aborted) return;
    if (session.welcomed) {
      backoff.reset();
      authBackoff.reset();
    }
    let delayMs: number;
    afterRefusal = failure !== undefined && isAuthRefusal(failure);
    if (failure === undefined && session.closeReason !== undefined) {
      delayMs = backoff.next();
      logger.info(
        { reason: session.closeReason, retryInMs: delayMs },
        'reconnecting to the management server',
      );
    } else if (afterRefusal) {
      // A floor under the jitter: full jitter alone may draw a near-zero delay twice in a row,
      // and a refusal repeats until someone acts.
      delayMs = AUTH_REFUSAL_FLOOR_MS + Math.max(backoff.next(), authBackoff.next());
      logger.error(
        { err: describeStreamError(failure).message, retryInMs: delayMs },
        'the management server refused the agent: check its credentials and the cluster registration',
      );
    } else {
      delayMs = backoff.next();
      const reason =
        failure === undefined ? 'the server ended the stream' : describeStreamError(failure).message;
      logger.warn({ reason, retryInMs: delayMs }, 'disconnected from the management server; reconnecting');
    }
    try {
      await clock.sleep(delayMs, signal);
    } catch {
      return;
    }
  }
}
