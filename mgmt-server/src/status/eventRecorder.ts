import { type Clock, hashText, type KubeObject, type Logger } from '@kuberelay/shared';
import { ContentType, isConflict, type KubeRest } from '@kuberelay/shared/kube';

export interface EventRecorderOptions {
  readonly rest: KubeRest;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `reportingInstance`/`source.host`: this replica's pod. */
  readonly instance: string;
  readonly signal: AbortSignal;
}

export interface RecordEventOptions {
  readonly object: KubeObject;
  readonly reason: string;
  readonly message: string;
  /** Warning (the default: an outcome that needs attention) or Normal (a rollout's progress). */
  readonly type?: 'Warning' | 'Normal';
}

interface CoreEvent {
  readonly count?: number;
  readonly lastTimestamp?: string;
  readonly reportingInstance?: string;
}

const COMPONENT = 'kuberelay-mgmt-server';
const MESSAGE_MAX = 1024;

/**
 * Records Events on source objects (core/v1 Events, which `kubectl describe` shows): Warnings for
 * outcomes, Normal ones for a rollout's progress. The Event name is derived from the object's uid,
 * the reason and the message, so recording the same outcome again bumps `count` on the existing
 * Event instead of creating another: the aggregation client-go's recorder does (design.md: same
 * reason + message → count).
 */
/** An identical Event another replica recorded this recently is the same outcome, seen twice. */
const OTHER_REPLICA_WINDOW_MS = 60_000;

export class EventRecorder {
  readonly #o: EventRecorderOptions;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
  }

  async record(options: RecordEventOptions): Promise<void> {
    const { object, reason } = options;
    const message = options.message.slice(0, MESSAGE_MAX);
    const namespace = object.metadata.namespace ?? 'default';
    const uid = typeof object.metadata.uid === 'string' ? object.metadata.uid : '';
    const name = `${object.metadata.name}.${hashText(`${uid}\u0000${reason}\u0000${message}`).slice(0, 16)}`;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const now = new Date(this.#o.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const logger = this.#o.logger.child({ source: `${object.kind}/${namespace}/${object.metadata.name}` });
    try {
      await this.#o.rest.request({
        method: 'POST',
        path,
        signal: this.#o.signal,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: object.metadata.name,
            ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
            ...(uid === '' ? {} : { uid }),
            ...(typeof object.metadata.resourceVersion === 'string'
              ? { resourceVersion: object.metadata.resourceVersion }
              : {}),
          },
          reason,
          message,
          type: options.type ?? 'Warning',
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: COMPONENT, host: this.#o.instance },
          reportingComponent: COMPONENT,
          reportingInstance: this.#o.instance,
        },
      });
      logger.info({ reason, message }, 'event recorded');
    } catch (error) {
      if (!isConflict(error)) throw error;
      const existing = await this.#o.rest.request<CoreEvent>({
        method: 'GET',
        path: `${path}/${name}`,
        signal: this.#o.signal,
      });
      // Every replica sees the same sources and records the same outcomes: a twin Event another
      // replica recorded moments ago is that outcome, not a repeat of it.
      const lastSeen = Date.parse(existing.lastTimestamp ?? '');
      if (
        existing.reportingInstance !== undefined &&
        existing.reportingInstance !== this.#o.instance &&
        this.#o.clock.now() - lastSeen < OTHER_REPLICA_WINDOW_MS
      ) {
        logger.debug({ reason, by: existing.reportingInstance }, 'event already recorded by another replica');
        return;
      }
      await this.#o.rest.request({
        method: 'PATCH',
        path: `${path}/${name}`,
        contentType: ContentType.mergePatch,
        body: { count: (existing.count ?? 1) + 1, lastTimestamp: now },
        signal: this.#o.signal,
      });
      logger.info({ reason, message, count: (existing.count ?? 1) + 1 }, 'event repeated');
    }
  }
}
