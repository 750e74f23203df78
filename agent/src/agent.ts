import { hostname } from 'node:os';
import {
  type Hello,
  DigestFormat as ProtoDigestFormat,
  type RenewResponse,
  type TrustBundle,
  type VersionContent,
  type Welcome,
} from '@kuberelay/proto';
import {
  type Clock,
  createKindRegistry,
  createLogger,
  DEFAULT_KINDS,
  DigestFormat,
  ErrorCode,
  forCluster,
  type KindInfo,
  type KindRegistry,
  type Logger,
  parseListenAddress,
  RelayError,
  systemClock,
} from '@kuberelay/shared';
import { startProbeServer } from '@kuberelay/shared/http';
import { KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AgentCopyResult } from './apply/copyResult.js';
import { runConnectLoop } from './connection/connectLoop.js';
import { createRelayDialer, type DialCredentials } from './connection/grpcDial.js';
import type { DialStream } from './connection/relayStream.js';
import type { RelaySession, SessionHandler, VersionReply } from './connection/session.js';
import { AgentMetrics } from './http/metrics.js';
import type { AgentIdentity } from './identity/agentIdentity.js';
import { runRenewalLoop } from './identity/renewalLoop.js';
import { ResultReporter, toProtoResult } from './report/resultReporter.js';
import { AGENT_VERSION } from './version.js';
import { VersionApplier } from './versions/versionApplier.js';

export interface AgentOptions {
  /** The workload cluster the agent writes copies to. */
  readonly kubeConfig: KubeConfig;
  /** This workload cluster's registered name. */
  readonly cluster: string;
  /** The management server, `host:port`. */
  readonly serverAddress: string;
  /**
   * The agent's credentials: its client certificate (mutual TLS), bootstrapping one first if it
   * has only a bootstrap token, renewing it, and storing all of it (docs/design.md, "Mutual TLS").
   */
  readonly identity?: AgentIdentity;
  /**
   * The management cluster's name. Learned from Welcome when absent; the state file's is used
   * before the first connection, so saved copies can be enforced while the server is away.
   */
  readonly mgmtCluster?: string;
  readonly stateFile: string;
  /** Default `127.0.0.1:0`. */
  readonly httpListen?: string;
  readonly podName?: string;
  /** Plurals and scopes of the kinds the agent watches and writes. Default DEFAULT_KINDS. */
  readonly kinds?: readonly KindInfo[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Tests only: how to open a stream (default: gRPC to serverAddress). */
  readonly dial?: DialStream;
  /** How often every copy is re-checked without an event. Default 5 minutes. */
  readonly resyncIntervalMs?: number;
}

export interface Agent {
  /** The port of /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  /** A stream to the management server is open and welcomed. */
  connected(): boolean;
  /** The last version acknowledged (0: none). */
  ackedVersion(): number;
  /** Stops watching, streaming and serving. Deletes nothing: copies stay as they are. */
  stop(): Promise<void>;
}

/**
 * Starts an agent: loads the saved state and enforces it at once (no pruning) if the management
 * cluster is known, serves HTTP, and connects to the management server in the background,
 * reconnecting forever. Resolves once the HTTP server listens.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const runtime = new AgentRuntime(options);
  return runtime.start();
}

/**
 * The composition of the agent and the protocol's decisions (SessionHandler): which set is held,
 * when a version is applied, when pruning is allowed, what is reported.
 */
class AgentRuntime implements SessionHandler {
  readonly #options: AgentOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #kinds: KindRegistry;
  readonly #rest: KubeRest;
  readonly #metrics = new AgentMetrics();
  readonly #controller = new AbortController();
  readonly #versions: VersionApplier;
  readonly #reporter: ResultReporter;
  #session: RelaySession | undefined;
  /** Aborted when the current session ends: scopes the renewal loop to one stream. */
  #sessionController: AbortController | undefined;
  #connected = false;
  #synced = false;
  #distributionEnabled = false;
  /** What the current stream's Welcome agreed (docs/spec.md D5.5). */
  #digestFormat: DigestFormat = DigestFormat.sortedLines;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#logger = forCluster(options.logger ?? createLogger({ name: 'kuberelay-agent' }), options.cluster);
    this.#clock = options.clock ?? systemClock;
    this.#kinds = createKindRegistry(options.kinds ?? DEFAULT_KINDS);
    this.#rest = new KubeRest(options.kubeConfig);
    const signal = this.#controller.signal;
    this.#reporter = new ResultReporter({
      clock: this.#clock,
      signal,
      resultOf: (key) => this.#versions.resultOf(key),
      send: (results) =>
        this.#session !== undefined &&
        this.#connected &&
        this.#session.sendReport({
          version: this.#versions.held.version,
          results: results.map(toProtoResult),
        }),
    });
    this.#versions = new VersionApplier({
      rest: this.#rest,
      kinds: this.#kinds,
      clock: this.#clock,
      logger: this.#logger,
      signal,
      stateFile: options.stateFile,
      mgmtCluster: options.mgmtCluster,
      resyncIntervalMs: options.resyncIntervalMs,
      onWrite: (verb) => this.#metrics.recordWrite(verb),
      onDriftRepaired: () => this.#metrics.recordDriftRepair(),
      onResult: (result) => this.#reporter.changed(result.key),
      onHeld: (version) => this.#metrics.setAckedVersion(version),
    });
  }

  async start(): Promise<Agent> {
    const signal = this.#controller.signal;
    const listen = parseListenAddress('httpListen', this.#options.httpListen ?? '127.0.0.1:0');
    if (!listen.ok) throw listen.errors[0];
    const http = await startProbeServer({
      host: listen.value.host,
      port: listen.value.port,
      registry: this.#metrics.registry,
      isReady: () => this.#ready(),
      notReadyReason: 'not connected to the management server and no saved state to enforce',
      logger: this.#logger,
    });
    await this.#versions.loadSavedState();
    const mgmt = this.#options.mgmtCluster ?? this.#versions.savedMgmtCluster;
    if (mgmt !== undefined) {
      const held = this.#versions.held;
      if (held.copies.size > 0) {
        this.#logger.info(
          { copies: held.copies.size, version: held.version },
          'enforcing the saved state until the management server is reachable',
        );
      }
      this.#ensureReconciler(mgmt);
    }

    const identity = this.#options.identity;
    const credentials: (() => DialCredentials) | undefined =
      identity === undefined ? undefined : () => identity.dialCredentials();
    const dialer =
      this.#options.dial === undefined && credentials !== undefined
        ? createRelayDialer({ serverAddress: this.#options.serverAddress, credentials })
        : undefined;
    const dial = this.#options.dial ?? dialer?.dial;
    if (dial === undefined) {
      await http.stop();
      throw new RelayError({
        code: ErrorCode.InvalidConfig,
        message: 'the agent needs an identity (its credentials: a client certificate or a bootstrap token)',
      });
    }
    const loop = runConnectLoop({
      dial,
      ...(identity === undefined
        ? {}
        : {
            prepare: async ({ signal: loopSignal, afterRefusal }) => {
              if (afterRefusal) await identity.reloadAfterRefusal();
              await identity.ready(loopSignal);
            },
          }),
      handler: this,
      clock: this.#clock,
      signal,
      logger: this.#logger.child({ component: 'relay', server: this.#options.serverAddress }),
      onSession: (session) => this.#onSession(session),
    });

    return {
      httpPort: http.port,
      connected: () => this.#connected,
      ackedVersion: () => this.#versions.held.version,
      stop: async () => {
        this.#controller.abort();
        await loop;
        dialer?.close();
        await http.stop();
        this.#logger.info('agent stopped; copies left as they are');
      },
    };
  }

  // --- SessionHandler -------------------------------------------------------------------------

  hello(): Hello {
    const held = this.#versions.held;
    return {
      cluster: this.#options.cluster,
      agentVersion: AGENT_VERSION,
      agentPod: this.#options.podName ?? hostname(),
      haveVersion: held.version,
      have: [...held.copies.values()].map((c) => ({ key: c.key, hash: c.hash })),
      digestFormats: [ProtoDigestFormat.DIGEST_FORMAT_ENTRY_SUM],
    };
  }

  onWelcome(welcome: Welcome): void {
    if (welcome.mgmtCluster === '') {
      // Without it we cannot tell our copies from others: refuse the stream, retry later.
      throw new RelayError({
        code: ErrorCode.InvalidMessage,
        message: 'the Welcome names no management cluster',
      });
    }
    if (welcome.cluster !== '' && welcome.cluster !== this.#options.cluster) {
      this.#logger.warn(
        { serverSays: welcome.cluster },
        'the server identifies this agent as another cluster',
      );
    }
    const current = this.#versions.reconciler?.mgmtCluster;
    if (current !== undefined && current !== welcome.mgmtCluster) {
      this.#logger.warn(
        { was: current, now: welcome.mgmtCluster },
        'the management cluster changed; watching copies of the new one',
      );
    }
    this.#ensureReconciler(welcome.mgmtCluster);
    this.#startRenewal();
    this.#distributionEnabled = welcome.distributionEnabled;
    // An older server says nothing (0): it digests sorted lines, and so must we on this stream.
    this.#digestFormat =
      welcome.digestFormat === ProtoDigestFormat.DIGEST_FORMAT_ENTRY_SUM
        ? DigestFormat.entrySum
        : DigestFormat.sortedLines;
    this.#connected = true;
    // With distribution off no version follows: what we hold is all there is.
    this.#synced = !welcome.distributionEnabled;
    this.#reporter.reset();
    this.#metrics.setConnected(true);
    this.#logger.info(
      {
        serverPod: welcome.serverPod,
        mgmtCluster: welcome.mgmtCluster,
        distributionEnabled: welcome.distributionEnabled,
      },
      'connected to the management server',
    );
  }

  async applyVersion(version: VersionContent): Promise<VersionReply> {
    this.#reporter.hold();
    let told: { results: readonly AgentCopyResult[]; removed: readonly AgentCopyResult[] } = {
      results: [],
      removed: [],
    };
    try {
      const applied = await this.#versions.apply(version, {
        digestFormat: this.#digestFormat,
        // Pruning needs a complete view from a connected server with distribution on (§4, §7).
        mayPrune: () => this.#distributionEnabled && this.#connected && !this.#controller.signal.aborted,
      });
      if (!applied.ok) {
        this.#logger.warn(
          { version: version.version, reason: applied.reason, err: applied.message },
          'rejecting version',
        );
        return {
          $case: 'nack',
          value: { version: version.version, reason: applied.reason, message: applied.message },
        };
      }
      this.#synced = true;
      told = applied;
      this.#logger.info(
        {
          version: version.version,
          upserts: version.upserts.length,
          removes: applied.removed.length,
          copies: applied.results.length,
        },
        'applied version',
      );
      return {
        $case: 'ack',
        value: {
          version: version.version,
          digest: applied.digest,
          results: [...applied.results, ...applied.removed, ...this.#versions.notPruned()].map(toProtoResult),
        },
      };
    } finally {
      this.#reporter.release(told);
    }
  }

  onRenewed(renewed: RenewResponse): void {
    const identity = this.#options.identity;
    if (identity === undefined) return;
    identity.acceptRenewal(renewed).then(
      (accepted) => {
        if (accepted.ok) {
          // The stream keeps the certificate it was opened with: reconnect with the new one.
          // Copies are untouched; Hello tells the server what the agent holds.
          this.#session?.close('the client certificate was renewed');
        } else {
          this.#logger.error({ err: accepted.errors[0].message }, 'rejected the renewed certificate');
        }
      },
      (error: unknown) => this.#logger.error({ err: error }, 'storing the renewed certificate failed'),
    );
  }

  onTrustBundle(trust: TrustBundle): void {
    this.#options.identity?.acceptTrustBundle(trust.caBundlePem).then(
      (accepted) => {
        if (!accepted.ok)
          this.#logger.error({ err: accepted.errors[0].message }, 'ignored an invalid TrustBundle');
      },
      (error: unknown) => this.#logger.error({ err: error }, 'storing the trust bundle failed'),
    );
  }

  // --- internals ------------------------------------------------------------------------------

  /** Renews the certificate on the current stream when due; ends with the stream. */
  #startRenewal(): void {
    const identity = this.#options.identity;
    const session = this.#session;
    const signal = this.#sessionController?.signal;
    if (identity === undefined || session === undefined || signal === undefined) return;
    void runRenewalLoop({
      identity,
      sendRenewal: (csrPem) => session.sendRenewal(csrPem),
      clock: this.#clock,
      signal,
      logger: this.#logger,
    });
  }

  #ensureReconciler(mgmtCluster: string): void {
    const reconciler = this.#versions.ensureReconciler(mgmtCluster);
    this.#metrics.countCopiesWith(() => reconciler.countByOutcome());
  }

  #onSession(session: RelaySession | undefined): void {
    this.#session = session;
    this.#sessionController?.abort();
    this.#sessionController = session === undefined ? undefined : new AbortController();
    if (session === undefined && this.#connected) {
      this.#connected = false;
      this.#synced = false;
      this.#metrics.setConnected(false);
    }
  }

  #ready(): boolean {
    if (this.#connected) return this.#synced;
    // Away from the server, the agent is useful when it enforces a state it holds.
    return (
      this.#versions.reconciler !== undefined &&
      (this.#versions.savedStateLoaded || this.#versions.held.version > 0)
    );
  }
}
