import { Server, type ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { boundedRelayService, protoRoot, relayProtoFile } from '@kuberelay/proto';
import { formatListenAddress, type ListenAddress, type Logger, listenFailed } from '@kuberelay/shared';
import { HealthImplementation } from 'grpc-health-check';
import type { LimitRefusal, RelayLimits } from '../limits/index.js';
import { listenGated } from './gatedListener.js';
import { type BootstrapHandler, relayService, type StreamContext } from './relayService.js';

export const RELAY_SERVICE_NAME = 'kuberelay.relay.v1.RelayService';

/** Agent → server messages can be large (an Ack with a result for each of thousands of copies). */
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024;
/** Server → agent messages are chunked at 1 MiB of content (proto/src/chunks.ts); headroom. */
const MAX_SEND_BYTES = 8 * 1024 * 1024;

export interface GrpcServerOptions {
  /** Where to listen; port 0 picks a free one. */
  readonly address: ListenAddress;
  /** The flag that sets `address`, named when it cannot be bound (default --grpc-listen). */
  readonly flag?: string;
  readonly context: StreamContext;
  /** TLS (pki/relayServerCredentials.ts) in production; insecure only where a test asks for it. */
  readonly credentials: ServerCredentials;
  readonly bootstrap?: BootstrapHandler;
  /** Bootstrap waits for this (the registration view is complete). */
  readonly ready: Promise<void>;
  readonly logger: Logger;
  readonly limits: RelayLimits;
  /** A connection closed before TLS because a connection limit was reached. */
  readonly onRefusedConnection?: (refusal: LimitRefusal, address: string) => void;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Marks the relay service (and the server as a whole) SERVING in the health service. */
  setServing(serving: boolean): void;
  isServing(): boolean;
  /** Stops accepting calls, waits up to `graceMs` for open ones, then cuts them. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The grpc-js server: RelayService, the standard health service (NOT_SERVING until the server is
 * ready) and server reflection. Keepalive pings every 10 s with a 5 s timeout detect dead agents
 * faster than TCP would (design.md "Protocol"), and bound how long a connection that finished TLS
 * but never sent the HTTP/2 preface holds a file descriptor: it cannot answer the first ping, so it
 * is closed 15 s after it opened (docs/security.md "gRPC edge"). Rejects with a `ListenFailed`
 * RelayError when the address cannot be bound.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    'grpc.max_send_message_length': MAX_SEND_BYTES,
  });
  // The decoding boundary as deserializers: handlers get Decoded values, never a throw, so a
  // malformed or oversized message gets a status that says so instead of INTERNAL.
  server.addService(
    boundedRelayService(),
    relayService({
      limits: options.limits,
      context: options.context,
      bootstrap: options.bootstrap,
      ready: options.ready,
      logger: options.logger,
    }),
  );
  const health = new HealthImplementation({ '': 'NOT_SERVING', [RELAY_SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  addReflection(server, options.logger);
  // Our own TCP listener in front of grpc-js, which has no connection limits (gatedListener.ts).
  const listener = await listenGated({
    address: options.address,
    injector: server.createConnectionInjector(options.credentials),
    limiter: options.limits.connections,
    onRefused: options.onRefusedConnection,
  }).catch((error: unknown) => {
    // Nothing is bound, but the server object holds the services: release it, then say why.
    server.forceShutdown();
    throw listenFailed(
      { flag: options.flag ?? '--grpc-listen', address: formatListenAddress(options.address) },
      error,
    );
  });
  const port = listener.port;
  let serving = false;
  return {
    port,
    setServing: (value) => {
      serving = value;
      const state = value ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', state);
      health.setStatus(RELAY_SERVICE_NAME, state);
    },
    isServing: () => serving,
    stop: async (graceMs) => {
      listener.close();
      serving = false;
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(RELAY_SERVICE_NAME, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * Server reflection (grpcurl, grpc-health-probe listings) from the package definition
 * @grpc/proto-loader builds from the .proto file. Reflection is a convenience: a failure to set it
 * up is logged, never fatal.
 */
function addReflection(server: Server, logger: Logger): void {
  try {
    const definition = loadSync(relayProtoFile, { includeDirs: [protoRoot] });
    new ReflectionService(definition).addToServer(server);
  } catch (error) {
    logger.warn({ err: error }, 'gRPC server reflection is not available');
  }
}
