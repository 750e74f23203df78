import { type Clock, type Logger, RELAY_CA_SECRET } from '@kuberelay/shared';
import { Informer, isConflict, isNotFound, type KubeRest } from '@kuberelay/shared/kube';
import { type CaSecret, createCa, newCaSecret, type RelayCa, relayCaOf } from '@kuberelay/shared/pki';

export interface CaStoreOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  /** Lifetime of a CA this store creates. */
  readonly caValidityMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export type CaListener = (ca: RelayCa, previous: RelayCa) => void;

/**
 * Holds the relay CA from Secret `kuberelay-relay-ca` and follows changes to it (relayctl
 * rotate-ca edits the Secret; every replica picks the change up from its watch).
 *
 * At start the Secret is created when missing. The create is a plain POST: when several replicas
 * start at once one wins and the others get 409 and read the winner's CA, so all replicas sign
 * with the same CA. An existing Secret is never overwritten (bring your own CA).
 *
 * A Secret that becomes invalid (a bad edit) is logged and ignored: the last good CA stays in use,
 * because dropping it would refuse every agent.
 */
export class CaStore {
  readonly #o: CaStoreOptions;
  readonly #informer: Informer<CaSecret & { metadata?: { name?: string } }>;
  readonly #listeners = new Set<CaListener>();
  #current: RelayCa | undefined;
  #lastSeenVersion: string | undefined;

  constructor(options: CaStoreOptions) {
    this.#o = options;
    this.#informer = new Informer({
      rest: options.rest,
      resource: { group: '', version: 'v1', plural: 'secrets', namespace: options.namespace },
      fieldSelector: `metadata.name=${RELAY_CA_SECRET}`,
      signal: options.signal,
      logger: options.logger.child({ informer: 'relay-ca' }),
      clock: options.clock,
      onEvent: (event) => {
        if (event.type !== 'DELETED') this.#take(event.object);
        else options.logger.error(`Secret ${RELAY_CA_SECRET} was deleted; keeping the CA in memory`);
      },
    });
  }

  /** Creates the Secret if missing, loads it, and starts following it. Rejects on an invalid CA. */
  async start(): Promise<RelayCa> {
    const secret = await this.#ensure();
    const first = relayCaOf(secret);
    if (!first.ok) throw first.errors[0];
    this.#current = first.value;
    this.#lastSeenVersion = secret.metadata?.resourceVersion;
    void this.#informer.start();
    return first.value;
  }

  /** The CA in use; set once `start()` resolved. */
  current(): RelayCa {
    if (this.#current === undefined) throw new Error('CaStore.current() before start()');
    return this.#current;
  }

  /** Called after every change of the CA Secret that parses (synchronously, in order). */
  onChange(listener: CaListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #take(secret: CaSecret): void {
    const version = secret.metadata?.resourceVersion;
    if (version !== undefined && version === this.#lastSeenVersion) return;
    this.#lastSeenVersion = version;
    const parsed = relayCaOf(secret);
    if (!parsed.ok) {
      this.#o.logger.error(
        { reason: parsed.errors[0].message },
        'the relay CA Secret is invalid; keeping the last good CA',
      );
      return;
    }
    const previous = this.#current;
    this.#current = parsed.value;
    if (previous === undefined) return;
    if (
      previous.bundlePem === parsed.value.bundlePem &&
      previous.signingFingerprint === parsed.value.signingFingerprint
    ) {
      return;
    }
    this.#o.logger.info(
      { signingChanged: previous.signingFingerprint !== parsed.value.signingFingerprint },
      'relay CA changed',
    );
    for (const listener of this.#listeners) {
      try {
        listener(parsed.value, previous);
      } catch (error) {
        this.#o.logger.error({ err: error }, 'a relay CA listener failed');
      }
    }
  }

  async #ensure(): Promise<CaSecret> {
    const path = `/api/v1/namespaces/${this.#o.namespace}/secrets/${RELAY_CA_SECRET}`;
    try {
      return await this.#o.rest.request<CaSecret>({ method: 'GET', path, signal: this.#o.signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const now = this.#o.clock.now();
    const ca = await createCa({ commonName: 'kuberelay relay CA', validityMs: this.#o.caValidityMs, now });
    try {
      const created = await this.#o.rest.request<CaSecret>({
        method: 'POST',
        path: `/api/v1/namespaces/${this.#o.namespace}/secrets`,
        body: newCaSecret({ namespace: this.#o.namespace, ca, createdAt: new Date(now).toISOString() }),
        signal: this.#o.signal,
      });
      this.#o.logger.info({ secret: RELAY_CA_SECRET }, 'created the relay CA');
      return created;
    } catch (error) {
      // Another replica (or the user) created it meanwhile: theirs counts, ours is dropped unused.
      if (!isConflict(error)) throw error;
      this.#o.logger.info(
        { secret: RELAY_CA_SECRET },
        'another replica created the relay CA first; using it',
      );
      return this.#o.rest.request<CaSecret>({ method: 'GET', path, signal: this.#o.signal });
    }
  }
}
