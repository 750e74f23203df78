import type { Clock, Logger } from '@kuberelay/shared';
import type { Counter } from 'prom-client';
import type { LimitRefusal } from '../limits/index.js';

export interface RefusedConnectionsOptions {
  readonly counter: Counter<'code'>;
  readonly logger: Logger;
  readonly clock: Pick<Clock, 'now'>;
}

/** A flood is refused thousands of times a second: one log line a second at most. */
const LOG_INTERVAL_MS = 1_000;

/**
 * What the server does with a connection refused by a connection limit: counts it by code, and
 * logs it at most once a second with the number refused since the last line, so a flood cannot
 * turn into a flood of log lines.
 */
export function refusedConnections(
  options: RefusedConnectionsOptions,
): (refusal: LimitRefusal, address: string) => void {
  let sinceLastLine = 0;
  let lastLineMs = Number.NEGATIVE_INFINITY;
  return (refusal, address) => {
    options.counter.inc({ code: refusal.code });
    sinceLastLine += 1;
    const now = options.clock.now();
    if (now - lastLineMs < LOG_INTERVAL_MS) return;
    options.logger.warn(
      { code: refusal.code, address, refused: sinceLastLine },
      `connection refused before TLS: ${refusal.message}`,
    );
    sinceLastLine = 0;
    lastLineMs = now;
  };
}
