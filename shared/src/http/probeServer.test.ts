import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { startProbeServer } from './probeServer.js';

const common = {
  registry: { metrics: async () => '', contentType: 'text/plain' },
  isReady: () => true,
  notReadyReason: 'never',
  logger: pino({ level: 'silent' }),
};

describe('startProbeServer', () => {
  let taken: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (taken ? taken.close(() => resolve()) : resolve()));
    taken = undefined;
  });

  it('rejects with ListenFailed naming the address and flag when the port is taken', async () => {
    const holder = createServer();
    taken = holder;
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;

    const started = startProbeServer({ ...common, host: '127.0.0.1', port, flag: '--http-listen' });

    const error = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({
      code: ErrorCode.ListenFailed,
      details: { flag: '--http-listen', address: `127.0.0.1:${port}`, errno: 'EADDRINUSE' },
    });
    expect((error as Error).message).toBe(
      `cannot listen on 127.0.0.1:${port} (--http-listen): the address is already in use (another process listens on that port) (EADDRINUSE)`,
    );
  });

  it('serves /healthz on a free port', async () => {
    const server = await startProbeServer({ ...common, host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
