import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `90m`, `12h`, `30d`: a whole number and a unit (certificate lifetimes need no seconds). Shared
 * by the server's flags and relayctl's, so a lifetime is written the same way on both.
 */
export function parseDurationFlag(
  flag: string,
  value: string | undefined,
  options: { readonly fallback: number; readonly minMs: number },
): Result<number> {
  if (value === undefined) return ok(options.fallback);
  const match = /^(\d+)(m|h|d)$/.exec(value.trim());
  const ms =
    match === null ? Number.NaN : Number(match[1]) * (DURATION_UNIT_MS[match[2] ?? ''] ?? Number.NaN);
  const problem = Number.isNaN(ms)
    ? `--${flag} "${value}" must be a duration such as 90m, 12h or 30d`
    : ms < options.minMs
      ? `--${flag} "${value}" is shorter than the minimum ${Math.round(options.minMs / 60_000)}m`
      : undefined;
  if (problem === undefined) return ok(ms);
  return err(new RelayError({ code: ErrorCode.InvalidConfig, message: problem, details: { flag } }));
}
