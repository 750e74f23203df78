import {
  type Clock,
  createBackoff,
  formatClassMapping,
  formatKindsAnnotation,
  type GatewayClassMapping,
  type KindInfo,
  type Logger,
  RegistrationAnnotation,
  RegistrationLabel,
  retryLoop,
  serverLeaseName,
} from '@kuberelay/shared';
import { ContentType, isNotFound, type KubeRest } from '@kuberelay/shared/kube';

export interface ServerLeaseOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly podName: string;
  /** `<pod>/<start id>`: the holderIdentity, unique per process. */
  readonly instance: string;
  /** The server's --cluster-name; relayctl register defaults --mgmt-cluster from it. */
  readonly mgmtCluster: string;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** The distributable kinds (--kinds): relayctl status lists the sources of these. */
  readonly kinds: readonly KindInfo[];
  /** The GatewayClass swap (--gateway-class-mapping): relayctl plan renders copies with it. */
  readonly classMapping: GatewayClassMapping;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Default 10 s. */
  readonly renewSeconds?: number;
}

/** Lease `renewTime` format: RFC 3339 with microseconds (metav1.MicroTime). */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Keeps Lease `kuberelay-mgmt-server-<pod>` renewed every 10 s with this replica's addresses and
 * kinds, so `relayctl check` can find the live replicas and `relayctl status` the kinds they
 * distribute (design.md "Status"). A presence record, not a lock:
 * every replica has its own. Runs until the signal aborts; `release` deletes it on a clean stop.
 */
export class ServerLease {
  readonly #o: ServerLeaseOptions;
  /** When this process last renewed, to tell a predecessor's renewal from a twin's. */
  #renewedAt: number | undefined;
  /** Another live process renews the same Lease (same --pod-name): its instance. */
  #sharedWith: string | undefined;

  constructor(options: ServerLeaseOptions) {
    this.#o = options;
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/leases`;
  }

  run(): Promise<void> {
    const renewMs = (this.#o.renewSeconds ?? 10) * 1000;
    return retryLoop({
      signal: this.#o.signal,
      clock: this.#o.clock,
      backoff: createBackoff({ minMs: 500, maxMs: renewMs }),
      resetAfterMs: renewMs,
      run: async ({ signal }) => {
        for (;;) {
          await this.#renew(signal);
          await this.#o.clock.sleep(renewMs, signal);
        }
      },
      onError: (error, { delayMs }) =>
        this.#o.logger.warn({ err: error, retryInMs: delayMs }, 'renewing the server Lease failed'),
    });
  }

  async #renew(signal: AbortSignal): Promise<void> {
    const name = serverLeaseName(this.#o.podName);
    await this.#checkShared(name, signal);
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#o.namespace,
        labels: { [RegistrationLabel.component]: 'kuberelay-mgmt-server' },
        annotations: {
          [RegistrationAnnotation.mgmtCluster]: this.#o.mgmtCluster,
          [RegistrationAnnotation.grpcAddress]: this.#o.grpcAddress,
          [RegistrationAnnotation.httpAddress]: this.#o.httpAddress,
          [RegistrationAnnotation.kinds]: formatKindsAnnotation(this.#o.kinds),
          [RegistrationAnnotation.gatewayClassMapping]: formatClassMapping(this.#o.classMapping),
          // null removes it (merge patch) once the other process is gone.
          [RegistrationAnnotation.sharedWith]: this.#sharedWith ?? null,
        },
      },
      spec: {
        holderIdentity: this.#o.instance,
        leaseDurationSeconds: 3 * (this.#o.renewSeconds ?? 10),
        renewTime: microTime(this.#o.clock.now()),
      },
    };
    try {
      await this.#o.rest.request({
        method: 'PATCH',
        path: `${this.#path}/${name}`,
        contentType: ContentType.mergePatch,
        body,
        signal,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.#o.rest.request({
        method: 'POST',
        path: this.#path,
        body: { ...body, spec: { ...body.spec, acquireTime: body.spec.renewTime } },
        signal,
      });
    }
  }

  /**
   * A Lease renewed by another instance after our own last renewal means two live processes use
   * one --pod-name: their statuses and presence would mix, and one would be invisible. A
   * predecessor (this pod restarted) renews nothing after we started, so it is never mistaken
   * for one. Said loudly in the log and on the Lease, where relayctl check shows it.
   */
  async #checkShared(name: string, signal: AbortSignal): Promise<void> {
    const renewedAt = this.#renewedAt;
    this.#renewedAt = this.#o.clock.now();
    if (renewedAt === undefined) return;
    let live: { spec?: { holderIdentity?: string; renewTime?: string } };
    try {
      live = await this.#o.rest.request({ method: 'GET', path: `${this.#path}/${name}`, signal });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const holder = live.spec?.holderIdentity;
    const theirs = Date.parse(live.spec?.renewTime ?? '');
    const shared =
      holder !== undefined && holder !== this.#o.instance && theirs > renewedAt ? holder : undefined;
    if (shared !== undefined && shared !== this.#sharedWith) {
      this.#o.logger.error(
        { lease: name, otherInstance: shared },
        `another server process renews this replica's Lease: two processes run with --pod-name=${this.#o.podName}; give each its own`,
      );
    }
    this.#sharedWith = shared;
  }

  /** Deletes the Lease (clean shutdown), so this replica stops being listed at once. */
  async release(): Promise<void> {
    try {
      await this.#o.rest.request({
        method: 'DELETE',
        path: `${this.#path}/${serverLeaseName(this.#o.podName)}`,
        timeoutMs: 5_000,
      });
    } catch (error) {
      if (!isNotFound(error)) this.#o.logger.warn({ err: error }, 'deleting the server Lease failed');
    }
  }
}
