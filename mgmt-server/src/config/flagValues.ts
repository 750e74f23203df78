import { isIP } from 'node:net';
import { ErrorCode, RelayError, type Result, resultFrom } from '@kuberelay/shared';

// Defaults of the management server's flags and the parsers of single flag values: pure, each
// error naming its flag. Apart from parseFlags.ts so the flag table reads as a table.

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Feature gates the server knows; an unknown name is an error (a typo must not go unnoticed). */
export const FeatureGate = {
  ConfigDistribution: 'ConfigDistribution',
} as const;
export type FeatureGate = (typeof FeatureGate)[keyof typeof FeatureGate];

export const DEFAULT_HEARTBEAT_SECONDS = 5;

export const DAY_MS = 86_400_000;
/** Lifetimes of the relay PKI (docs/design.md "Mutual TLS"). */
export const DEFAULT_SERVER_CERT_VALIDITY_MS = 30 * DAY_MS;
export const DEFAULT_AGENT_CERT_VALIDITY_MS = 7 * DAY_MS;
/** The Service the Helm chart creates (deploy/charts/kuberelay); its names are default server SANs. */
export const MGMT_SERVER_SERVICE = 'kuberelay-mgmt-server';

/** Default `--server-san`: loopback and the in-cluster names of the server's Service. */
export function defaultServerSans(namespace: string, podIp: string | undefined): string[] {
  return [
    'localhost',
    '127.0.0.1',
    MGMT_SERVER_SERVICE,
    `${MGMT_SERVER_SERVICE}.${namespace}`,
    `${MGMT_SERVER_SERVICE}.${namespace}.svc`,
    `${MGMT_SERVER_SERVICE}.${namespace}.svc.cluster.local`,
    ...(podIp !== undefined && isIP(podIp) !== 0 ? [podIp] : []),
  ];
}

export type LimitFlag =
  | 'max-streams-per-cluster'
  | 'stream-messages-per-second'
  | 'stream-message-burst'
  | 'max-refusals-per-minute'
  | 'max-connections-per-address'
  | 'max-connections'
  | 'status-writes-per-second';

/** A limit: a whole number, 0 = off; absent: `fallback`. */
export function parseLimit(flag: LimitFlag, value: string | undefined, fallback: number): Result<number> {
  if (value === undefined) return { ok: true, value: fallback };
  const n = Number(value);
  return resultFrom(
    Number.isInteger(n) && n >= 0 && n <= 1_000_000
      ? []
      : [configError(`--${flag} "${value}" must be a whole number from 0 (off) to 1000000`, flag)],
    () => n,
  );
}

// --gateway-class-mapping is parsed by shared's parseClassMapping: the Lease carries the same text.
export { parseClassMapping } from '@kuberelay/shared';

/** `Gate=true|false[,...]`, the Kubernetes feature-gate syntax. */
export function parseFeatureGates(value: string): Result<ReadonlyMap<FeatureGate, boolean>> {
  const errors: RelayError[] = [];
  const gates = new Map<FeatureGate, boolean>();
  const known = Object.values(FeatureGate) as readonly string[];
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [name = '', setting = '', ...rest] = entry.split('=').map((p) => p.trim());
    if (!known.includes(name)) {
      errors.push(
        configError(`--feature-gates: unknown gate "${name}" (known: ${known.join(', ')})`, 'feature-gates'),
      );
    } else if (rest.length > 0 || (setting !== 'true' && setting !== 'false')) {
      errors.push(
        configError(
          `--feature-gates entry "${entry}" must be ${name}=true or ${name}=false`,
          'feature-gates',
        ),
      );
    } else {
      gates.set(name as FeatureGate, setting === 'true');
    }
  }
  return resultFrom(errors, () => gates);
}

export function parseHeartbeat(value: string | undefined): Result<number> {
  if (value === undefined) return { ok: true, value: DEFAULT_HEARTBEAT_SECONDS };
  const seconds = Number(value);
  return resultFrom(
    Number.isInteger(seconds) && seconds >= 1 && seconds <= 300
      ? []
      : [
          configError(
            `--heartbeat-seconds "${value}" must be a whole number from 1 to 300`,
            'heartbeat-seconds',
          ),
        ],
    () => seconds,
  );
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function configError(message: string, flag: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidConfig, message, details: { flag } });
}
