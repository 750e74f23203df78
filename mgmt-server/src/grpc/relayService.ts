import { randomUUID } from 'node:crypto';
import { type Metadata, type ServerDuplexStream, type ServiceError, status } from '@grpc/grpc-js';
import type { ConnectRequest, ConnectResponse, RelayServiceServer } from '@kuberelay/proto';
import type { AuthRequest } from '../auth/authenticator.js';
import type { AgentStreamIo, AgentStreamOptions } from '../stream/agentStream.js';
import { runAgentStream } from '../stream/agentStream.js';
import { GRPC_STATUS_FOR } from './statusCodes.js';

/** Everything a stream needs except the call itself. */
export type StreamContext = Omit<AgentStreamOptions, 'streamId' | 'io' | 'credentials'>;

/** The RelayService implementation: one state machine per Connect call. */
export function relayService(context: StreamContext): RelayServiceServer {
  return {
    connect: (call) => {
      void serveConnect(call, context);
    },
    bootstrap: (_call, callback) => {
      // Bootstrap tokens come with mutual TLS; agents authenticate with their token meanwhile.
      callback({
        code: status.UNIMPLEMENTED,
        details: 'bootstrap is not available: this server authenticates agents by token',
      });
    },
  };
}

async function serveConnect(
  call: ServerDuplexStream<ConnectRequest, ConnectResponse>,
  context: StreamContext,
): Promise<void> {
  const streamId = randomUUID();
  const io = callIo(call);
  const error = await runAgentStream({
    ...context,
    streamId,
    io,
    credentials: credentialsOf(call.metadata, call.getPeer()),
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
function callIo(call: ServerDuplexStream<ConnectRequest, ConnectResponse>): AgentStreamIo {
  return {
    messages: call,
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

/** Text metadata as plain data for the Authenticator (binary `-bin` values are left out). */
export function credentialsOf(metadata: Metadata, peer: string): AuthRequest {
  const out: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    const text = values.filter((v): v is string => typeof v === 'string');
    if (text.length > 0) out[key.toLowerCase()] = text;
  }
  return { metadata: out, peer };
}
