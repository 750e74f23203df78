/**
 * Why the server ended an agent stream. Stable codes: they appear in logs, in the rejected-agents
 * ConfigMap and in metrics. The gRPC status for each is chosen only in grpc/ (statusCodes.ts).
 */
export const StreamEndCode = {
  /** No, malformed or unknown credentials. */
  Unauthenticated: 'Unauthenticated',
  /** Credentials of another cluster, or a cluster that is not registered. */
  PermissionDenied: 'PermissionDenied',
  /** The first message was not a Hello, or a message was malformed. */
  InvalidArgument: 'InvalidArgument',
  /** A newer stream for the same cluster took over. */
  Replaced: 'Replaced',
  /** The cluster's KubernetesCluster was deleted while connected. */
  Deregistered: 'Deregistered',
  /** The server is stopping. */
  ShuttingDown: 'ShuttingDown',
  /** Nothing heard from the agent for three heartbeats. */
  PeerSilent: 'PeerSilent',
  /** A limit (streams per cluster, message rate, refused attempts, message size) was exceeded. */
  ResourceExhausted: 'ResourceExhausted',
  Internal: 'Internal',
} as const;
export type StreamEndCode = (typeof StreamEndCode)[keyof typeof StreamEndCode];

/** The error a stream ends with; `message` is safe to send to the agent (it never holds a token). */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly code: StreamEndCode;

  constructor(options: { readonly code: StreamEndCode; readonly message: string; readonly cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }
}
