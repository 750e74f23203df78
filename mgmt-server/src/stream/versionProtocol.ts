import { NackReason } from '@kuberelay/proto';
import {
  type Backoff,
  type Baseline,
  baselineFromHave,
  type DesiredCopy,
  diffCopies,
} from '@kuberelay/shared';
import { type ClusterSnapshot, type StreamDialect, snapshotDigest } from '../snapshot/snapshotCache.js';

/** One version to send: the changes against what the agent holds (or the full set, `replace`). */
export interface VersionToSend {
  readonly version: number;
  readonly replace: boolean;
  readonly upserts: readonly DesiredCopy[];
  readonly removes: readonly string[];
  readonly snapshot: ClusterSnapshot;
}

/** What the stream must do after an input. Every field is optional: most inputs do little. */
export interface ProtocolStep {
  readonly send?: VersionToSend;
  /** The Ack of a version in flight was accepted: the agent holds `snapshot`. */
  readonly acked?: { readonly version: number; readonly snapshot: ClusterSnapshot };
  /** The agent rejected the version in flight (or acked it with another digest). */
  readonly nacked?: { readonly version: number; readonly reason: NackReason; readonly message: string };
  /** Ask for a `retryDue` input after this long (a Nack backs off). */
  readonly retryAfterMs?: number;
  /** An Ack or Nack that does not match the version in flight; ignored. */
  readonly ignored?: string;
}

export interface VersionProtocolOptions {
  /** The ConfigDistribution gate: off, nothing is ever sent. */
  readonly distributionEnabled: boolean;
  /** Delays between retries after a Nack (reset by every accepted Ack). */
  readonly retryBackoff: Backoff;
  /** What the stream's Hello and Welcome agreed (digest format, features): what Ack digests are in. */
  readonly dialect: StreamDialect;
}

interface InFlight {
  readonly version: number;
  readonly snapshot: ClusterSnapshot;
  readonly replace: boolean;
}

/**
 * The version protocol of one agent stream (docs/design.md, Protocol), without sockets, timers or
 * logs: inputs are what the agent said (Hello, Ack, Nack), a new desired snapshot of its cluster,
 * and a retry coming due; outputs are the version to send and what the stream should observe.
 *
 * Invariants: at most one version in flight; a version is sent only when the content differs from
 * what the agent acknowledged (the first one always, so a reconnecting agent learns it is up to
 * date); versions strictly increase and follow the wall clock (`max(last + 1, now)`), so they
 * increase across server restarts; a DIGEST_MISMATCH makes the next version a full `replace`, sent
 * at once the first time and after the backoff when a replace mismatches again; any other Nack
 * keeps the last acknowledged state and waits for the backoff.
 */
export class VersionProtocol {
  readonly #o: VersionProtocolOptions;
  #latest: ClusterSnapshot | undefined;
  #baseline: Baseline = new Map();
  #ackedDigest: string | undefined;
  #inFlight: InFlight | undefined;
  #lastVersion = 0;
  #sentFirst = false;
  #replaceNext = false;
  #retryPending = false;

  constructor(options: VersionProtocolOptions) {
    this.#o = options;
  }

  /** After Welcome: what the Hello says the agent holds, and the cluster's current snapshot. */
  start(input: {
    readonly have: readonly { readonly key: string; readonly hash: string }[];
    readonly haveVersion: number;
    readonly snapshot: ClusterSnapshot | undefined;
    readonly now: number;
  }): ProtocolStep {
    this.#baseline = baselineFromHave(input.have);
    this.#lastVersion = input.haveVersion;
    this.#latest = input.snapshot;
    return this.#maybeSend(input.now);
  }

  snapshot(snapshot: ClusterSnapshot, now: number): ProtocolStep {
    this.#latest = snapshot;
    return this.#maybeSend(now);
  }

  ack(input: { readonly version: number; readonly digest: string; readonly now: number }): ProtocolStep {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || inFlight.version !== input.version) {
      return { ignored: `ack of version ${input.version}, in flight: ${inFlight?.version ?? 'none'}` };
    }
    const expected = snapshotDigest(inFlight.snapshot, this.#o.dialect);
    if (input.digest !== expected) {
      // The agent says it applied the version but holds something else: same as a mismatch Nack.
      return this.nack({
        version: input.version,
        reason: NackReason.NACK_REASON_DIGEST_MISMATCH,
        message: `ack digest ${input.digest} differs from ${expected}`,
        now: input.now,
      });
    }
    this.#inFlight = undefined;
    this.#baseline = inFlight.snapshot.copies;
    this.#ackedDigest = inFlight.snapshot.digest;
    this.#replaceNext = false;
    this.#o.retryBackoff.reset();
    return { acked: { version: input.version, snapshot: inFlight.snapshot }, ...this.#maybeSend(input.now) };
  }

  nack(input: {
    readonly version: number;
    readonly reason: NackReason;
    readonly message: string;
    readonly now: number;
  }): ProtocolStep {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || inFlight.version !== input.version) {
      return { ignored: `nack of version ${input.version}, in flight: ${inFlight?.version ?? 'none'}` };
    }
    this.#inFlight = undefined;
    const nacked = { version: input.version, reason: input.reason, message: input.message };
    if (input.reason === NackReason.NACK_REASON_DIGEST_MISMATCH) {
      // The agent's set is not what we think: the next version is the full set. Immediately the
      // first time; a replacing version that mismatches again waits (no tight loop).
      this.#replaceNext = true;
      if (!inFlight.replace) return { nacked, ...this.#maybeSend(input.now) };
    }
    // Keep the last acknowledged state as the agent's and try again later.
    this.#retryPending = true;
    return { nacked, retryAfterMs: this.#o.retryBackoff.next() };
  }

  retryDue(now: number): ProtocolStep {
    this.#retryPending = false;
    return this.#maybeSend(now);
  }

  /** The one place that says "snapshot did not change, no reply". */
  #maybeSend(now: number): ProtocolStep {
    const snapshot = this.#latest;
    if (!this.#o.distributionEnabled || snapshot === undefined) return {};
    if (this.#inFlight !== undefined || this.#retryPending) return {};
    if (this.#sentFirst && !this.#replaceNext && this.#ackedDigest === snapshot.digest) return {};
    const replace = this.#replaceNext;
    const changes = replace
      ? { upserts: [...snapshot.copies.values()], removes: [] }
      : diffCopies(this.#baseline, snapshot.copies);
    const version = Math.max(this.#lastVersion + 1, now);
    this.#lastVersion = version;
    this.#sentFirst = true;
    this.#inFlight = { version, snapshot, replace };
    return { send: { version, replace, upserts: changes.upserts, removes: changes.removes, snapshot } };
  }
}
