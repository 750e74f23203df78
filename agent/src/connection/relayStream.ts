import type { ConnectRequest, ConnectResponse } from '@kuberelay/proto';

/**
 * One open Connect stream, as the session sees it. Two methods and an iterable, so the session
 * (the protocol) is tested against an in-memory fake and knows nothing about gRPC.
 */
export interface RelayStream {
  send(message: ConnectRequest): void;
  /** Server messages in order; ends when the server ends the stream, throws when it fails. */
  readonly messages: AsyncIterable<ConnectResponse>;
  /** Ends the stream from our side (the iteration then ends or throws). */
  cancel(): void;
}

/** Opens a new stream to the management server. */
export type DialStream = () => RelayStream;
