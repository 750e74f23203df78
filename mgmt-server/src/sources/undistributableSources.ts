import {
  Annotation,
  type Clock,
  type CrdLike,
  groupKindOf,
  type KindInfo,
  type KubeObject,
  type Logger,
  type NeighbourKind,
  undistributableKinds,
} from '@kuberelay/shared';
import { Informer, type KubeRest, type ObjectWithMeta } from '@kuberelay/shared/kube';

export interface UndistributableSourcesOptions {
  readonly rest: KubeRest;
  /** The distributable kinds (--kinds): their objects are sources, not reported here. */
  readonly kinds: readonly KindInfo[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Records the KindNotDistributable Warning Event on `object`. */
  readonly report: (object: KubeObject, message: string) => Promise<void>;
}

type Metadata = ObjectWithMeta & {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
};

interface Watch {
  readonly version: string;
  readonly abort: AbortController;
}

/** The reason of the Warning Event (docs/spec.md §8); also the error code of the same meaning. */
export const KIND_NOT_DISTRIBUTABLE = 'KindNotDistributable';

/**
 * Finds objects that carry `gloo.solo.io/distribute-to` but are of a kind the server does not
 * distribute, and records one Warning Event on each, so the annotation is not ignored without a
 * word (design.md "Decisions"). What it can see without watching the whole cluster: a
 * metadata-only informer per installed neighbour kind (shared/src/kinds/neighbourKinds.ts), each
 * started and stopped as its CRD comes and goes (`onCrds`, fed by the management view's CRD
 * informer).
 *
 * One Event per object and annotation value: an edit of the value records again, a relist or
 * another edit does not. The memory is one entry per annotated object of such a kind.
 */
export class UndistributableSources {
  readonly #o: UndistributableSourcesOptions;
  readonly #candidates: readonly NeighbourKind[];
  readonly #watches = new Map<string, Watch>();
  /** uid → the annotation value an Event was recorded for. */
  readonly #reported = new Map<string, string>();
  /** Events are recorded one at a time: a thousand annotated objects at start are no burst. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: UndistributableSourcesOptions) {
    this.#o = options;
    this.#candidates = undistributableKinds(options.kinds);
  }

  /** Starts or stops informers to match the CRDs (call with the CRD informer's current list). */
  onCrds(crds: readonly CrdLike[]): void {
    for (const kind of this.#candidates) {
      const id = groupKindOf(kind);
      const version = servedVersion(crds, kind);
      const running = this.#watches.get(id);
      if (running !== undefined && running.version !== version) {
        running.abort.abort();
        this.#watches.delete(id);
      }
      if (version !== undefined && !this.#watches.has(id)) this.#start(id, kind, version);
    }
  }

  #start(id: string, kind: NeighbourKind, version: string): void {
    const abort = new AbortController();
    this.#watches.set(id, { version, abort });
    const informer = new Informer<Metadata>({
      rest: this.#o.rest,
      resource: { group: kind.group, version, plural: kind.plural },
      metadataOnly: true,
      signal: AbortSignal.any([this.#o.signal, abort.signal]),
      clock: this.#o.clock,
      logger: this.#o.logger.child({ informer: id }),
      onEvent: ({ type, object }) =>
        this.#seen(kind, version, type === 'DELETED' ? undefined : object, object),
    });
    void informer.start();
  }

  #seen(kind: NeighbourKind, version: string, live: Metadata | undefined, object: Metadata): void {
    const uid = object.metadata?.uid ?? '';
    const value = live?.metadata?.annotations?.[Annotation.DistributeTo];
    if (value === undefined) {
      this.#reported.delete(uid);
      return;
    }
    if (uid === '' || this.#reported.get(uid) === value) return;
    this.#reported.set(uid, value);
    const { name = '', namespace } = object.metadata ?? {};
    const source: KubeObject = {
      apiVersion: `${kind.group}/${version}`,
      kind: kind.kind,
      metadata: { name, ...(namespace === undefined ? {} : { namespace }), uid },
    };
    const message = `${groupKindOf(kind)} is not one of the kinds this management server distributes (${this.#o.kinds.map((k) => k.kind).join(', ')}); its ${Annotation.DistributeTo} annotation is ignored. Add the kind to the server's --kinds to distribute it.`;
    this.#queue = this.#queue.then(() =>
      this.#o.report(source, message).catch((error: unknown) => {
        // Forget it, so the next change of the object tries again.
        this.#reported.delete(uid);
        this.#o.logger.warn({ err: error, kind: groupKindOf(kind), name }, 'recording an Event failed');
      }),
    );
  }
}

/** The version to read `kind` in: the storage version if served, else the first served one. */
function servedVersion(crds: readonly CrdLike[], kind: NeighbourKind): string | undefined {
  const crd = crds.find(
    (c) =>
      c.metadata?.name === `${kind.plural}.${kind.group}` &&
      !c.metadata.deletionTimestamp &&
      c.spec?.group === kind.group &&
      c.spec.names?.kind === kind.kind,
  );
  const established = crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  if (crd === undefined || established !== true) return undefined;
  const served = (crd.spec?.versions ?? []).filter((v) => v.served === true && v.name !== undefined);
  const storage = served.find((v) => v.storage === true);
  return (storage ?? served[0])?.name;
}
