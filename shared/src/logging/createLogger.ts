import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import { type ObjectRef, objectKey } from '../source/objectRef.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Component name, on every line as `name` (e.g. `mgmt-server`, `agent`). */
  readonly name: string;
  /** Default `info`. */
  readonly level?: Level | 'silent';
  /** Where JSON lines go; default stdout. Tests pass an in-memory stream. */
  readonly destination?: DestinationStream;
}

/**
 * The root logger of a program: one JSON object per line (docs/spec.md §8), ISO timestamps so lines from
 * several clusters can be merged and read. Only composition roots call this; everything else
 * receives a child logger (STYLE principle 5: no global logger).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/** A child logger whose every line carries `source` (the source's object key). */
export function forSource(logger: Logger, source: ObjectRef): Logger {
  return logger.child({ source: objectKey(source) });
}

/** A child logger whose every line carries `cluster`. */
export function forCluster(logger: Logger, cluster: string): Logger {
  return logger.child({ cluster });
}
