import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  DEFAULT_RELAY_NAMESPACE,
  type GatewayClassMapping,
  isDnsLabel,
  isDnsSubdomain,
  isHostPort,
  type KindInfo,
  type ListenAddress,
  parseDurationFlag,
  parseKindsFlag,
  parseListenAddress,
  type RelayError,
  type Result,
  resultFrom,
} from '@kuberelay/shared';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_REFUSALS_PER_MINUTE,
  DEFAULT_MAX_STREAMS_PER_IDENTITY,
  DEFAULT_MESSAGE_BURST,
  DEFAULT_MESSAGES_PER_SECOND,
} from '../limits/index.js';
import { DEFAULT_STATUS_WRITES_PER_SECOND } from '../status/statusWriter.js';
import {
  configError,
  DAY_MS,
  DEFAULT_AGENT_CERT_VALIDITY_MS,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_SERVER_CERT_VALIDITY_MS,
  defaultServerSans,
  FeatureGate,
  isLogLevel,
  type LimitFlag,
  LOG_LEVELS,
  type LogLevel,
  parseClassMapping,
  parseFeatureGates,
  parseHeartbeat,
  parseLimit,
} from './flagValues.js';

// The flag table and the one pass over it: each flag to its config field. What a single value may
// be lives in flagValues.ts, the text of --help in helpText.ts; names other modules import from
// here are re-exported so they keep working.
export {
  DEFAULT_AGENT_CERT_VALIDITY_MS,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_SERVER_CERT_VALIDITY_MS,
  defaultServerSans,
  FeatureGate,
  LOG_LEVELS,
  type LogLevel,
  MGMT_SERVER_SERVICE,
  parseClassMapping,
  parseFeatureGates,
} from './flagValues.js';
export { HELP_TEXT } from './helpText.js';

/** Everything the composition root needs, validated. */
export interface MgmtServerConfig {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly clusterName: string;
  readonly namespace: string;
  readonly grpcListen: ListenAddress;
  readonly httpListen: ListenAddress;
  /** The read-only dashboard; undefined (the default): off. */
  readonly dashboardListen: ListenAddress | undefined;
  readonly podName: string;
  readonly kinds: readonly KindInfo[];
  readonly classMapping: GatewayClassMapping;
  readonly distributionEnabled: boolean;
  readonly heartbeatSeconds: number;
  readonly logLevel: LogLevel;
  /** Lifetime of a relay CA the server creates. */
  readonly caValidityMs: number;
  /** DNS names and IP addresses of the server certificate. */
  readonly serverSans: readonly string[];
  /**
   * The address agents dial, announced on this replica's Lease (relayctl register's default
   * --server); undefined: this replica's own address.
   */
  readonly agentAddress: string | undefined;
  readonly serverCertValidityMs: number;
  readonly agentCertValidityMs: number;
  /** Hardening limits of the gRPC edge (docs/security.md "Limits"); 0 turns one off. */
  readonly limits: {
    readonly maxStreamsPerCluster: number;
    readonly streamMessagesPerSecond: number;
    readonly streamMessageBurst: number;
    readonly maxRefusalsPerMinute: number;
    readonly maxConnectionsPerAddress: number;
    readonly maxConnections: number;
    readonly statusWritesPerSecond: number;
  };
}

export type ParsedFlags =
  | { readonly help: true }
  | { readonly help: false; readonly config: MgmtServerConfig };

/** What the flags default from: the process environment and host name, injected for tests. */
export interface FlagEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'cluster-name': { type: 'string' },
  namespace: { type: 'string' },
  'grpc-listen': { type: 'string' },
  'http-listen': { type: 'string' },
  'dashboard-listen': { type: 'string' },
  'pod-name': { type: 'string' },
  kinds: { type: 'string' },
  'gateway-class-mapping': { type: 'string' },
  'feature-gates': { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'log-level': { type: 'string' },
  'ca-validity': { type: 'string' },
  'server-san': { type: 'string', multiple: true },
  'extra-server-san': { type: 'string', multiple: true },
  'agent-address': { type: 'string' },
  'server-cert-validity': { type: 'string' },
  'agent-cert-validity': { type: 'string' },
  'max-streams-per-cluster': { type: 'string' },
  'stream-messages-per-second': { type: 'string' },
  'stream-message-burst': { type: 'string' },
  'max-refusals-per-minute': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'status-writes-per-second': { type: 'string' },
  'max-connections': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Parses the management server's command line. Every problem is reported at once (not only the
 * first), each naming its flag, so an operator fixes a manifest in one go.
 */
export function parseFlags(argv: readonly string[], environment: FlagEnvironment): Result<ParsedFlags> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return resultFrom([configError(error instanceof Error ? error.message : String(error), 'argv')], () => ({
      help: true as const,
    }));
  }
  if (values.help === true) {
    return { ok: true, value: { help: true } };
  }
  const errors: RelayError[] = [];
  const pick = <T>(result: Result<T>, fallback: T): T => {
    if (result.ok) return result.value;
    errors.push(...result.errors);
    return fallback;
  };

  const clusterName = values['cluster-name'] ?? '';
  if (clusterName === '') {
    errors.push(
      configError('--cluster-name is required (the management cluster name, e.g. mgmt)', 'cluster-name'),
    );
  } else if (!isDnsLabel(clusterName)) {
    errors.push(configError(`--cluster-name "${clusterName}" is not a DNS label`, 'cluster-name'));
  }
  const namespace = values.namespace ?? DEFAULT_RELAY_NAMESPACE;
  if (!isDnsLabel(namespace)) {
    errors.push(configError(`--namespace "${namespace}" is not a namespace name`, 'namespace'));
  }
  const podName = values['pod-name'] ?? environment.env.POD_NAME ?? environment.hostname;
  if (!isDnsSubdomain(podName)) {
    errors.push(configError(`--pod-name "${podName}" is not a valid object name`, 'pod-name'));
  }
  const grpcListen = pick(parseListenAddress('--grpc-listen', values['grpc-listen'] ?? ':9900'), {
    host: '0.0.0.0',
    port: 9900,
  });
  const httpListen = pick(parseListenAddress('--http-listen', values['http-listen'] ?? ':9091'), {
    host: '0.0.0.0',
    port: 9091,
  });
  const dashboardFlag = values['dashboard-listen'];
  const dashboardListen =
    dashboardFlag === undefined || dashboardFlag === ''
      ? undefined
      : pick(parseListenAddress('--dashboard-listen', dashboardFlag), undefined);
  const kinds =
    values.kinds === undefined ? DEFAULT_KINDS : pick(parseKindsFlag(values.kinds), DEFAULT_KINDS);
  const classMapping =
    values['gateway-class-mapping'] === undefined
      ? DEFAULT_CLASS_MAPPING
      : pick(parseClassMapping(values['gateway-class-mapping']), DEFAULT_CLASS_MAPPING);
  const gates = pick(parseFeatureGates(values['feature-gates'] ?? ''), new Map<FeatureGate, boolean>());
  const heartbeatSeconds = pick(parseHeartbeat(values['heartbeat-seconds']), DEFAULT_HEARTBEAT_SECONDS);
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) {
    errors.push(
      configError(`--log-level "${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`, 'log-level'),
    );
  }
  const caValidityMs = pick(
    parseDurationFlag('ca-validity', values['ca-validity'], {
      fallback: DEFAULT_CA_VALIDITY_MS,
      minMs: DAY_MS,
    }),
    DEFAULT_CA_VALIDITY_MS,
  );
  const serverCertValidityMs = pick(
    parseDurationFlag('server-cert-validity', values['server-cert-validity'], {
      fallback: DEFAULT_SERVER_CERT_VALIDITY_MS,
      minMs: 10 * 60_000,
    }),
    DEFAULT_SERVER_CERT_VALIDITY_MS,
  );
  const agentCertValidityMs = pick(
    parseDurationFlag('agent-cert-validity', values['agent-cert-validity'], {
      fallback: DEFAULT_AGENT_CERT_VALIDITY_MS,
      minMs: 10 * 60_000,
    }),
    DEFAULT_AGENT_CERT_VALIDITY_MS,
  );
  for (const [flag, ms] of [
    ['server-cert-validity', serverCertValidityMs],
    ['agent-cert-validity', agentCertValidityMs],
  ] as const) {
    if (ms > caValidityMs) {
      errors.push(configError(`--${flag} must not be longer than --ca-validity`, flag));
    }
  }
  const limit = (flag: LimitFlag, fallback: number) =>
    pick(parseLimit(flag, values[flag], fallback), fallback);
  const limits = {
    maxStreamsPerCluster: limit('max-streams-per-cluster', DEFAULT_MAX_STREAMS_PER_IDENTITY),
    streamMessagesPerSecond: limit('stream-messages-per-second', DEFAULT_MESSAGES_PER_SECOND),
    streamMessageBurst: limit('stream-message-burst', DEFAULT_MESSAGE_BURST),
    maxRefusalsPerMinute: limit('max-refusals-per-minute', DEFAULT_MAX_REFUSALS_PER_MINUTE),
    maxConnectionsPerAddress: limit('max-connections-per-address', DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    maxConnections: limit('max-connections', DEFAULT_MAX_CONNECTIONS),
    statusWritesPerSecond: limit('status-writes-per-second', DEFAULT_STATUS_WRITES_PER_SECOND),
  };
  // --extra-server-san adds to the list (the defaults, or --server-san's), so a chart can name a
  // load balancer's address without repeating the in-cluster names.
  const serverSans = [
    ...new Set([
      ...(values['server-san'] ?? defaultServerSans(namespace, environment.env.POD_IP)),
      ...(values['extra-server-san'] ?? []),
    ]),
  ];
  const agentAddress = values['agent-address'];
  if (agentAddress !== undefined && !isHostPort(agentAddress)) {
    errors.push(
      configError(
        `--agent-address "${agentAddress}" is not HOST:PORT (e.g. relay.example.com:9900)`,
        'agent-address',
      ),
    );
  }
  for (const flag of ['server-san', 'extra-server-san'] as const) {
    for (const san of values[flag] ?? []) {
      if (isIP(san) === 0 && !isDnsSubdomain(san)) {
        errors.push(configError(`--${flag} "${san}" is neither a DNS name nor an IP address`, flag));
      }
    }
  }
  if (serverSans.length === 0) errors.push(configError('--server-san needs at least one name', 'server-san'));
  return resultFrom(errors, () => ({
    help: false as const,
    config: {
      kubeconfig: values.kubeconfig,
      context: values.context,
      clusterName,
      namespace,
      grpcListen,
      httpListen,
      dashboardListen,
      podName,
      kinds,
      classMapping,
      distributionEnabled: gates.get(FeatureGate.ConfigDistribution) ?? true,
      heartbeatSeconds,
      logLevel: isLogLevel(logLevel) ? logLevel : 'info',
      caValidityMs,
      serverSans,
      agentAddress,
      serverCertValidityMs,
      agentCertValidityMs,
      limits,
    },
  }));
}
