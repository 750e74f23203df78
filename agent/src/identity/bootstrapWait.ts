import { type ServiceError, status } from '@grpc/grpc-js';
import type { BootstrapRequest, BootstrapResponse } from '@kuberelay/proto';
import type { Clock, Logger } from '@kuberelay/shared';
import type { CredentialInputs } from './agentCredentials.js';
import type { CredentialsStore } from './credentialsStore.js';

// The bootstrap side of the agent's identity, apart from the state it changes (agentIdentity.ts):
// the shapes of the injectable RPC and key generation, telling a refusal (only the operator can
// fix it) from a transient failure, and waiting in the store for a re-registration's new token.

/** The Bootstrap RPC, injectable for tests. */
export type BootstrapCall = (options: {
  readonly caPem: string;
  readonly request: BootstrapRequest;
  readonly signal: AbortSignal;
}) => Promise<BootstrapResponse>;

/** Key generation and CSR, injectable for tests. The key stays in the agent. */
export type CsrFactory = (options: {
  readonly commonName: string;
}) => Promise<{ csrPem: string; keyPem: string }>;

/** While waiting after a refusal, the store is re-read this often: a re-registration is picked up. */
const STORE_POLL_MS = 15_000;

/**
 * Sleeps up to `delayMs`, re-reading the store meanwhile; returns what the store holds as soon as it
 * holds a bootstrap token other than `usedToken`, undefined when the time ran out without one.
 */
export async function waitForNewToken(options: {
  readonly clock: Clock;
  readonly store: CredentialsStore;
  readonly logger: Logger;
  readonly usedToken: string;
  readonly delayMs: number;
  readonly signal: AbortSignal;
}): Promise<CredentialInputs | undefined> {
  const { clock, store, logger } = options;
  const until = clock.now() + options.delayMs;
  while (clock.now() < until) {
    await clock.sleep(Math.min(STORE_POLL_MS, until - clock.now()), options.signal);
    const stored = await loadQuietly(store, logger);
    if (stored?.bootstrapToken !== undefined && stored.bootstrapToken !== options.usedToken) {
      logger.info({ store: store.description }, 'found a new bootstrap token; retrying now');
      return stored;
    }
  }
  return undefined;
}

/** Reads the store; a failure is logged and reads as nothing stored (the caller asks again later). */
export async function loadQuietly(
  store: CredentialsStore,
  logger: Logger,
): Promise<CredentialInputs | undefined> {
  try {
    return await store.load();
  } catch (error) {
    logger.warn(
      {
        store: store.description,
        err: error instanceof Error ? error.message : String(error),
      },
      'could not read the credentials store',
    );
    return undefined;
  }
}

/** The server's answers that another try with the same token cannot change. */
export function isRefusal(error: unknown): boolean {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? (error as ServiceError).code : undefined;
  return (
    code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED || code === status.INVALID_ARGUMENT
  );
}

export function detailsOf(error: unknown): string {
  if (
    typeof error === 'object' &&
    error !== null &&
    'details' in error &&
    typeof error.details === 'string'
  ) {
    const code = (error as ServiceError).code;
    return `${status[code] ?? code}: ${error.details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
