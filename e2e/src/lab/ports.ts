import { createServer } from 'node:net';

/**
 * Asks the kernel for a free loopback port. Another process can take it before we bind it; the
 * lab detects that (the process exits with "address already in use") and retries with new ports.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/**
 * `preferred` when nothing listens on it on loopback now, else a free port: a fixed port a
 * person can bookmark (the demo's dashboard), without failing when another demo holds it.
 */
export async function preferredPort(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port: preferred }, () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}
