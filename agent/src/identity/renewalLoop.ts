import type { Clock, Logger } from '@kuberelay/shared';
import { type AgentIdentity, renewalSleepMs } from './agentIdentity.js';

export interface RenewalLoopOptions {
  readonly identity: AgentIdentity;
  /** Sends RenewRequest on the open stream; false when it is not open (the loop then ends). */
  readonly sendRenewal: (csrPem: string) => boolean;
  readonly clock: Clock;
  /** Aborted when the stream ends. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** How long to wait for a RenewResponse before asking again with a new key. Default 60 s. */
  readonly responseTimeoutMs?: number;
}

/**
 * Renews the client certificate on one authenticated stream (docs/design.md, "Renewal"): sleeps
 * until `renewalDue` says so (woken early when a TrustBundle changes the picture), then sends a
 * RenewRequest with a new key pair. The RenewResponse is handled by the agent, which stores it and
 * reconnects, which ends this loop. Resolves when `signal` is aborted.
 */
export async function runRenewalLoop(options: RenewalLoopOptions): Promise<void> {
  const { identity, clock, signal, logger } = options;
  while (!signal.aborted) {
    const decision = identity.renewalDue(clock.now());
    if (decision === undefined) return;
    if (!decision.due) {
      try {
        await clock.sleep(
          renewalSleepMs(decision, clock.now()),
          AbortSignal.any([signal, identity.changed()]),
        );
      } catch {
        // Woken by a new bundle or certificate: decide again (or end, when the stream ended).
      }
      continue;
    }
    logger.info(
      { reason: decision.reason, notAfter: new Date(identity.certificate?.notAfter ?? 0).toISOString() },
      'renewing the client certificate',
    );
    let csrPem: string;
    try {
      csrPem = await identity.createRenewalRequest();
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'could not create a CSR');
      csrPem = '';
    }
    if (csrPem !== '' && !options.sendRenewal(csrPem)) return;
    try {
      // Only the stream's end wakes this wait: a second request would replace the pending key and
      // make the answer to the first one useless.
      await clock.sleep(options.responseTimeoutMs ?? 60_000, signal);
    } catch {
      return;
    }
    if (!signal.aborted) logger.warn('no RenewResponse from the management server; asking again');
  }
}
