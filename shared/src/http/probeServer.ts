import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatListenAddress, listenFailed } from '../net/listenAddress.js';

/** What /metrics needs of a prom-client Registry (structural, so shared needs no prom-client). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface ProbeServerOptions {
  /** '' or 0.0.0.0: every IPv4 interface. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly registry: MetricsSource;
  /** Whether /readyz answers 200. */
  readonly isReady: () => boolean;
  /** The body of a 503 from /readyz: what "not ready" means for this program. */
  readonly notReadyReason: string;
  readonly logger: Logger;
  /** The flag that sets the address, named when the port cannot be opened (default --http-listen). */
  readonly flag?: string;
}

export interface RunningProbeServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The HTTP endpoints of the management server and the agent: /healthz (the process is alive and
 * answering), /readyz (see `isReady`) and /metrics (Prometheus text). Liveness never depends on an
 * API server: a cluster outage must not make Kubernetes restart every replica.
 *
 * Rejects with a `ListenFailed` RelayError when the port cannot be opened (taken, privileged), so
 * the program can stop with a clear message instead of running without its probes.
 */
export async function startProbeServer(options: ProbeServerOptions): Promise<RunningProbeServer> {
  const server = createServer((req, res) => {
    void handle(req, res, options).catch((error: unknown) => {
      options.logger.error({ err: error, path: req.url }, 'HTTP handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      const address = formatListenAddress({ host: options.host || '0.0.0.0', port: options.port });
      reject(listenFailed({ flag: options.flag ?? '--http-listen', address }, error));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ address: `${options.host || '*'}:${port}` }, 'http server listening');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ProbeServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    case '/readyz': {
      const ready = options.isReady();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : `not ready: ${options.notReadyReason}\n`);
      return;
    }
    case '/metrics': {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}
