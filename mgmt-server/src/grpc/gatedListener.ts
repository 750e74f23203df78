import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenAddress } from '@kuberelay/shared';
import type { ConnectionLimiter, LimitRefusal } from '../limits/index.js';
import { peerAddress } from '../limits/index.js';

/** grpc-js's `Server.createConnectionInjector(credentials)`: TLS and HTTP/2 over a given socket. */
export interface ConnectionInjector {
  injectConnection(connection: Duplex): void;
}

export interface GatedListenerOptions {
  readonly address: ListenAddress;
  readonly injector: ConnectionInjector;
  readonly limiter: ConnectionLimiter;
  /** A connection closed before TLS because a limit was reached (for a metric and a log line). */
  readonly onRefused?: (refusal: LimitRefusal, address: string) => void;
}

export interface GatedListener {
  readonly port: number;
  /** Stops accepting; open connections are the gRPC server's to drain or cut. */
  close(): void;
}

/**
 * The TCP listener in front of the gRPC server. grpc-js owns TLS and HTTP/2 but has no limit on
 * connections, so the server accepts them here and hands each admitted socket to grpc-js; a
 * refused one is closed before its TLS handshake costs anything. Rejects with the socket error
 * when the address cannot be bound (the caller words it).
 */
export async function listenGated(options: GatedListenerOptions): Promise<GatedListener> {
  const server: NetServer = createServer({ noDelay: true }, (socket: Socket) => {
    const address = peerAddress(socket.remoteAddress ?? 'unknown');
    const admission = options.limiter.admit(address);
    if (!admission.ok) {
      socket.destroy();
      options.onRefused?.(admission.refusal, address);
      return;
    }
    socket.once('close', () => admission.lease.release());
    options.injector.injectConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.address.port, options.address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.address.port;
  return {
    port,
    // net.Server.close's callback waits for every connection to end; the gRPC server's stop
    // ends them, so nothing waits here.
    close: () => {
      server.close();
    },
  };
}
