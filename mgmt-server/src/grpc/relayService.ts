import { randomUUID } from 'node:crypto';
import { type ServerDuplexStream, type ServiceError, status } from '@grpc/grpc-js';
import {
  type BoundedRelayServiceServer,
  type ConnectRequest,
  type ConnectResponse,
  type Decoded,
  DecodeErrorCode,
} from '@kuberelay/proto';
import { ErrorCode, type Logger, type RelayError, type Result } from '@kuberelay/shared';
import type { AuthRequest } from '../auth/authenticator.js';
import type { RelayLimits } from '../limits/index.js';
import type { AgentStreamIo, AgentStreamOptions } from '../stream/agentStream.js';
import { runAgentStream } from '../stream/agentStream.js';
import { StreamEndCode, StreamError } from '../stream/streamError.js';
import { GRPC_STATUS_FOR } from './statusCodes.js';

/** Everything a stream needs except the call itself. */
export type StreamContext = Omit<AgentStreamOptions, 'streamId' | 'io' | 'credentials'>;

/** Trades a bootstrap token and a CSR for a client certificate (pki/agentCertificates.ts). */
export type BootstrapHandler = (request: {
  readonly cluster: string;
  readonly token: string;
  readonly csrPem: string;
}) => Promise<Result<{ readonly certificatePem: string; readonly caBundlePem: string }>>;

export interface RelayServiceOptions {
  readonly context: StreamContext;
  /** Absent: Bootstrap answers UNIMPLEMENTED. */
  readonly bootstrap?: BootstrapHandler;
  /** Resolves once Bootstrap may be served (the registration view is complete). */
  readonly ready: Promise<void>;
  readonly logger: Logger;
  /** Bootstrap is refused early for a peer address refused too often (absent: unlimited). */
  readonly limits?: RelayLimits;
}

/** gRPC status of a Bootstrap failure: chosen here, at the edge (STYLE principle 4). */
const BOOTSTRAP_STATUS: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorCode.PermissionDenied]: status.PERMISSION_DENIED,
  [ErrorCode.InvalidMessage]: status.INVALID_ARGUMENT,
};

/** The RelayService implementation: one state machine per Connect call. */
export function relayService(options: RelayServiceOptions): BoundedRelayServiceServer {
  return {
    connect: (call) => {
      void serveConnect(call, options.context);
    },
    bootstrap: (call, callback) => {
      const handler = options.bootstrap;
      if (handler === undefined) {
        callback({ code: status.UNIMPLEMENTED, details: 'bootstrap is not available on this server' });
        return;
      }
      const decoded = call.request;
      if (!decoded.ok) {
        callback({ code: statusForDecodeError(decoded.error.code), details: decoded.error.message });
        return;
      }
      const request = decoded.value;
      const peer = call.getPeer();
      const cutOff = options.limits?.refusals.check(peer);
      if (cutOff !== undefined) {
        callback({ code: status.RESOURCE_EXHAUSTED, details: cutOff.message });
        return;
      }
      // The only RPC served without a client certificate: it needs none, only a token.
      void options.ready
        .then(() => handler({ cluster: request.cluster, token: request.token, csrPem: request.csrPem }))
        .then(
          (result) => {
            if (result.ok) {
              callback(null, result.value);
              return;
            }
            const error: RelayError = result.errors[0];
            if (error.code === ErrorCode.Unauthenticated) options.limits?.refusals.recordRefusal(peer);
            callback({ code: BOOTSTRAP_STATUS[error.code] ?? status.INTERNAL, details: error.message });
          },
          (error: unknown) => {
            options.logger.error({ err: error, cluster: request.cluster }, 'bootstrap failed');
            callback({ code: status.UNAVAILABLE, details: 'bootstrap failed on the server; retry later' });
          },
        );
    },
  };
}

async function serveConnect(
  call: ServerDuplexStream<Decoded<ConnectRequest>, ConnectResponse>,
  context: StreamContext,
): Promise<void> {
  const streamId = randomUUID();
  const io = callIo(call);
  const error = await runAgentStream({
    ...context,
    streamId,
    io,
    credentials: credentialsOf(call.getPeer(), peerCertificateOf(call)),
  });
  if (call.destroyed || call.cancelled) return;
  if (error === undefined) {
    call.end();
    return;
  }
  const serviceError: Partial<ServiceError> = {
    code: GRPC_STATUS_FOR[error.code] ?? status.INTERNAL,
    details: error.message,
  };
  call.emit('error', serviceError);
}

/** The call as the state machine's two-method interface. */
function callIo(call: ServerDuplexStream<Decoded<ConnectRequest>, ConnectResponse>): AgentStreamIo {
  return {
    messages: decodedMessages(call),
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (call.destroyed || call.cancelled) {
          reject(new Error('the call is closed'));
          return;
        }
        // Respect backpressure: a slow agent makes its own stream wait, never the server's memory.
        if (call.write(message)) {
          resolve();
          return;
        }
        const onDrain = () => {
          call.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          call.off('drain', onDrain);
          reject(new Error('the call closed while waiting to send'));
        };
        call.once('drain', onDrain);
        call.once('close', onClose);
      }),
  };
}

/**
 * DER of the client certificate, when the TLS layer accepted one (grpc-js reports a peer
 * certificate only for a connection whose certificate verified against the trusted CAs).
 */
function peerCertificateOf(
  call: ServerDuplexStream<Decoded<ConnectRequest>, ConnectResponse>,
): Uint8Array | undefined {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw !== undefined && raw.length > 0 ? new Uint8Array(raw) : undefined;
}

/** What the Authenticator judges: the peer and its verified client certificate, if any. */
export function credentialsOf(peer: string, peerCertificate?: Uint8Array): AuthRequest {
  return peerCertificate === undefined ? { peer } : { peer, peerCertificate };
}

/** The decoding boundary's status for a refused message: chosen here, at the edge. */
function statusForDecodeError(code: DecodeErrorCode): status {
  return code === DecodeErrorCode.Malformed ? status.INVALID_ARGUMENT : status.RESOURCE_EXHAUSTED;
}

/**
 * The agent's messages, ending the stream with a clear status at the first one the boundary
 * refused. The call's iterator is driven by hand: leaving a `for await` by throwing would call its
 * `return()`, which destroys the call, and the refusal would never reach the agent as a status.
 */
async function* decodedMessages(
  call: AsyncIterable<Decoded<ConnectRequest>>,
): AsyncGenerator<ConnectRequest> {
  const messages = call[Symbol.asyncIterator]();
  for (;;) {
    const next = await messages.next();
    if (next.done) return;
    const decoded = next.value;
    if (!decoded.ok) {
      throw new StreamError({
        code:
          decoded.error.code === DecodeErrorCode.Malformed
            ? StreamEndCode.InvalidArgument
            : StreamEndCode.ResourceExhausted,
        message: decoded.error.message,
        cause: decoded.error,
      });
    }
    yield decoded.value;
  }
}
