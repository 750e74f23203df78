import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { formatListenAddress, type Logger, listenFailed } from '@kuberelay/shared';
import type { DashboardState } from './dashboardState.js';
import { buildClusterPage, buildFleet } from './fleetView.js';
import { buildMatrix } from './matrixView.js';
import { buildSourcePage } from './sourceView.js';

/**
 * Where `pnpm build` writes the bundled front end (mgmt-server/tools/build-dashboard.mjs). Two
 * levels up from this file is the package root both from src/dashboard (tests, which run the
 * sources) and from dist/dashboard (the binary and the image).
 */
export const DASHBOARD_ASSET_DIR = fileURLToPath(new URL('../../dist/dashboard-ui/', import.meta.url));

/**
 * Open live-update streams at most: each is a socket and a listener, and a read-only page has no
 * business holding thousands. Past it a new stream gets 503 and the page falls back to polling.
 */
export const MAX_EVENT_STREAMS = 32;
/** Views kept per change (distinct pages and filters asked for); more are built, not kept. */
const MAX_CACHED_VIEWS = 64;
/** A comment line this often keeps idle streams open through port-forwards and proxies. */
const KEEPALIVE_MS = 15_000;

export interface DashboardServerOptions {
  readonly host: string;
  readonly port: number;
  readonly state: DashboardState;
  readonly logger: Logger;
  readonly assetDir?: string;
  readonly maxEventStreams?: number;
}

export interface DashboardServer {
  readonly port: number;
  stop(): Promise<void>;
}

type Asset = { readonly type: string; readonly body: Buffer };

const SECURITY_HEADERS = {
  // Everything is served from here: no inline script, no CDN, no frames.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kuberelay fleet</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<noscript>The Kuberelay dashboard needs JavaScript; the same data is at /api/fleet and /api/matrix.</noscript>
<div id="app"></div>
</body>
</html>
`;

/**
 * The read-only dashboard: the bundled front end, JSON views of the server's memory and a
 * server-sent-events stream saying "something changed" (the page then fetches its view again, so
 * an event carries no data that could grow with the fleet). Only GET and HEAD; nothing here can
 * change anything. It has no authentication of its own: bind it to localhost and reach it with
 * `kubectl port-forward` (docs/operations.md "Dashboard"), so the RBAC on pods/portforward in the
 * server's namespace decides who may look.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { state, logger } = options;
  const assetDir = options.assetDir ?? DASHBOARD_ASSET_DIR;
  const maxStreams = options.maxEventStreams ?? MAX_EVENT_STREAMS;
  const assets = new Map<string, Promise<Asset | undefined>>();
  const streams = new Set<ServerResponse>();
  // Every open page fetches its view after each notification: one build per view and change,
  // however many people look, and its cost spaces the notifications (DashboardState.recordCost).
  const views = new Map<string, string>();
  let viewsOf = -1;
  const view = (key: string, build: () => unknown): string | undefined => {
    if (viewsOf !== state.generation) {
      views.clear();
      viewsOf = state.generation;
    }
    const kept = views.get(key);
    if (kept !== undefined) return kept;
    const started = performance.now();
    const value = build();
    if (value === undefined) return undefined;
    const body = JSON.stringify(value);
    state.recordCost(performance.now() - started);
    if (views.size < MAX_CACHED_VIEWS) views.set(key, body);
    return body;
  };
  const asset = (name: string, type: string) => {
    let loaded = assets.get(name);
    if (loaded === undefined) {
      loaded = readFile(`${assetDir}/${name}`).then(
        (body) => ({ type, body }),
        (error: unknown) => {
          logger.error({ err: error, assetDir }, 'dashboard front end not found: run pnpm build');
          assets.delete(name);
          return undefined;
        },
      );
      assets.set(name, loaded);
    }
    return loaded;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain', 'the dashboard is read-only\n', { allow: 'GET, HEAD' });
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const param = (name: string) => url.searchParams.get(name) ?? '';
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', INDEX_HTML);
      case '/assets/app.js':
      case '/assets/app.css': {
        const js = url.pathname.endsWith('.js');
        const found = await asset(js ? 'app.js' : 'app.css', js ? 'text/javascript' : 'text/css');
        if (found === undefined) return send(res, 503, 'text/plain', 'dashboard front end not built\n');
        return send(res, 200, `${found.type}; charset=utf-8`, found.body);
      }
      case '/api/fleet':
      case '/api/matrix':
      case '/api/source':
      case '/api/cluster': {
        const key = `${url.pathname}?${param('filter')}\u0000${param('key')}\u0000${param('name')}`;
        const body = view(key, () => {
          const input = state.input();
          if (url.pathname === '/api/fleet') return buildFleet(input, param('filter'));
          if (url.pathname === '/api/matrix') return buildMatrix(input, param('filter'));
          if (url.pathname === '/api/source') return buildSourcePage(input, param('key'));
          return buildClusterPage(input, param('name'));
        });
        if (body === undefined) return json(res, { error: `no such ${url.pathname.slice(5)}` }, 404);
        return send(res, 200, 'application/json; charset=utf-8', body);
      }
      case '/api/events':
        return openStream(req, res);
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    if (streams.size >= maxStreams) {
      send(res, 503, 'text/plain', 'too many live dashboards; reload later\n', { 'retry-after': '10' });
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // retry: how long a browser waits before reconnecting after the server went away.
    res.write(`retry: 2000\nevent: changed\ndata: ${state.generation}\n\n`);
    streams.add(res);
    const stopListening = state.onChange((generation) =>
      res.write(`event: changed\ndata: ${generation}\n\n`),
    );
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    req.on('close', () => {
      clearInterval(keepalive);
      stopListening();
      streams.delete(res);
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'dashboard request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  // A taken port is the operator's to fix: a ListenFailed error naming the flag, not a trace.
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      const address = formatListenAddress({ host: options.host, port: options.port });
      reject(listenFailed({ flag: '--dashboard-listen', address }, error));
    };
    server.once('error', onError);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'dashboard listening');
  return {
    port,
    stop: async () => {
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
