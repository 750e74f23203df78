import { parseArgs } from 'node:util';
import {
  AGENT_CREDENTIALS_SECRET,
  DEFAULT_KINDS,
  DEFAULT_RELAY_NAMESPACE,
  ErrorCode,
  err,
  type KindInfo,
  ok,
  parseKindsFlag,
  RelayError,
  type Result,
} from '@kuberelay/shared';
import { DEFAULT_RENEW_FRACTION } from '../identity/agentIdentity.js';
import { DEFAULT_LEADER_LEASE } from '../leader/leaderElector.js';
import { DEFAULT_LEASE_TIMINGS, type LeaseTimings, validateLeaseTimings } from '../leader/leaseDecision.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The agent's command line, validated. Absent connection values come from the credentials Secret. */
export interface AgentFlags {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly cluster: string | undefined;
  readonly server: string | undefined;
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly bootstrapTokenFile: string | undefined;
  /** Share of the client certificate's lifetime after which it is renewed, in (0, 1). */
  readonly renewFraction: number;
  readonly mgmtCluster: string | undefined;
  readonly credentialsSecret: string;
  readonly namespace: string;
  readonly stateFile: string;
  readonly httpListen: string;
  readonly podName: string | undefined;
  readonly logLevel: LogLevel;
  readonly kinds: readonly KindInfo[];
  /** Every copy is looked at again this often, events or not (milliseconds). */
  readonly resyncIntervalMs: number;
  /** Replicas elect a leader on a Lease; undefined with --leader-elect=false. */
  readonly leaderElection: { readonly leaseName: string; readonly timings: LeaseTimings } | undefined;
}

export const DEFAULT_RESYNC_INTERVAL_MS = 5 * 60_000;
const RESYNC_UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000 };

export const USAGE = `Usage: kuberelay-agent [flags]

Applies the copies the Kuberelay management server streams for this workload cluster, reverts
drift, and deletes copies that are no longer wanted.

Flags:
  --kubeconfig PATH          kubeconfig of the workload cluster (default: in-cluster or $KUBECONFIG)
  --context NAME             kubeconfig context (default: current)
  --cluster NAME             this workload cluster's registered name
  --server HOST:PORT         the management server's gRPC address
  --mgmt-cluster NAME        the management cluster's name (default: learned from the server)
  --credentials-secret NAME  Secret with cluster, server, mgmtCluster, ca.crt, bootstrapToken,
                             tls.crt and tls.key (default ${AGENT_CREDENTIALS_SECRET}). The agent
                             bootstraps its client certificate with bootstrapToken and writes
                             tls.crt/tls.key (and renewed ones) back to it
  --namespace NAME           namespace of that Secret (default ${DEFAULT_RELAY_NAMESPACE})
  --ca-file PATH             relay CA bundle (PEM) instead of the Secret's ca.crt
  --cert-file PATH           client certificate (PEM); with --key-file and --ca-file, credentials
                             live in files instead of the Secret: bootstrap and renewal write them
  --key-file PATH            the client certificate's private key (PEM)
  --bootstrap-token-file PATH  one-time bootstrap token instead of the Secret's bootstrapToken
  --renew-fraction F         renew the client certificate after this share of its lifetime
                             (0 < F < 1, default ${DEFAULT_RENEW_FRACTION})
  --state-file PATH          where the last acknowledged state is kept (default /var/lib/kuberelay/state.json)
  --http-listen ADDR         /healthz, /readyz and /metrics (default :9092)
  --pod-name NAME            shown in the cluster's status (default $POD_NAME or the host name)
  --kinds LIST               distributable kinds, as the management server's --kinds (default docs/spec.md §6 set)
  --resync-interval DURATION look at every copy again this often, events or not: 30s, 5m, 1h
                             (default 5m; at least 1s). A look is one GET; it writes only on a difference
  --leader-elect BOOL         true (default): replicas of this agent elect one leader on a Lease
                             in --namespace; only the leader writes copies and connects to the
                             server, the others stand by and take over when it is gone. false:
                             this process always writes (run exactly one replica then)
  --leader-elect-lease NAME  the leader Lease; replicas with the same name form one group
                             (default ${DEFAULT_LEADER_LEASE})
  --leader-elect-lease-duration DURATION  a standby takes over when the Lease was not renewed
                             for this long (default ${DEFAULT_LEASE_TIMINGS.leaseDurationMs / 1000}s, whole seconds)
  --leader-elect-renew-deadline DURATION  the leader stops writing when it could not renew for
                             this long; shorter than the lease duration (default ${DEFAULT_LEASE_TIMINGS.renewDeadlineMs / 1000}s)
  --leader-elect-retry-period DURATION  how often the leader renews and a standby looks;
                             shorter than the renew deadline (default ${DEFAULT_LEASE_TIMINGS.retryPeriodMs / 1000}s)
  --log-level LEVEL          ${LOG_LEVELS.join(', ')} (default info)
  -h, --help                 show this help

Durations: 10s, 500ms, 1m. A leader that could not renew in time stops writing and stands by
again; it does not exit.

Exit status: 0 after a graceful stop, 1 when it cannot start (e.g. --http-listen already in use:
one line names the address and the flag), 2 on bad flags.
`;

export type ParsedFlags = { readonly help: true } | { readonly help: false; readonly flags: AgentFlags };

/** Parses argv (without node and script). Unknown flags and bad values are errors, all reported. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Result<ParsedFlags> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        cluster: { type: 'string' },
        server: { type: 'string' },
        'ca-file': { type: 'string' },
        'cert-file': { type: 'string' },
        'key-file': { type: 'string' },
        'bootstrap-token-file': { type: 'string' },
        'renew-fraction': { type: 'string' },
        'mgmt-cluster': { type: 'string' },
        'credentials-secret': { type: 'string' },
        namespace: { type: 'string' },
        'state-file': { type: 'string' },
        'http-listen': { type: 'string' },
        'pod-name': { type: 'string' },
        kinds: { type: 'string' },
        'resync-interval': { type: 'string' },
        'leader-elect': { type: 'string' },
        'leader-elect-lease': { type: 'string' },
        'leader-elect-lease-duration': { type: 'string' },
        'leader-elect-renew-deadline': { type: 'string' },
        'leader-elect-retry-period': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return err(configError(error instanceof Error ? error.message : String(error)));
  }
  if (values.help === true) return ok({ help: true });
  const str = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const errors: RelayError[] = [];
  for (const name of [
    'cluster',
    'server',
    'ca-file',
    'cert-file',
    'key-file',
    'bootstrap-token-file',
    'mgmt-cluster',
    'state-file',
    'http-listen',
    'namespace',
  ]) {
    if (str(name) === '') errors.push(configError(`--${name} must not be empty`));
  }
  const server = str('server');
  if (server !== undefined && server !== '' && !/^[^\s/]+:\d{1,5}$/.test(server)) {
    errors.push(configError(`--server "${server}" must be host:port`));
  }
  if ((str('cert-file') === undefined) !== (str('key-file') === undefined)) {
    errors.push(configError('--cert-file and --key-file go together'));
  } else if (str('cert-file') !== undefined && str('ca-file') === undefined) {
    errors.push(configError('--cert-file and --key-file need --ca-file (credentials in files)'));
  }
  let renewFraction = DEFAULT_RENEW_FRACTION;
  const fraction = str('renew-fraction');
  if (fraction !== undefined) {
    renewFraction = Number(fraction);
    if (fraction.trim() === '' || !(renewFraction > 0 && renewFraction < 1)) {
      errors.push(configError(`--renew-fraction "${fraction}" must be a number between 0 and 1 (exclusive)`));
    }
  }
  const logLevel = str('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    errors.push(configError(`--log-level "${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`));
  }
  let kinds: readonly KindInfo[] = DEFAULT_KINDS;
  const kindsFlag = str('kinds');
  if (kindsFlag !== undefined) {
    const parsed = parseKindsFlag(kindsFlag);
    if (parsed.ok) kinds = parsed.value;
    else errors.push(...parsed.errors);
  }
  let resyncIntervalMs = DEFAULT_RESYNC_INTERVAL_MS;
  const resync = str('resync-interval');
  if (resync !== undefined) {
    const match = /^(\d+)(s|m|h)$/.exec(resync.trim());
    resyncIntervalMs =
      match === null ? Number.NaN : Number(match[1]) * (RESYNC_UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    if (!(resyncIntervalMs >= 1_000)) {
      errors.push(
        configError(`--resync-interval "${resync}" must be a duration of at least 1s, such as 30s, 5m or 1h`),
      );
    }
  }
  const leaderElection = parseLeaderElection(str, errors);
  const [first, ...rest] = errors;
  if (first !== undefined) return err(first, ...rest);
  return ok({
    help: false,
    flags: {
      kubeconfig: str('kubeconfig'),
      context: str('context'),
      cluster: str('cluster'),
      server,
      caFile: str('ca-file'),
      certFile: str('cert-file'),
      keyFile: str('key-file'),
      bootstrapTokenFile: str('bootstrap-token-file'),
      renewFraction,
      mgmtCluster: str('mgmt-cluster'),
      credentialsSecret: str('credentials-secret') ?? AGENT_CREDENTIALS_SECRET,
      namespace: str('namespace') ?? DEFAULT_RELAY_NAMESPACE,
      stateFile: str('state-file') ?? '/var/lib/kuberelay/state.json',
      httpListen: str('http-listen') ?? ':9092',
      podName: str('pod-name') ?? env.POD_NAME,
      logLevel: logLevel as LogLevel,
      kinds,
      resyncIntervalMs,
      leaderElection,
    },
  });
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 };

/** `2s`, `500ms`, `1.5s`, `1m` in milliseconds; NaN when it is none of these. */
function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
  return match === null
    ? Number.NaN
    : Math.round(Number(match[1]) * (DURATION_UNIT_MS[match[2] ?? ''] ?? Number.NaN));
}

function parseLeaderElection(
  str: (name: string) => string | undefined,
  errors: RelayError[],
): AgentFlags['leaderElection'] {
  const enabled = str('leader-elect') ?? 'true';
  if (enabled !== 'true' && enabled !== 'false') {
    errors.push(configError(`--leader-elect "${enabled}" must be true or false`));
  }
  const leaseName = str('leader-elect-lease') ?? DEFAULT_LEADER_LEASE;
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(leaseName)) {
    errors.push(
      configError(`--leader-elect-lease "${leaseName}" must be a Kubernetes object name (DNS subdomain)`),
    );
  }
  const duration = (flag: string, fallback: number): number => {
    const value = str(flag);
    if (value === undefined) return fallback;
    const ms = parseDuration(value);
    if (!(ms > 0))
      errors.push(configError(`--${flag} "${value}" must be a positive duration, such as 10s or 500ms`));
    return ms;
  };
  const timings: LeaseTimings = {
    leaseDurationMs: duration('leader-elect-lease-duration', DEFAULT_LEASE_TIMINGS.leaseDurationMs),
    renewDeadlineMs: duration('leader-elect-renew-deadline', DEFAULT_LEASE_TIMINGS.renewDeadlineMs),
    retryPeriodMs: duration('leader-elect-retry-period', DEFAULT_LEASE_TIMINGS.retryPeriodMs),
  };
  if ([timings.leaseDurationMs, timings.renewDeadlineMs, timings.retryPeriodMs].every((ms) => ms > 0)) {
    for (const message of validateLeaseTimings(timings)) errors.push(configError(message));
  }
  return enabled === 'false' ? undefined : { leaseName, timings };
}

function configError(message: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidConfig, message });
}
