import { randomBytes } from 'node:crypto';
import { type MgmtServer, type MgmtServerOptions, startMgmtServer } from '@kuberelay/mgmt-server';
import { pino } from 'pino';
import type { Lab } from '../lab/lab.js';

/** A name no other test in the shared lab uses: `<prefix>-<6 hex>`. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

/**
 * A management server for the lab's `mgmt` cluster in `namespace`, on free loopback ports, with
 * a 1 s heartbeat and a silent logger unless overridden. Not awaited for readiness: some tests
 * check that it is not ready; `await server.ready` where readiness is needed.
 */
export function startTestServer(
  lab: Lab,
  namespace: string,
  overrides: Partial<MgmtServerOptions> = {},
): Promise<MgmtServer> {
  return startMgmtServer({
    kubeConfig: lab.kubeConfig('mgmt'),
    clusterName: 'mgmt',
    namespace,
    podName: 'mgmt-server-0',
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    heartbeatSeconds: 1,
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}

/**
 * Polls `read` until `check` accepts what it returns, failing with the last value read: how a
 * test waits for the relay to reach a state, never a bare sleep.
 */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not so after ${ms} ms; last: ${JSON.stringify(value)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
