import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  DEFAULT_RELAY_NAMESPACE,
  ErrorCode,
  type GatewayClassMapping,
  isDnsLabel,
  isDnsSubdomain,
  type KindInfo,
  type ListenAddress,
  parseDurationFlag,
  parseKindsFlag,
  parseListenAddress,
  RelayError,
  type Result,
  resultFrom,
} from '@kuberelay/shared';
import {
  DEFAULT_MAX_REFUSALS_PER_MINUTE,
  DEFAULT_MAX_STREAMS_PER_IDENTITY,
  DEFAULT_MESSAGE_BURST,
  DEFAULT_MESSAGES_PER_SECOND,
} from '../limits/index.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Feature gates the server knows; an unknown name is an error (a typo must not go unnoticed). */
export const FeatureGate = {
  ConfigDistribution: 'ConfigDistribution',
} as const;
export type FeatureGate = (typeof FeatureGate)[keyof typeof FeatureGate];

export const DEFAULT_HEARTBEAT_SECONDS = 5;

const DAY_MS = 86_400_000;
/** Lifetimes of the relay PKI (docs/design.md "Mutual TLS"). */
export const DEFAULT_SERVER_CERT_VALIDITY_MS = 30 * DAY_MS;
export const DEFAULT_AGENT_CERT_VALIDITY_MS = 7 * DAY_MS;
/** The Service in deploy/manifests/mgmt-server.yaml; its names are default server SANs. */
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

/** Everything the composition root needs, validated. */
export interface MgmtServerConfig {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly clusterName: string;
  readonly namespace: string;
  readonly grpcListen: ListenAddress;
  readonly httpListen: ListenAddress;
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
  readonly serverCertValidityMs: number;
  readonly agentCertValidityMs: number;
  /** Hardening limits of the gRPC edge (docs/security.md "Limits"); 0 turns one off. */
  readonly limits: {
    readonly maxStreamsPerCluster: number;
    readonly streamMessagesPerSecond: number;
    readonly streamMessageBurst: number;
    readonly maxRefusalsPerMinute: number;
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
  'pod-name': { type: 'string' },
  kinds: { type: 'string' },
  'gateway-class-mapping': { type: 'string' },
  'feature-gates': { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'log-level': { type: 'string' },
  'ca-validity': { type: 'string' },
  'server-san': { type: 'string', multiple: true },
  'server-cert-validity': { type: 'string' },
  'agent-cert-validity': { type: 'string' },
  'max-streams-per-cluster': { type: 'string' },
  'stream-messages-per-second': { type: 'string' },
  'stream-message-burst': { type: 'string' },
  'max-refusals-per-minute': { type: 'string' },
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
  };
  const serverSans = values['server-san'] ?? defaultServerSans(namespace, environment.env.POD_IP);
  for (const san of serverSans) {
    if (isIP(san) === 0 && !isDnsSubdomain(san)) {
      errors.push(configError(`--server-san "${san}" is neither a DNS name nor an IP address`, 'server-san'));
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
      podName,
      kinds,
      classMapping,
      distributionEnabled: gates.get(FeatureGate.ConfigDistribution) ?? true,
      heartbeatSeconds,
      logLevel: isLogLevel(logLevel) ? logLevel : 'info',
      caValidityMs,
      serverSans,
      serverCertValidityMs,
      agentCertValidityMs,
      limits,
    },
  }));
}

type LimitFlag =
  | 'max-streams-per-cluster'
  | 'stream-messages-per-second'
  | 'stream-message-burst'
  | 'max-refusals-per-minute';

/** A limit: a whole number, 0 = off; absent: `fallback`. */
function parseLimit(flag: LimitFlag, value: string | undefined, fallback: number): Result<number> {
  if (value === undefined) return { ok: true, value: fallback };
  const n = Number(value);
  return resultFrom(
    Number.isInteger(n) && n >= 0 && n <= 1_000_000
      ? []
      : [configError(`--${flag} "${value}" must be a whole number from 0 (off) to 1000000`, flag)],
    () => n,
  );
}

/**
 * `from=to[,from=to...]`, e.g. `gloo-gateway-distribute=gloo-gateway`. The given mapping replaces
 * the default one; an empty value turns the GatewayClass swap off.
 */
export function parseClassMapping(value: string): Result<GatewayClassMapping> {
  const errors: RelayError[] = [];
  const mapping: Record<string, string> = {};
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [from = '', to = '', ...rest] = entry.split('=').map((p) => p.trim());
    if (rest.length > 0 || !isDnsSubdomain(from) || !isDnsSubdomain(to)) {
      errors.push(
        configError(
          `--gateway-class-mapping entry "${entry}" must be <source class>=<workload class>, both GatewayClass names`,
          'gateway-class-mapping',
        ),
      );
    } else if (from in mapping) {
      errors.push(configError(`--gateway-class-mapping maps "${from}" twice`, 'gateway-class-mapping'));
    } else {
      mapping[from] = to;
    }
  }
  return resultFrom(errors, () => Object.freeze(mapping));
}

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

function parseHeartbeat(value: string | undefined): Result<number> {
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

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function configError(message: string, flag: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidConfig, message, details: { flag } });
}

export const HELP_TEXT = `kuberelay-mgmt-server: distributes Gateway API / Gloo resources annotated
gloo.solo.io/distribute-to from this (management) cluster to the agents of registered workload
clusters, over gRPC.

Usage:
  kuberelay-mgmt-server --cluster-name NAME [flags]

Flags:
  --cluster-name NAME           (required) name of the management cluster; copies are labelled
                                relay.solo.io/cluster=NAME and annotated gloo://NAME/...
  --namespace NS                where KubernetesClusters, token Secrets and Leases live
                                (default ${DEFAULT_RELAY_NAMESPACE})
  --kubeconfig PATH             kubeconfig of the management cluster (default: in-cluster, then
                                $KUBECONFIG, then ~/.kube/config)
  --context NAME                kubeconfig context to use (default: the current one)
  --grpc-listen HOST:PORT       agents' gRPC stream (default :9900)
  --http-listen HOST:PORT       /healthz, /readyz and /metrics (default :9091)
  --pod-name NAME               this replica's name, shown as the connected pod
                                (default $POD_NAME, else the host name)
  --kinds LIST                  distributable kinds, e.g.
                                Gateway.gateway.networking.k8s.io/v1,Foo.example.com/v1:foos:Namespaced
                                (default: the docs/spec.md §6 set)
  --gateway-class-mapping LIST  GatewayClass swap, from=to[,from=to] (default
                                gloo-gateway-distribute=gloo-gateway; "" turns it off)
  --feature-gates LIST          Gate=true|false[,...]; known: ConfigDistribution (default true)
  --heartbeat-seconds N         heartbeat period of agent streams, 1-300 (default ${DEFAULT_HEARTBEAT_SECONDS})
  --log-level LEVEL             ${LOG_LEVELS.join('|')} (default info)

Mutual TLS (agents authenticate with client certificates from the relay CA, Secret
kuberelay-relay-ca in --namespace; created at first start when missing, never overwritten):
  --ca-validity DURATION        lifetime of a CA the server creates (default 365d)
  --server-san NAME             DNS name or IP of the server certificate; repeatable (default
                                localhost, 127.0.0.1, $POD_IP and the ${MGMT_SERVER_SERVICE}
                                Service's names in --namespace)
  --server-cert-validity DUR    lifetime of the server certificate, re-issued at 2/3 of it
                                (default 30d)
  --agent-cert-validity DUR     lifetime of agent client certificates (default 7d)
  --max-streams-per-cluster N   concurrent streams one cluster's certificate may hold (default 2: one plus
                                a replacement while it reconnects; 0 = no limit)
  --stream-messages-per-second N
                                sustained messages per second one stream may send (default 50; 0 = off)
  --stream-message-burst N      messages a stream may send at once before the rate applies (default 200)
  --max-refusals-per-minute N   refused attempts (bad certificate or token) per peer address per minute
                                before that address is cut off early (default 60; 0 = off)
                                Durations: a whole number with m, h or d (90m, 12h, 30d).
  -h, --help                    show this help

Exit status: 0 after a graceful stop (SIGINT/SIGTERM), 1 on a runtime failure (e.g. a listen
address already in use: one line names the address and the flag), 2 on bad flags.
`;
