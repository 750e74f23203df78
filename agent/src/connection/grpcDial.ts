import { type ChannelCredentials, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { RelayServiceClient } from '@kuberelay/proto';
import { ErrorCode, RelayError } from '@kuberelay/shared';
import type { DialStream, RelayStream } from './relayStream.js';

/**
 * How the agent authenticates the channel. Insecure for now (the token authenticates the agent);
 * mutual TLS replaces this one function later, nothing else changes.
 */
export function channelCredentials(): ChannelCredentials {
  return credentials.createInsecure();
}

export interface RelayDialer {
  readonly dial: DialStream;
  close(): void;
}

/**
 * A gRPC client for RelayService with keepalive (10 s ping, 5 s timeout: a dead peer is noticed
 * within seconds even when neither side has anything to say) and the token as `authorization:
 * Bearer` metadata on every stream.
 */
export function createRelayDialer(options: {
  readonly serverAddress: string;
  readonly token: string;
}): RelayDialer {
  const client = new RelayServiceClient(options.serverAddress, channelCredentials(), {
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    // A version is chunked at 1 MiB, but a single copy larger than that travels alone.
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  return {
    dial: (): RelayStream => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${options.token}`);
      const call = client.connect(metadata);
      // An error while writing surfaces on the read side too; this keeps Node from treating an
      // unhandled 'error' event as fatal.
      call.on('error', () => {});
      return {
        send: (message) => {
          if (!call.writableEnded && !call.destroyed) call.write(message);
        },
        messages: call,
        cancel: () => call.cancel(),
      };
    },
    close: () => client.close(),
  };
}

/** The gRPC status of a failed stream, if it is one. */
export function grpcStatusOf(error: unknown): status | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    return (error as ServiceError).code;
  }
  return undefined;
}

/** True for the refusals that retrying soon cannot fix (bad or foreign credentials). */
export function isAuthRefusal(error: unknown): boolean {
  const code = grpcStatusOf(error);
  return code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED;
}

export function describeStreamError(error: unknown): RelayError {
  const code = grpcStatusOf(error);
  if (code === status.UNAUTHENTICATED) {
    return new RelayError({
      code: ErrorCode.Unauthenticated,
      message: `the management server did not accept the agent's token (UNAUTHENTICATED): ${detailsOf(error)}`,
      cause: error,
    });
  }
  if (code === status.PERMISSION_DENIED) {
    return new RelayError({
      code: ErrorCode.PermissionDenied,
      message: `the management server refused this cluster (PERMISSION_DENIED: token of another cluster, or the cluster is not registered): ${detailsOf(error)}`,
      cause: error,
    });
  }
  if (error instanceof RelayError) return error;
  return new RelayError({
    code: ErrorCode.Internal,
    message: `stream to the management server failed: ${code === undefined ? String(error) : `${status[code]}: ${detailsOf(error)}`}`,
    cause: error,
  });
}

function detailsOf(error: unknown): string {
  if (
    typeof error === 'object' &&
    error !== null &&
    'details' in error &&
    typeof error.details === 'string'
  ) {
    return error.details;
  }
  return error instanceof Error ? error.message : String(error);
}
