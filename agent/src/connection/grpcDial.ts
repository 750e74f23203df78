import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type BootstrapRequest, type BootstrapResponse, RelayServiceClient } from '@kuberelay/proto';
import { ErrorCode, RelayError } from '@kuberelay/shared';
import type { TlsMaterial } from '../identity/agentCredentials.js';
import type { DialStream, RelayStream } from './relayStream.js';

/**
 * How a channel to the management server is secured (docs/design.md, "Mutual TLS").
 * - `mtls`: the relay stream. The agent proves its cluster with its client certificate.
 * - `serverOnly`: the Bootstrap RPC, the only call made without a client certificate; the server
 *   is still authenticated with the relay CA bundle.
 */
export type ChannelAuth =
  | { readonly kind: 'mtls'; readonly material: TlsMaterial }
  | { readonly kind: 'serverOnly'; readonly caPem: string };

/**
 * The one function that turns credentials into gRPC channel credentials. TLS 1.3 minimum on
 * every TLS channel: `credentials.createSsl` cannot set a minimum version, a SecureContext can.
 * Only the relay CA bundle is trusted (the SecureContext's `ca` replaces the system roots), and the
 * server's certificate must name the host of `--server` (gRPC's default identity check).
 */
export function channelCredentials(auth: ChannelAuth): ChannelCredentials {
  switch (auth.kind) {
    case 'mtls':
      return credentials.createFromSecureContext(
        createSecureContext({
          minVersion: 'TLSv1.3',
          ca: auth.material.caPem,
          cert: auth.material.certPem,
          key: auth.material.keyPem,
        }),
      );
    case 'serverOnly':
      return credentials.createFromSecureContext(
        createSecureContext({ minVersion: 'TLSv1.3', ca: auth.caPem }),
      );
  }
}

/** The credentials of the next stream; a new `generation` makes the dialer build a new channel. */
export interface DialCredentials {
  readonly generation: number;
  readonly auth: ChannelAuth;
}

export interface RelayDialer {
  readonly dial: DialStream;
  close(): void;
}

const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  // grpc-js backs its connection attempts off up to 120 s by default, under the connect loop's
  // own (capped at 2 s): a restarted server would wait for whichever is later.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A version is chunked at 1 MiB, but a single copy larger than that travels alone.
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
} as const;

/**
 * A gRPC client for RelayService with keepalive (10 s ping, 5 s timeout: a dead peer is noticed
 * within seconds even when neither side has anything to say). `credentials` is read at every
 * dial: after a renewal or a new trust bundle the next stream uses a new channel, while a stream
 * that is open keeps the one it has.
 */
export function createRelayDialer(options: {
  readonly serverAddress: string;
  readonly credentials: () => DialCredentials;
}): RelayDialer {
  let client: RelayServiceClient | undefined;
  let generation = -1;
  return {
    dial: (): RelayStream => {
      const current = options.credentials();
      if (client === undefined || current.generation !== generation) {
        // Only called between sessions, so no open stream uses the old channel.
        client?.close();
        client = new RelayServiceClient(
          options.serverAddress,
          channelCredentials(current.auth),
          CHANNEL_OPTIONS,
        );
        generation = current.generation;
      }
      const call = client.connect(new Metadata());
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
    close: () => client?.close(),
  };
}

/**
 * One Bootstrap call: the bootstrap token and a CSR for the cluster's first certificate, over a
 * channel that authenticates the server only. The channel is closed afterwards: bootstrap happens
 * once in an agent's life.
 */
export async function callBootstrap(options: {
  readonly serverAddress: string;
  readonly caPem: string;
  readonly request: BootstrapRequest;
  readonly signal: AbortSignal;
  readonly timeoutMs?: number;
}): Promise<BootstrapResponse> {
  const client = new RelayServiceClient(
    options.serverAddress,
    channelCredentials({ kind: 'serverOnly', caPem: options.caPem }),
    CHANNEL_OPTIONS,
  );
  try {
    return await new Promise<BootstrapResponse>((resolve, reject) => {
      const call = client.bootstrap(
        options.request,
        new Metadata(),
        { deadline: Date.now() + (options.timeoutMs ?? 30_000) },
        (error, response) => (error ? reject(error) : resolve(response)),
      );
      const cancel = () => call.cancel();
      options.signal.addEventListener('abort', cancel, { once: true });
      call.on('status', () => options.signal.removeEventListener('abort', cancel));
    });
  } finally {
    client.close();
  }
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
      message: `the management server did not accept the agent's credentials (UNAUTHENTICATED): ${detailsOf(error)}`,
      cause: error,
    });
  }
  if (code === status.PERMISSION_DENIED) {
    return new RelayError({
      code: ErrorCode.PermissionDenied,
      message: `the management server refused this cluster (PERMISSION_DENIED: credentials of another cluster, or the cluster is not registered): ${detailsOf(error)}`,
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
