import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  createLogger,
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  formatListenAddress,
  type GatewayClassMapping,
  type ListenAddress,
  parseListenAddress,
  systemClock,
} from '@kuberelay/shared';
import { startProbeServer } from '@kuberelay/shared/http';
import { type KubeResponseInfo, KubeRest } from '@kuberelay/shared/kube';
import { CertificateAuthenticator } from './auth/certificateAuthenticator.js';
import {
  DEFAULT_AGENT_CERT_VALIDITY_MS,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_SERVER_CERT_VALIDITY_MS,
  defaultServerSans,
} from './config/parseFlags.js';
import { type Dashboard, startDashboard } from './dashboard/index.js';
import { DesiredStateLoop } from './desired/desiredStateLoop.js';
import { startGrpcServer } from './grpc/grpcServer.js';
import { refusedConnections } from './grpc/refusedConnections.js';
import { createRelayLimits } from './limits/index.js';
import { createServerMetrics } from './metrics/serverMetrics.js';
import type { MgmtServer, MgmtServerOptions } from './mgmtServerOptions.js';
import { AgentCertificates } from './pki/agentCertificates.js';
import { CaStore } from './pki/caStore.js';
import { ServerCertificate } from './pki/serverCertificate.js';
import { RevisionStore } from './rollout/revisionStore.js';
import { RolloutController } from './rollout/rolloutController.js';
import { SnapshotCache } from './snapshot/snapshotCache.js';
import { ManagementView } from './sources/managementView.js';
import { KIND_NOT_DISTRIBUTABLE, UndistributableSources } from './sources/undistributableSources.js';
import { ClusterStatusReporter } from './status/clusterStatusReporter.js';
import { eventBatches } from './status/eventBatches.js';
import { EventRecorder } from './status/eventRecorder.js';
import { desiredOutcomes, OutcomeEvents } from './status/outcomeEvents.js';
import { RejectedAgentsRecorder } from './status/rejectedAgents.js';
import { ServerLease } from './status/serverLease.js';
import { StaleStatusSweeper } from './status/staleStatusSweeper.js';
import { StatusWriter } from './status/statusWriter.js';
import type { StreamEvent } from './stream/streamEvents.js';
import { StreamSessions } from './stream/streamSessions.js';
import { createStreamObserver } from './streamObserver.js';

/** Stream events after which a rollout may have moved: results, and clusters coming and going. */
const ROLLOUT_EVENTS: ReadonlySet<StreamEvent['type']> = new Set([
  'acked',
  'reported',
  'connected',
  'disconnected',
]);

export type { MgmtServer, MgmtServerOptions } from './mgmtServerOptions.js';

/** How long open streams get to end, and final status writes to land, on stop. */
const STOP_GRACE_MS = 3_000;

/**
 * Starts the management server: the composition root that wires the view of the management
 * cluster, the desired-state loop, the snapshot cache, agent streams, status, Events, metrics and
 * the Lease. Nothing is computed or sent before the view is complete (docs/spec.md §4).
 */
export async function startMgmtServer(options: MgmtServerOptions): Promise<MgmtServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ name: 'mgmt-server' });
  const grpcListen = listenOrThrow('grpcListen', options.grpcListen);
  const httpListen = listenOrThrow('httpListen', options.httpListen);
  const dashboardListen =
    options.dashboardListen === undefined
      ? undefined
      : listenOrThrow('dashboardListen', options.dashboardListen);
  const kinds = options.kinds ?? DEFAULT_KINDS;
  const classMapping: GatewayClassMapping = options.classMapping ?? DEFAULT_CLASS_MAPPING;
  const distributionEnabled = options.distributionEnabled ?? true;
  const heartbeatSeconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  const serverPod = `${options.namespace}/${options.podName}`;
  const serverInstance = `${options.podName}/${options.instanceId ?? randomBytes(4).toString('hex')}`;
  // Background work (informers, writers, Lease) and streams stop separately, so streams can end
  // and their final status be written before the rest goes away.
  const background = new AbortController();
  const streams = new AbortController();
  // Every request is counted; those of the start-up, before the metrics exist, are kept until then.
  const early: KubeResponseInfo[] = [];
  let onResponse: (response: KubeResponseInfo) => void = (response) => early.push(response);
  const rest = new KubeRest(options.kubeConfig, { onResponse: (response) => onResponse(response) });
  // A start that fails (a port taken, no CA) must not leave timers and watches running: the
  // process would hang instead of exiting with the error.
  const abandon = (error: unknown): never => {
    streams.abort();
    background.abort();
    throw error;
  };

  const cache = new SnapshotCache();
  const sessions = new StreamSessions();
  let loop: DesiredStateLoop | undefined;
  let rollouts: RolloutController | undefined;
  let undistributable: UndistributableSources | undefined;
  // Told of every change once it runs; until then (and when it is off) nothing is.
  let dashboard: Dashboard | undefined;
  const view = new ManagementView({
    rest,
    namespace: options.namespace,
    kinds,
    clock,
    logger: logger.child({ component: 'sources' }),
    signal: background.signal,
    onChange: () => {
      loop?.notify();
      dashboard?.changed();
    },
    onCrds: (crds) => undistributable?.onCrds(crds),
    onClusterStatus: () => rollouts?.notify(),
  });
  // The CA must exist before the gRPC endpoint can present a certificate: a failure here (no RBAC
  // for Secrets, an invalid bring-your-own CA) stops the start with a clear error.
  const caStore = new CaStore({
    rest,
    namespace: options.namespace,
    caValidityMs: options.caValidityMs ?? DEFAULT_CA_VALIDITY_MS,
    clock,
    logger: logger.child({ component: 'relay-ca' }),
    signal: background.signal,
  });
  await caStore.start().catch(abandon);
  const serverCertificate = await ServerCertificate.start({
    caStore,
    sans: options.serverSans ?? defaultServerSans(options.namespace, process.env.POD_IP),
    validityMs: options.serverCertValidityMs ?? DEFAULT_SERVER_CERT_VALIDITY_MS,
    clock,
    logger: logger.child({ component: 'server-certificate' }),
    signal: background.signal,
  }).catch(abandon);
  const agentCertificates = new AgentCertificates({
    rest,
    namespace: options.namespace,
    caStore,
    validityMs: options.agentCertValidityMs ?? DEFAULT_AGENT_CERT_VALIDITY_MS,
    clock,
    logger: logger.child({ component: 'agent-certificates' }),
  });
  const authenticator = new CertificateAuthenticator({
    bundlePem: () => caStore.current().bundlePem,
    clusterUid: (cluster) => view.clusterUid(cluster),
    clock,
  });

  const writer = new StatusWriter({
    rest,
    namespace: options.namespace,
    serverPod,
    serverInstance,
    clock,
    logger: logger.child({ component: 'status' }),
    signal: background.signal,
    ...(options.limits?.statusWritesPerSecond === undefined
      ? {}
      : { writesPerSecond: options.limits.statusWritesPerSecond }),
  });
  const outcomes = new OutcomeEvents();
  const recorder = new EventRecorder({
    rest,
    clock,
    logger: logger.child({ component: 'events' }),
    instance: options.podName,
    signal: background.signal,
  });
  undistributable = new UndistributableSources({
    rest,
    kinds,
    clock,
    logger: logger.child({ component: 'undistributable' }),
    signal: background.signal,
    report: (object, message) => recorder.record({ object, reason: KIND_NOT_DISTRIBUTABLE, message }),
  });
  const { schedule: scheduleEvents } = eventBatches({
    outcomes,
    recorder,
    findSource: (ref) => view.findSource(ref),
    // The dashboard shows the Events that exist, not those that failed to be recorded.
    onRecorded: (event) => dashboard?.eventRecorded(event),
    clock,
    logger,
    signal: background.signal,
  });
  const reporter = new ClusterStatusReporter({
    cache,
    writer,
    serverPod,
    serverInstance,
    distributionEnabled,
    clock,
    signal: background.signal,
    onCopyOutcomes: (cluster, copyOutcomes) => {
      outcomes.setCluster(cluster, copyOutcomes);
      scheduleEvents();
    },
  });
  const rejected = new RejectedAgentsRecorder({
    rest,
    namespace: options.namespace,
    clock,
    logger: logger.child({ component: 'rejected-agents' }),
    signal: background.signal,
  });
  const limits = createRelayLimits(options.limits, clock);
  // Read by /readyz and the ready gauge; set once gRPC exists.
  let isReady = () => false;
  const metrics = createServerMetrics({
    connectedAgents: () => sessions.size,
    openConnections: () => limits.connections.open(),
    fleet: {
      registered: () => cache.clusters(),
      held: () => reporter.heldClusters(),
      certificates: () => ({
        'relay-ca': caStore.current().signing.certPem,
        server: serverCertificate.certPem,
      }),
      ready: () => isReady(),
      now: () => clock.now(),
    },
  });
  onResponse = ({ method, status }) => metrics.kubeRequests.inc({ verb: method, code: String(status) });
  for (const response of early.splice(0)) onResponse(response);
  const observer = createStreamObserver({ reporter, metrics, rejected, clock });
  const observe = (event: StreamEvent) => {
    observer.observe(event);
    dashboard?.observe(event);
    if (ROLLOUT_EVENTS.has(event.type)) rollouts?.notify();
  };
  let reportsSeen: DesiredState['reports'] | undefined;
  cache.onState((state, touched) => {
    // The engine keeps the reports map when no report changed: nothing to regroup then.
    if (state.reports !== reportsSeen) {
      reportsSeen = state.reports;
      outcomes.setDesired(desiredOutcomes(state));
      scheduleEvents();
    }
    reporter.onState(state, touched);
    observer.forgetGone(state);
    dashboard?.changed();
    rollouts?.notify();
  });
  loop = new DesiredStateLoop({
    inputs: view,
    cache,
    mgmtCluster: options.clusterName,
    classMapping,
    kinds,
    clock,
    logger: logger.child({ component: 'desired' }),
    onComputed: (seconds) => metrics.recomputeSeconds.observe(seconds),
  });
  const revisions = new RevisionStore({
    rest,
    namespace: options.namespace,
    clock,
    logger: logger.child({ component: 'rollout-revisions' }),
    signal: background.signal,
  });
  rollouts = new RolloutController({
    kinds,
    sources: () => view.sources(),
    clusterStatuses: () => view.clusterStatuses(),
    desired: () => cache.state,
    holds: (cluster) => reporter.holds(cluster),
    copyResult: (cluster, key) => reporter.copyResult(cluster, key),
    onAdmissions: (admissions) => loop?.setRollouts(admissions),
    onProgress: () => dashboard?.changed(),
    onComplete: (sourceKey, complete) => revisions.complete(sourceKey, complete),
    record: ({ source, reason, message, type }) =>
      void recorder
        .record({ object: source, reason, message, type })
        .catch((error: unknown) => logger.warn({ err: error, reason }, 'recording an Event failed')),
    clock,
    logger: logger.child({ component: 'rollout' }),
    signal: background.signal,
  });

  const grpcLogger = logger.child({ component: 'grpc' });
  const grpc = await startGrpcServer({
    address: grpcListen,
    limits,
    logger: grpcLogger,
    onRefusedConnection: refusedConnections({
      counter: metrics.refusedConnections,
      logger: grpcLogger,
      clock,
    }),
    credentials: serverCertificate.credentials,
    bootstrap: (request) => agentCertificates.bootstrap(request),
    ready: cache.ready,
    context: {
      certificates: {
        renew: (request) => agentCertificates.renew(request),
        bundlePem: () => caStore.current().bundlePem,
        onBundleChange: (listener) =>
          caStore.onChange((ca, previous) => {
            if (ca.bundlePem !== previous.bundlePem) listener(ca.bundlePem);
          }),
      },
      authenticator,
      cache,
      sessions,
      settings: { mgmtCluster: options.clusterName, serverPod, distributionEnabled, heartbeatSeconds },
      clock,
      logger: logger.child({ component: 'stream' }),
      signal: streams.signal,
      observe,
      limits,
    },
  }).catch(abandon);
  isReady = () => cache.isReady() && grpc.isServing();
  const http = await startProbeServer({
    host: httpListen.host,
    port: httpListen.port,
    registry: metrics.registry,
    isReady: () => isReady(),
    notReadyReason: 'informers not synced or gRPC not serving',
    logger: logger.child({ component: 'http' }),
  }).catch(async (error: unknown) => {
    await grpc.stop(0);
    return abandon(error);
  });
  if (dashboardListen !== undefined) {
    dashboard = await startDashboard({
      listen: dashboardListen,
      cache,
      reporter,
      view,
      serverInstance,
      rollouts,
      clock,
      signal: background.signal,
      logger: logger.child({ component: 'dashboard' }),
    }).catch(async (error: unknown) => {
      await http.stop();
      await grpc.stop(0);
      return abandon(error);
    });
  }
  view.start();
  const lease = new ServerLease({
    rest,
    namespace: options.namespace,
    podName: options.podName,
    instance: serverInstance,
    mgmtCluster: options.clusterName,
    grpcAddress: options.agentAddress ?? advertised(grpcListen, grpc.port),
    httpAddress: advertised(httpListen, http.port),
    kinds,
    classMapping,
    clock,
    logger: logger.child({ component: 'lease' }),
    signal: background.signal,
  });
  const leaseDone = lease.run();
  const sweeper = new StaleStatusSweeper({
    rest,
    namespace: options.namespace,
    self: serverInstance,
    clusters: () => view.clusterStatuses(),
    heldHere: (cluster) => reporter.holds(cluster),
    ready: cache.ready,
    clock,
    logger: logger.child({ component: 'stale-status' }),
    signal: background.signal,
  });
  const sweeperDone = sweeper.run();
  const ready = cache.ready.then(() => {
    grpc.setServing(true);
    logger.info(
      { grpcPort: grpc.port, httpPort: http.port, clusters: cache.clusters().length, distributionEnabled },
      'management server ready',
    );
  });
  logger.info(
    { grpcPort: grpc.port, httpPort: http.port, namespace: options.namespace },
    'management server started',
  );

  let stopping: Promise<void> | undefined;
  return {
    grpcPort: grpc.port,
    serverCertificatePem: () => serverCertificate.certPem,
    caBundlePem: () => caStore.current().bundlePem,
    httpPort: http.port,
    dashboardPort: dashboard?.port,
    ready,
    stop: () => {
      stopping ??= (async () => {
        logger.info('management server stopping');
        grpc.setServing(false);
        streams.abort();
        await grpc.stop(STOP_GRACE_MS);
        loop?.stop();
        background.abort();
        await writer.drain(STOP_GRACE_MS);
        await leaseDone;
        await sweeperDone;
        await lease.release();
        await dashboard?.stop();
        await http.stop();
        logger.info('management server stopped');
      })();
      return stopping;
    },
  };
}

function listenOrThrow(name: string, value: string): ListenAddress {
  const parsed = parseListenAddress(name, value);
  if (!parsed.ok) throw parsed.errors[0];
  return parsed.value;
}

/** The address other programs can dial: the listen host, or this host's name for a wildcard. */
function advertised(listen: ListenAddress, port: number): string {
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  const host = wildcard ? (process.env.POD_IP ?? hostname()) : listen.host;
  return formatListenAddress({ host, port });
}
