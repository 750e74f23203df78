import { hostname } from 'node:os';
import {
  CopyOutcome,
  type Hello,
  type CopyResult as ProtoCopyResult,
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
  ErrorCode,
  FieldManager,
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
import { CopyCode, type CopyResult, Outcome, sameResult } from './apply/copyResult.js';
import { type DesiredCopy, parseDesiredCopy } from './apply/desiredCopy.js';
import { runConnectLoop } from './connection/connectLoop.js';
import { createRelayDialer, type DialCredentials } from './connection/grpcDial.js';
import { nextDesiredSet } from './connection/nextDesiredSet.js';
import type { DialStream } from './connection/relayStream.js';
import type { RelaySession, SessionHandler, VersionReply } from './connection/session.js';
import { AgentMetrics } from './http/metrics.js';
import type { AgentIdentity } from './identity/agentIdentity.js';
import { runRenewalLoop } from './identity/renewalLoop.js';
import { findUntracked, type InventoryEntry } from './prune/findUntracked.js';
import { pruneCopies } from './prune/pruneCopies.js';
import { Reconciler } from './reconcile/reconciler.js';
import { loadState, type PersistedState, saveState } from './state/stateFile.js';
import { AGENT_VERSION } from './version.js';

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

/** The acknowledged version: what the agent told (or will tell) the server it holds. */
interface HeldState {
  readonly version: number;
  readonly digest: string;
  readonly copies: ReadonlyMap<string, DesiredCopy>;
}

/** Delay that coalesces result changes into one Report. */
const REPORT_COALESCE_MS = 100;

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
  #held: HeldState = { version: 0, digest: '', copies: new Map() };
  /** Copies this agent applied and may have to delete: the held set plus failed deletions. */
  readonly #inventory = new Map<string, InventoryEntry>();
  #reconciler: Reconciler | undefined;
  #session: RelaySession | undefined;
  /** Aborted when the current session ends: scopes the renewal loop to one stream. */
  #sessionController: AbortController | undefined;
  #connected = false;
  #synced = false;
  #distributionEnabled = false;
  #savedStateLoaded = false;
  #savedMgmtCluster: string | undefined;
  #applying = false;
  /** What the server has been told of each copy (via Ack or Report) on the current stream. */
  readonly #reported = new Map<string, CopyResult>();
  readonly #pendingReports = new Set<string>();
  #reportScheduled = false;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#logger = forCluster(options.logger ?? createLogger({ name: 'kuberelay-agent' }), options.cluster);
    this.#clock = options.clock ?? systemClock;
    this.#kinds = createKindRegistry(options.kinds ?? DEFAULT_KINDS);
    this.#rest = new KubeRest(options.kubeConfig);
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
    await this.#loadSavedState();
    const mgmt = this.#options.mgmtCluster ?? this.#savedMgmtCluster;
    if (mgmt !== undefined) {
      if (this.#held.copies.size > 0) {
        this.#logger.info(
          { copies: this.#held.copies.size, version: this.#held.version },
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
      ackedVersion: () => this.#held.version,
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
    return {
      cluster: this.#options.cluster,
      agentVersion: AGENT_VERSION,
      agentPod: this.#options.podName ?? hostname(),
      haveVersion: this.#held.version,
      have: [...this.#held.copies.values()].map((c) => ({ key: c.key, hash: c.hash })),
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
    if (this.#reconciler !== undefined && this.#reconciler.mgmtCluster !== welcome.mgmtCluster) {
      this.#logger.warn(
        { was: this.#reconciler.mgmtCluster, now: welcome.mgmtCluster },
        'the management cluster changed; watching copies of the new one',
      );
    }
    this.#ensureReconciler(welcome.mgmtCluster);
    this.#startRenewal();
    this.#distributionEnabled = welcome.distributionEnabled;
    this.#connected = true;
    // With distribution off no version follows: what we hold is all there is.
    this.#synced = !welcome.distributionEnabled;
    this.#reported.clear();
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
    const reconciler = this.#reconciler;
    if (reconciler === undefined)
      throw new Error('a version arrived before the management cluster was known');
    const next = nextDesiredSet({ held: this.#held.copies, version, kinds: this.#kinds });
    if (!next.ok) {
      this.#logger.warn(
        { version: version.version, reason: next.reason, err: next.message },
        'rejecting version',
      );
      return {
        $case: 'nack',
        value: { version: version.version, reason: next.reason, message: next.message },
      };
    }
    this.#applying = true;
    try {
      const { applied } = reconciler.setDesired(next.copies);
      for (const copy of next.copies.values()) this.#inventory.set(copy.key, inventoryEntryOf(copy));
      await applied;
      // Copies this version did not change may still be on their first apply (a saved state
      // being enforced): the Ack reports real results, not guesses.
      await reconciler.settled();
      const removed = await this.#prune(next.copies, reconciler.mgmtCluster);
      this.#held = { version: version.version, digest: next.digest, copies: next.copies };
      this.#metrics.setAckedVersion(version.version);
      await this.#persist(reconciler.mgmtCluster);
      this.#synced = true;
      const results = reconciler.results();
      for (const result of results) this.#reported.set(result.key, result);
      for (const result of removed) this.#reported.delete(result.key);
      this.#logger.info(
        {
          version: version.version,
          upserts: version.upserts.length,
          removes: removed.length,
          copies: results.length,
        },
        'applied version',
      );
      return {
        $case: 'ack',
        value: {
          version: version.version,
          digest: next.digest,
          results: [...results, ...removed].map(toProtoResult),
        },
      };
    } finally {
      this.#applying = false;
      this.#scheduleReport();
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

  async #loadSavedState(): Promise<void> {
    const loaded = await loadState(this.#options.stateFile);
    if (loaded.status === 'corrupt') {
      this.#logger.error({ err: loaded.error, code: loaded.error.code }, loaded.error.message);
      return;
    }
    if (loaded.status === 'missing') {
      this.#logger.info({ path: this.#options.stateFile }, 'no saved state; starting empty');
      return;
    }
    const { state } = loaded;
    if (this.#options.mgmtCluster !== undefined && state.mgmtCluster !== this.#options.mgmtCluster) {
      this.#logger.warn(
        { saved: state.mgmtCluster, configured: this.#options.mgmtCluster },
        'the saved state belongs to another management cluster; ignoring it',
      );
      return;
    }
    const copies = new Map<string, DesiredCopy>();
    for (const saved of state.copies) {
      const parsed = parseDesiredCopy({
        ...saved,
        manifest: JSON.stringify(saved.manifest),
        kinds: this.#kinds,
      });
      if (parsed.ok) copies.set(saved.key, parsed.value);
      else
        this.#logger.error(
          { copy: saved.key, err: parsed.errors[0].message },
          'ignoring an invalid saved copy',
        );
    }
    this.#held = { version: state.version, digest: state.digest, copies };
    for (const copy of copies.values()) this.#inventory.set(copy.key, inventoryEntryOf(copy));
    this.#savedMgmtCluster = state.mgmtCluster;
    this.#savedStateLoaded = true;
    this.#metrics.setAckedVersion(state.version);
  }

  #ensureReconciler(mgmtCluster: string): Reconciler {
    if (this.#reconciler?.mgmtCluster === mgmtCluster) return this.#reconciler;
    this.#reconciler?.stop();
    const reconciler = new Reconciler({
      rest: this.#rest,
      kinds: this.#kinds,
      mgmtCluster,
      fieldManager: FieldManager.agent,
      clock: this.#clock,
      logger: this.#logger,
      signal: this.#controller.signal,
      onWrite: (verb) => this.#metrics.recordWrite(verb),
      onDriftRepaired: () => this.#metrics.recordDriftRepair(),
      onResult: (result) => {
        this.#pendingReports.add(result.key);
        this.#scheduleReport();
      },
      ...(this.#options.resyncIntervalMs === undefined
        ? {}
        : { resyncIntervalMs: this.#options.resyncIntervalMs }),
    });
    this.#reconciler = reconciler;
    this.#metrics.countCopiesWith(() => reconciler.countByOutcome());
    reconciler.start();
    reconciler.setDesired(this.#held.copies);
    return reconciler;
  }

  /**
   * Deletes what the inventory holds and the new set does not. Only here: after a complete,
   * digest-verified version, on an open stream, with distribution on (docs/spec.md §4, §7).
   */
  async #prune(desired: ReadonlyMap<string, DesiredCopy>, mgmtCluster: string): Promise<CopyResult[]> {
    if (!this.#distributionEnabled || !this.#connected || this.#controller.signal.aborted) return [];
    const untracked = findUntracked(this.#inventory, desired);
    if (untracked.length === 0) return [];
    const pruned = await pruneCopies({
      rest: this.#rest,
      kinds: this.#kinds,
      mgmtCluster,
      entries: untracked,
      signal: this.#controller.signal,
      logger: this.#logger,
      onWrite: (verb) => this.#metrics.recordWrite(verb),
    });
    const removed: CopyResult[] = [];
    for (const result of pruned) {
      // A failed delete stays in the inventory and is tried again with the next version.
      if (result.state === 'failed') continue;
      const entry = this.#inventory.get(result.key);
      this.#inventory.delete(result.key);
      removed.push({
        key: result.key,
        hash: entry?.hash ?? '',
        outcome: Outcome.Removed,
        code: CopyCode.Ok,
        message: result.message,
      });
    }
    return removed;
  }

  async #persist(mgmtCluster: string): Promise<void> {
    const state: PersistedState = {
      version: this.#held.version,
      digest: this.#held.digest,
      mgmtCluster,
      copies: [...this.#held.copies.values()].map((c) => ({
        key: c.key,
        hash: c.hash,
        overwrite: c.overwrite,
        manifest: c.object,
      })),
    };
    try {
      await saveState(this.#options.stateFile, state);
    } catch (error) {
      // The Ack still goes out: the server's view is right, and a restart without the file only
      // means the server sends everything again.
      this.#logger.error({ err: error, path: this.#options.stateFile }, 'could not save the state file');
    }
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

  #scheduleReport(): void {
    if (this.#reportScheduled || this.#applying || this.#pendingReports.size === 0) return;
    this.#reportScheduled = true;
    this.#clock.sleep(REPORT_COALESCE_MS, this.#controller.signal).then(
      () => {
        this.#reportScheduled = false;
        this.#flushReports();
      },
      () => {
        this.#reportScheduled = false;
      },
    );
  }

  /** Sends the results that changed since the server last heard of them (docs/spec.md §5: status stays true). */
  #flushReports(): void {
    if (this.#applying) return;
    const reconciler = this.#reconciler;
    const keys = [...this.#pendingReports];
    this.#pendingReports.clear();
    if (reconciler === undefined || this.#session === undefined || !this.#connected) return;
    const changed = keys
      .map((key) => reconciler.result(key))
      .filter((r): r is CopyResult => r !== undefined && !sameResult(this.#reported.get(r.key), r));
    if (changed.length === 0) return;
    if (this.#session.sendReport({ version: this.#held.version, results: changed.map(toProtoResult) })) {
      for (const result of changed) this.#reported.set(result.key, result);
    }
  }

  #ready(): boolean {
    if (this.#connected) return this.#synced;
    // Away from the server, the agent is useful when it enforces a state it holds.
    return this.#reconciler !== undefined && (this.#savedStateLoaded || this.#held.version > 0);
  }
}

function inventoryEntryOf(copy: DesiredCopy): InventoryEntry {
  return {
    key: copy.key,
    hash: copy.hash,
    apiVersion: copy.object.apiVersion,
    kind: copy.object.kind,
    namespace: copy.target.namespace,
    name: copy.target.name,
  };
}

const PROTO_OUTCOME = {
  [Outcome.Applied]: CopyOutcome.COPY_OUTCOME_APPLIED,
  [Outcome.Failed]: CopyOutcome.COPY_OUTCOME_FAILED,
  [Outcome.Conflict]: CopyOutcome.COPY_OUTCOME_CONFLICT,
  [Outcome.Removed]: CopyOutcome.COPY_OUTCOME_REMOVED,
} as const;

function toProtoResult(result: CopyResult): ProtoCopyResult {
  return {
    key: result.key,
    hash: result.hash,
    outcome: PROTO_OUTCOME[result.outcome],
    code: result.code,
    message: result.message,
  };
}
