import { hostname } from 'node:os';
import {
  AgentFeature,
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
  type KindRegistry,
  type Logger,
  parseListenAddress,
  RelayError,
  systemClock,
} from '@kuberelay/shared';
import { startProbeServer } from '@kuberelay/shared/http';
import { KubeRest } from '@kuberelay/shared/kube';
import type { Agent, AgentOptions } from './agentOptions.js';
import type { AgentCopyResult } from './apply/copyResult.js';
import { type RelayConnection, startRelayConnection } from './connection/relayConnection.js';
import type { RelaySession, SessionHandler, VersionReply } from './connection/session.js';
import { AgentMetrics } from './http/metrics.js';
import type { AgentIdentity } from './identity/agentIdentity.js';
import { runRenewalLoop } from './identity/renewalLoop.js';
import { ReplicaGroup } from './leader/replicaGroup.js';
import { ResultReporter, toProtoResult } from './report/resultReporter.js';
import { AGENT_VERSION } from './version.js';
import { VersionApplier } from './versions/versionApplier.js';

export type { Agent, AgentOptions } from './agentOptions.js';

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
  readonly #metrics: AgentMetrics;
  readonly #controller = new AbortController();
  readonly #versions: VersionApplier;
  readonly #reporter: ResultReporter;
  readonly #group: ReplicaGroup | undefined;
  #identity: AgentIdentity | undefined;
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
    this.#metrics = new AgentMetrics(options.cluster);
    this.#kinds = createKindRegistry(options.kinds ?? DEFAULT_KINDS);
    this.#identity = options.identity;
    const election = options.leaderElection;
    this.#group =
      election === undefined
        ? undefined
        : new ReplicaGroup({
            kubeConfig: options.kubeConfig,
            settings: election,
            podName: options.podName ?? hostname(),
            clock: this.#clock,
            logger: this.#logger,
            heldVersion: () => this.#versions.held.version,
          });
    // Every copy write goes through the fence when replicas elect a leader (never two writers).
    this.#rest = this.#group?.fencedRest(options.kubeConfig) ?? new KubeRest(options.kubeConfig);
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
      onPruneFailed: () => this.#metrics.recordPruneFailure(),
      onResult: (result) => this.#reporter.changed(result.key),
      onHeld: (version) => this.#metrics.setAckedVersion(version),
    });
  }

  async start(): Promise<Agent> {
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
    if (this.#options.dial === undefined && this.#identity === undefined) {
      await http.stop();
      throw new RelayError({
        code: ErrorCode.InvalidConfig,
        message: 'the agent needs an identity (its credentials: a client certificate or a bootstrap token)',
      });
    }
    const group = this.#group;
    if (group !== undefined) this.#metrics.leadingWith(() => group.leading);
    // #identity is replaced when the credentials Secret is reloaded: read it at scrape time.
    this.#metrics.certificateWith(() => this.#identity?.certificate?.notAfter);
    let resolveLost: (reason: string) => void = () => {};
    const leadershipLost = new Promise<string>((resolve) => {
      resolveLost = resolve;
    });
    let lead: Promise<RelayConnection | undefined>;
    if (group === undefined) {
      lead = this.#lead(undefined);
      await lead;
    } else {
      this.#logger.info({ identity: group.identity }, 'standing by until this replica is elected leader');
      const stepDown = (reason: string) => {
        resolveLost(reason);
        this.#controller.abort();
      };
      lead = group
        .whenLeading(this.#controller.signal)
        .then(async (leadership) => {
          if (leadership === undefined) return undefined;
          // Leadership lost: every writer stops at once (the fence already refuses their writes).
          onAbort(group.lost, () => stepDown(messageOf(group.lost.reason, 'lost the leadership')));
          const reload = this.#options.leaderElection?.reloadIdentity;
          if (reload !== undefined) this.#identity = await reload();
          return this.#lead(ReplicaGroup.trustsSaved(leadership));
        })
        .catch((error: unknown) => {
          // Holding the Lease without doing the work would leave the cluster unmanaged: give it up.
          stepDown(`could not start leading: ${messageOf(error, String(error))}`);
          return undefined;
        });
    }

    return {
      httpPort: http.port,
      connected: () => this.#connected,
      ackedVersion: () => this.#versions.held.version,
      leading: () => group === undefined || group.leading,
      leadershipLost,
      stop: async () => {
        this.#controller.abort();
        const running = await lead;
        await running?.loop;
        running?.close();
        // Only once every writer stopped: the Lease is released for a standby to take at once.
        await group?.stop();
        await http.stop();
        this.#logger.info('agent stopped; copies left as they are');
      },
    };
  }

  /**
   * What the writing replica does (at once without leader election; once elected with it): loads
   * the saved state and enforces it (when `trust` allows), then connects, reconnecting forever.
   */
  async #lead(trust: ((version: number) => boolean) | undefined): Promise<RelayConnection> {
    const signal = this.#controller.signal;
    await this.#versions.loadSavedState(trust === undefined ? {} : { trust });
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
    // Counted before connecting, so the first Hello already says how many replicas are alive.
    await this.#group?.countReplicas(signal);

    return startRelayConnection({
      serverAddress: this.#options.serverAddress,
      ...(this.#options.dial === undefined ? {} : { dial: this.#options.dial }),
      identity: () => this.#identity,
      handler: this,
      clock: this.#clock,
      signal,
      logger: this.#logger.child({ component: 'relay', server: this.#options.serverAddress }),
      onSession: (session) => this.#onSession(session),
    });
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
      features: [AgentFeature.AGENT_FEATURE_COPY_POLICY],
      ...(this.#group === undefined ? {} : { agentReplicas: this.#group.alive() }),
    };
  }

  agentReplicas(): number | undefined {
    // Not said without election: the server reads that as one replica.
    return this.#group?.alive();
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
    const identity = this.#identity;
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
    this.#identity?.acceptTrustBundle(trust.caBundlePem).then(
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
    const identity = this.#identity;
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
    // A standby is doing its job: being ready to take over.
    if (this.#group !== undefined && !this.#group.leading) return true;
    if (this.#connected) return this.#synced;
    // Away from the server, the agent is useful when it enforces a state it holds.
    return (
      this.#versions.reconciler !== undefined &&
      (this.#versions.savedStateLoaded || this.#versions.held.version > 0)
    );
  }
}

function onAbort(signal: AbortSignal, run: () => void): void {
  if (signal.aborted) run();
  else signal.addEventListener('abort', run, { once: true });
}

const messageOf = (value: unknown, fallback: string): string =>
  value instanceof Error ? value.message : fallback;
