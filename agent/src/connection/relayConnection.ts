import type { Clock, Logger } from '@kuberelay/shared';
import type { AgentIdentity } from '../identity/agentIdentity.js';
import { runConnectLoop } from './connectLoop.js';
import { createRelayDialer } from './grpcDial.js';
import type { DialStream } from './relayStream.js';
import type { RelaySession, SessionHandler } from './session.js';

export interface RelayConnectionOptions {
  readonly serverAddress: string;
  /** Tests: how to open a stream. Default: gRPC over mutual TLS with the identity's credentials. */
  readonly dial?: DialStream;
  /** Read at every dial: the identity may be replaced (a replica reloads it when elected). */
  readonly identity: () => AgentIdentity | undefined;
  readonly handler: SessionHandler;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly onSession: (session: RelaySession | undefined) => void;
}

export interface RelayConnection {
  /** The connect loop; resolves once the signal aborted and the last session ended. */
  readonly loop: Promise<void>;
  /** Closes the gRPC channel (after `loop` resolved). */
  close(): void;
}

/**
 * Connects to the management server and stays connected (runConnectLoop): credentials are made
 * ready (bootstrap) before every dial and read again after a refusal.
 */
export function startRelayConnection(options: RelayConnectionOptions): RelayConnection {
  const dialer =
    options.dial === undefined
      ? createRelayDialer({
          serverAddress: options.serverAddress,
          credentials: () => {
            const identity = options.identity();
            if (identity === undefined) throw new Error('the agent has no identity to dial with');
            return identity.dialCredentials();
          },
        })
      : undefined;
  const dial = options.dial ?? dialer?.dial;
  if (dial === undefined) throw new Error('unreachable: a dial or a dialer exists');
  const loop = runConnectLoop({
    dial,
    prepare: async ({ signal, afterRefusal }) => {
      const identity = options.identity();
      if (identity === undefined) return;
      if (afterRefusal) await identity.reloadAfterRefusal();
      await identity.ready(signal);
    },
    handler: options.handler,
    clock: options.clock,
    signal: options.signal,
    logger: options.logger,
    onSession: options.onSession,
  });
  return { loop, close: () => dialer?.close() };
}
