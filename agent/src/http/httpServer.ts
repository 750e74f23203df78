import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, type Logger, RelayError } from '@kuberelay/shared';
import type { AgentMetrics } from './metrics.js';

export interface HttpServerOptions {
  /** `host:port`, `:port` (all interfaces) or a port; port 0 picks a free one. */
  readonly listen: string;
  readonly metrics: AgentMetrics;
  /** Ready: connected and synced, or enforcing the saved state while the server is away. */
  readonly ready: () => boolean;
  readonly logger: Logger;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** /healthz (the process serves), /readyz (see `ready`) and /metrics (Prometheus text). */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = parseListen(options.listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = options.ready();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics') {
      options.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
        (error: unknown) => {
          options.logger.error({ err: error }, 'rendering metrics failed');
          res.writeHead(500).end();
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  options.logger.info({ address: `${host ?? '*'}:${bound}` }, 'http server listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Parses `host:port`, `:port`, `[::1]:port` or `port`. */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(listen.trim());
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `invalid listen address "${listen}": expected host:port, :port or port`,
    });
  }
  const host = match[1]?.replace(/^\[|\]$/g, '');
  return { host: host === undefined || host === '' ? undefined : host, port };
}
