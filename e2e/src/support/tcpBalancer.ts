import { connect, createServer, type Server, type Socket } from 'node:net';

// A test-only stand-in for a Kubernetes Service in front of several server replicas: the lab has
// no kube-proxy. Each accepted connection goes to the next backend in round-robin order and is
// piped byte for byte (TLS passes through untouched, as through kube-proxy). A backend that is
// gone refuses the connect, and the client's connection is closed: like a Service whose endpoint
// went away, the client's retry lands on the next backend.

export interface TcpBalancer {
  /** `127.0.0.1:<port>`, what agents dial. */
  readonly address: string;
  /** Replaces the backends (`host:port` each); open connections stay where they are. */
  setBackends(backends: readonly string[]): void;
  /** Connections open now, by backend. */
  connections(): ReadonlyMap<string, number>;
  /** Closes every open connection to `backend` (a reset, as when a node's conntrack is flushed). */
  reset(backend: string): void;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 on a free port. */
export async function startTcpBalancer(options: { backends?: readonly string[] } = {}): Promise<TcpBalancer> {
  let backends: readonly string[] = options.backends ?? [];
  let next = 0;
  const open = new Map<string, Set<Socket>>();

  const server: Server = createServer((client) => {
    const backend = backends[next % Math.max(1, backends.length)];
    next += 1;
    if (backend === undefined) {
      client.destroy();
      return;
    }
    const [host, port] = splitHostPort(backend);
    const upstream = connect({ host, port });
    const sockets = open.get(backend) ?? new Set<Socket>();
    open.set(backend, sockets);
    sockets.add(client);
    const close = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    // Either side's end, reset or error ends both: a dead replica's streams break at once.
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('the balancer has no TCP address');

  return {
    address: `127.0.0.1:${addr.port}`,
    setBackends: (list) => {
      backends = [...list];
    },
    connections: () => new Map([...open].map(([backend, sockets]) => [backend, sockets.size])),
    reset: (backend) => {
      for (const socket of open.get(backend) ?? []) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const sockets of open.values()) for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) throw new Error(`not host:port: ${address}`);
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), port];
}
