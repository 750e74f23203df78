import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { type Result, resultFrom } from '../errors/result.js';
import { isDnsSubdomain } from '../names/kubeNames.js';
import { compareStrings } from '../util/compare.js';
import type { GatewayClassMapping } from './buildCopy.js';

/**
 * `from=to[,from=to...]`, e.g. `gloo-gateway-distribute=gloo-gateway`: the server's
 * `--gateway-class-mapping`, and the same text on its Lease (annotation
 * kuberelay.dev/gateway-class-mapping) so `relayctl plan` renders copies as the server does. An
 * empty value is no swap at all.
 */
export function parseClassMapping(value: string): Result<GatewayClassMapping> {
  const errors: RelayError[] = [];
  const mapping: Record<string, string> = {};
  const problem = (message: string) =>
    new RelayError({ code: ErrorCode.InvalidConfig, message, details: { flag: 'gateway-class-mapping' } });
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [from = '', to = '', ...rest] = entry.split('=').map((p) => p.trim());
    if (rest.length > 0 || !isDnsSubdomain(from) || !isDnsSubdomain(to)) {
      errors.push(
        problem(
          `--gateway-class-mapping entry "${entry}" must be <source class>=<workload class>, both GatewayClass names`,
        ),
      );
    } else if (from in mapping) {
      errors.push(problem(`--gateway-class-mapping maps "${from}" twice`));
    } else {
      mapping[from] = to;
    }
  }
  return resultFrom(errors, () => Object.freeze(mapping));
}

/** The text parseClassMapping reads back, entries in name order. */
export function formatClassMapping(mapping: GatewayClassMapping): string {
  return Object.entries(mapping)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([from, to]) => `${from}=${to}`)
    .join(',');
}
