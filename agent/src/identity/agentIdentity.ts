import type { RenewResponse } from '@kuberelay/proto';
import {
  type Backoff,
  type Clock,
  createBackoff,
  ErrorCode,
  err,
  type Logger,
  ok,
  RelayError,
  type Result,
  systemClock,
} from '@kuberelay/shared';
import { createCsr } from '@kuberelay/shared/pki';
import { type ChannelAuth, callBootstrap, type DialCredentials } from '../connection/grpcDial.js';
import type { AgentAuth } from './agentCredentials.js';
import {
  type BootstrapCall,
  type CsrFactory,
  detailsOf,
  isRefusal,
  loadQuietly,
  waitForNewToken,
} from './bootstrapWait.js';
import {
  type CaFacts,
  type CertificateFacts,
  certificateFactsOf,
  keyMatchesCertificate,
  parseBundle,
} from './certificateFacts.js';
import type { CredentialsStore, CredentialsUpdate } from './credentialsStore.js';
import { type IdentityState, stateOf } from './identityState.js';
import { type RenewalDecision, renewalDue } from './renewalDue.js';

// Other modules and tests import these from here, where they were first defined.
export type { BootstrapCall, CsrFactory } from './bootstrapWait.js';

export interface AgentIdentityOptions {
  readonly cluster: string;
  readonly serverAddress: string;
  /** What the agent starts with (resolveCredentials). */
  readonly auth: AgentAuth;
  /** Where credentials are read again and where new ones are written. */
  readonly store: CredentialsStore;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Share of a certificate's lifetime after which it is renewed. Default 0.66. */
  readonly renewFraction?: number;
  readonly bootstrap?: BootstrapCall;
  readonly createCsr?: CsrFactory;
  /** Between bootstrap attempts that failed for a transient reason: 1 s growing to 60 s. */
  readonly retryBackoff?: Backoff;
  /**
   * After the server refused the bootstrap token (used, expired, revoked): added to a floor of
   * `refusedFloorMs`. Only the operator can fix it, so the agent asks rarely.
   */
  readonly refusedBackoff?: Backoff;
  /** Default 30 s. */
  readonly refusedFloorMs?: number;
}

export const DEFAULT_RENEW_FRACTION = 0.66;
/** Longest single sleep: timers beyond 2^31 ms fire at once, and a cap re-checks the clock. */
const MAX_SLEEP_MS = 60 * 60_000;

/**
 * The agent's credentials lifecycle (docs/design.md, "Mutual TLS"): bootstrap with a one-time
 * token, the certificate in use, renewal, new trust bundles, and writing all of it back to the
 * store. Memory is the truth for connections; the store is written after every change, and a
 * failed write is retried before the next connection (the agent keeps working meanwhile).
 *
 * Invariants: the private key is only ever held here and written to the store; it and the tokens
 * are never logged. Every change of what a connection needs bumps `generation`.
 */
export class AgentIdentity {
  readonly #options: AgentIdentityOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #fraction: number;
  readonly #retryBackoff: Backoff;
  readonly #refusedBackoff: Backoff;
  #state: IdentityState;
  #generation = 0;
  #unsaved: CredentialsUpdate | undefined;
  #pendingKeyPem: string | undefined;
  #changed = new AbortController();
  /** Bootstrap attempts made (refused or not), for metrics and tests. */
  #bootstrapAttempts = 0;

  constructor(options: AgentIdentityOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger.child({ component: 'identity' });
    this.#fraction = options.renewFraction ?? DEFAULT_RENEW_FRACTION;
    this.#retryBackoff = options.retryBackoff ?? createBackoff({ minMs: 1_000, maxMs: 60_000 });
    this.#refusedBackoff = options.refusedBackoff ?? createBackoff({ minMs: 30_000, maxMs: 300_000 });
    this.#state = stateOf(options.auth);
  }

  /** 'certificate' once the agent holds one; 'bootstrap' before. */
  get kind(): IdentityState['kind'] {
    return this.#state.kind;
  }

  get bootstrapAttempts(): number {
    return this.#bootstrapAttempts;
  }

  /** Facts of the certificate in use, if any. */
  get certificate(): CertificateFacts | undefined {
    return this.#state.kind === 'certificate' ? this.#state.cert : undefined;
  }

  /** Aborted (and replaced) whenever the certificate or the trust bundle changes. */
  changed(): AbortSignal {
    return this.#changed.signal;
  }

  /**
   * Resolves when the agent can dial: it holds a certificate (bootstrapping first, retrying with
   * backoff, if needed) or a legacy token. Pending writes to the store are retried here. Rejects
   * only when `signal` is aborted.
   */
  async ready(signal: AbortSignal): Promise<void> {
    await this.#flush();
    while (this.#state.kind === 'bootstrap') {
      signal.throwIfAborted();
      const state = this.#state;
      let delayMs: number;
      try {
        await this.#bootstrapOnce(state, signal);
        this.#retryBackoff.reset();
        this.#refusedBackoff.reset();
        return;
      } catch (error) {
        signal.throwIfAborted();
        if (isRefusal(error)) {
          delayMs = (this.#options.refusedFloorMs ?? 30_000) + this.#refusedBackoff.next();
          this.#logger.error(
            { server: this.#options.serverAddress, reason: detailsOf(error), retryInMs: delayMs },
            `the management server refused the bootstrap token (it is used, expired or revoked): register the cluster again (relayctl register ${this.#options.cluster} --kubecontext <mgmt>); the agent picks up the new token from ${this.#options.store.description}`,
          );
          const stored = await waitForNewToken({
            clock: this.#clock,
            store: this.#options.store,
            logger: this.#logger,
            usedToken: state.bootstrapToken,
            delayMs,
            signal,
          });
          const current = this.#state;
          if (stored?.bootstrapToken !== undefined && current.kind === 'bootstrap') {
            this.#state = {
              ...current,
              bootstrapToken: stored.bootstrapToken,
              caPem: stored.caPem ?? current.caPem,
            };
          }
        } else {
          delayMs = this.#retryBackoff.next();
          this.#logger.warn(
            { server: this.#options.serverAddress, reason: detailsOf(error), retryInMs: delayMs },
            'bootstrap failed; retrying',
          );
          await this.#clock.sleep(delayMs, signal);
        }
      }
    }
  }

  /**
   * After the server refused the agent's certificate: if the store now holds a bootstrap token (the
   * cluster was registered again), bootstrap with it on the next `ready`.
   */
  async reloadAfterRefusal(): Promise<void> {
    if (this.#state.kind !== 'certificate') return;
    const stored = await loadQuietly(this.#options.store, this.#logger);
    if (stored?.bootstrapToken === undefined) return;
    this.#logger.info(
      { store: this.#options.store.description },
      'a new bootstrap token is in the store; bootstrapping again',
    );
    this.#state = {
      kind: 'bootstrap',
      caPem: stored.caPem ?? this.#state.material.caPem,
      bootstrapToken: stored.bootstrapToken,
    };
    this.#bump();
  }

  /** What the next stream dials with. */
  dialCredentials(): DialCredentials {
    const state = this.#state;
    switch (state.kind) {
      case 'certificate':
        return { generation: this.#generation, auth: { kind: 'mtls', material: state.material } };
      case 'bootstrap':
        // Only reached if a caller dials without `ready`: the server refuses it without a
        // client certificate, and the connect loop logs that.
        return {
          generation: this.#generation,
          auth: { kind: 'serverOnly', caPem: state.caPem } satisfies ChannelAuth,
        };
    }
  }

  /** Whether the certificate must be renewed at `now`; undefined when the agent holds none. */
  renewalDue(now: number): RenewalDecision | undefined {
    const state = this.#state;
    if (state.kind !== 'certificate') return undefined;
    return renewalDue({ cert: state.cert, now, fraction: this.#fraction, bundleIssuers: state.bundle });
  }

  /** A new key pair (kept here until its certificate arrives) and its CSR. */
  async createRenewalRequest(): Promise<string> {
    const { csrPem, keyPem } = await (this.#options.createCsr ?? createCsr)({
      commonName: this.#options.cluster,
    });
    this.#pendingKeyPem = keyPem;
    return csrPem;
  }

  /**
   * Takes a renewed certificate: it must belong to the key of the last renewal request. Stored in
   * memory at once (the next connection uses it) and written to the store.
   */
  async acceptRenewal(response: RenewResponse): Promise<Result<CertificateFacts>> {
    const keyPem = this.#pendingKeyPem;
    const current = this.#state;
    if (keyPem === undefined || current.kind !== 'certificate') {
      return err(invalidMessage('a RenewResponse arrived, but the agent asked for no renewal'));
    }
    const adopted = this.#adopt({
      certPem: response.certificatePem,
      keyPem,
      caPem: response.caBundlePem === '' ? current.material.caPem : response.caBundlePem,
      what: 'renewed certificate',
    });
    if (!adopted.ok) return adopted;
    this.#pendingKeyPem = undefined;
    this.#logger.info(
      {
        notBefore: iso(adopted.value.notBefore),
        notAfter: iso(adopted.value.notAfter),
        issuer: adopted.value.issuer,
      },
      'renewed the client certificate; reconnecting with it',
    );
    await this.#save({
      certPem: response.certificatePem,
      keyPem,
      ...(response.caBundlePem === '' ? {} : { caPem: response.caBundlePem }),
    });
    return adopted;
  }

  /** A new trust bundle from the server: used from the next connection on, and stored. */
  async acceptTrustBundle(caBundlePem: string): Promise<Result<readonly CaFacts[]>> {
    const state = this.#state;
    const bundle = parseBundle(caBundlePem, 'the TrustBundle from the server');
    if (!bundle.ok) return bundle;
    if (state.kind !== 'certificate') return bundle;
    if (state.material.caPem.trim() === caBundlePem.trim()) return bundle;
    this.#state = { ...state, material: { ...state.material, caPem: caBundlePem }, bundle: bundle.value };
    this.#bump();
    this.#logger.info(
      { cas: bundle.value.map((ca) => ca.subject) },
      'the trust bundle changed; stored for the next connection',
    );
    await this.#save({ caPem: caBundlePem });
    return bundle;
  }

  async #bootstrapOnce(
    state: Extract<IdentityState, { kind: 'bootstrap' }>,
    signal: AbortSignal,
  ): Promise<void> {
    const { csrPem, keyPem } = await (this.#options.createCsr ?? createCsr)({
      commonName: this.#options.cluster,
    });
    this.#bootstrapAttempts += 1;
    this.#logger.info({ server: this.#options.serverAddress }, 'no client certificate yet; bootstrapping');
    const call: BootstrapCall =
      this.#options.bootstrap ?? ((o) => callBootstrap({ serverAddress: this.#options.serverAddress, ...o }));
    const response = await call({
      caPem: state.caPem,
      request: { cluster: this.#options.cluster, token: state.bootstrapToken, csrPem },
      signal,
    });
    const caPem = response.caBundlePem === '' ? state.caPem : response.caBundlePem;
    const adopted = this.#adopt({
      certPem: response.certificatePem,
      keyPem,
      caPem,
      what: 'bootstrapped certificate',
    });
    if (!adopted.ok) throw adopted.errors[0];
    this.#logger.info(
      {
        notBefore: iso(adopted.value.notBefore),
        notAfter: iso(adopted.value.notAfter),
        issuer: adopted.value.issuer,
      },
      'bootstrapped: the agent has its client certificate',
    );
    await this.#save({ certPem: response.certificatePem, keyPem, caPem, removeBootstrapToken: true });
  }

  #adopt(options: {
    certPem: string;
    keyPem: string;
    caPem: string;
    what: string;
  }): Result<CertificateFacts> {
    const cert = certificateFactsOf(options.certPem, `the ${options.what}`);
    if (!cert.ok) return cert;
    const bundle = parseBundle(options.caPem, `the CA bundle sent with the ${options.what}`);
    if (!bundle.ok) return bundle;
    if (!keyMatchesCertificate({ certPem: options.certPem, keyPem: options.keyPem })) {
      return err(invalidMessage(`the ${options.what} is not for the key the agent generated`));
    }
    this.#state = {
      kind: 'certificate',
      material: { caPem: options.caPem, certPem: options.certPem, keyPem: options.keyPem },
      cert: cert.value,
      bundle: bundle.value,
    };
    this.#bump();
    return ok(cert.value);
  }

  #bump(): void {
    this.#generation += 1;
    const previous = this.#changed;
    this.#changed = new AbortController();
    previous.abort();
  }

  /** Writes to the store; on failure keeps the update for the next `ready` (memory stays the truth). */
  async #save(update: CredentialsUpdate): Promise<void> {
    this.#unsaved = { ...this.#unsaved, ...update };
    await this.#flush();
  }

  async #flush(): Promise<void> {
    const update = this.#unsaved;
    if (update === undefined) return;
    try {
      await this.#options.store.save(update);
      if (this.#unsaved === update) this.#unsaved = undefined;
      this.#logger.info(
        {
          store: this.#options.store.description,
          keys: Object.keys(update).filter((k) => k !== 'removeBootstrapToken'),
        },
        'stored the agent credentials',
      );
    } catch (error) {
      // Error messages of the store name the Secret, never its contents.
      this.#logger.error(
        {
          store: this.#options.store.description,
          err: error instanceof Error ? error.message : String(error),
        },
        'could not store the agent credentials; using them from memory and retrying before the next connection',
      );
    }
  }
}

/** Caps a sleep until a renewal so timers stay in range and the clock is looked at again. */
export function renewalSleepMs(decision: Extract<RenewalDecision, { due: false }>, now: number): number {
  return Math.min(MAX_SLEEP_MS, Math.max(0, decision.atMs - now));
}

function invalidMessage(message: string): RelayError {
  return new RelayError({ code: ErrorCode.InvalidMessage, message });
}

const iso = (ms: number) => new Date(ms).toISOString();
