import {
  type CrdLike,
  crdServes,
  type KindInfo,
  type KindRegistry,
  Label,
  type Logger,
  objectKey,
} from '@kuberelay/shared';
import { Informer, type InformerEvent, type KubeRest } from '@kuberelay/shared/kube';

export interface KindWatchesOptions {
  readonly rest: KubeRest;
  readonly kinds: KindRegistry;
  readonly mgmtCluster: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Something happened to a live object that may be a copy (key as in the desired set). */
  readonly onCopyEvent: (key: string) => void;
  /** A distributable kind became served (its CRD appeared): copies of it can be retried. */
  readonly onKindInstalled: (kind: KindInfo) => void;
  /** A namespace appeared: copies waiting for it can be retried. */
  readonly onNamespaceAdded: (namespace: string) => void;
  /** The CRD of a served kind changed its spec (a new schema): copies of it are worth a new look. */
  readonly onSchemaChanged?: (kind: KindInfo) => void;
}

/** A live object with this management cluster's relay label: possibly a copy of ours. */
export interface LiveCopy {
  readonly key: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** A CRD as crdServes reads it, and its generation (the schema token). */
type CrdObject = CrdLike & { readonly metadata?: { readonly generation?: number } };

interface LabeledObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/**
 * The agent's eyes on the workload cluster: one informer per distributable kind that is installed
 * (label selector `relay.solo.io/cluster=<mgmt>`, so only copies are watched, never the whole
 * cluster), one on CustomResourceDefinitions to start (and stop) those informers as kinds come and
 * go, and one on Namespaces so copies waiting for a namespace are retried as soon as it exists.
 * A label edit that removes the relay label reaches us as a DELETED event, which is what we need.
 */
export class KindWatches {
  readonly #options: KindWatchesOptions;
  readonly #running = new Map<
    string,
    {
      readonly controller: AbortController;
      readonly informer: Informer<LabeledObject>;
      readonly kind: KindInfo;
    }
  >();
  /** `<plural>.<group>` → the CRD's metadata.generation: moves with every change of its spec. */
  readonly #schemas = new Map<string, string>();
  readonly #logger: Logger;
  /** Which distributable kinds are served is known only once the CRDs were listed. */
  #crds: Informer<CrdObject> | undefined;

  constructor(options: KindWatchesOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'watches' });
  }

  start(): void {
    const { rest, signal, kinds } = this.#options;
    for (const kind of kinds.kinds) {
      // Core kinds have no CRD: they are always served.
      if (kind.group === '') this.#startKind(kind);
    }
    this.#crds = new Informer<CrdObject>({
      rest,
      resource: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' },
      signal,
      logger: this.#logger,
      onEvent: (event) => this.#onCrd(event),
    });
    void this.#crds.start();
    void new Informer<LabeledObject>({
      rest,
      resource: { group: '', version: 'v1', plural: 'namespaces' },
      signal,
      logger: this.#logger,
      onEvent: (event) => {
        const name = event.object.metadata?.name;
        if (event.type === 'ADDED' && name !== undefined) this.#options.onNamespaceAdded(name);
      },
    }).start();
  }

  /**
   * Every object in the workload cluster that carries this management cluster's relay label, for
   * each served kind whose watch has listed everything once: what the agent may own, read from the
   * cluster itself rather than from memory or a file, so a copy created just before a crash or a
   * delete that failed before a restart is still found. `complete` is false while some served
   * kind's watch has not synced; its objects are then missing here, never guessed.
   */
  liveCopies(): { readonly copies: readonly LiveCopy[]; readonly complete: boolean } {
    const copies: LiveCopy[] = [];
    // The CRD list starts the informers of the served kinds while it is read, so once it synced
    // every served kind has its informer here.
    let complete = this.#crds?.hasSynced() === true;
    for (const { informer, kind } of this.#running.values()) {
      if (!informer.hasSynced()) {
        complete = false;
        continue;
      }
      for (const object of informer.list()) {
        const name = object.metadata?.name;
        if (name === undefined) continue;
        const namespace = kind.namespaced ? object.metadata?.namespace : undefined;
        copies.push({
          key: objectKey({ group: kind.group, kind: kind.kind, namespace, name }),
          apiVersion: kind.group === '' ? kind.version : `${kind.group}/${kind.version}`,
          kind: kind.kind,
          namespace,
          name,
        });
      }
    }
    return { copies, complete };
  }

  /**
   * A token for the schema the workload cluster serves a kind with (its CRD's generation), or
   * undefined when unknown (core kinds, CRD not seen yet).
   */
  schemaOf(kind: { readonly group: string; readonly kind: string }): string | undefined {
    const info = this.#options.kinds.byGroupKind(kind.group, kind.kind);
    return info === undefined ? undefined : this.#schemas.get(`${info.plural}.${info.group}`);
  }

  #onCrd(event: InformerEvent<CrdObject>): void {
    const spec = event.object.spec;
    for (const kind of this.#options.kinds.kinds) {
      if (spec?.group !== kind.group || spec.names?.plural !== kind.plural) continue;
      const served = event.type !== 'DELETED' && crdServes(event.object, kind);
      const id = `${kind.plural}.${kind.group}`;
      if (served) {
        const generation = String(event.object.metadata?.generation ?? '');
        const before = this.#schemas.get(id);
        this.#schemas.set(id, generation);
        const started = this.#startKind(kind);
        if (started) this.#options.onKindInstalled(kind);
        else if (before !== undefined && before !== generation) this.#options.onSchemaChanged?.(kind);
      } else {
        this.#schemas.delete(id);
        this.#stopKind(kind);
      }
    }
  }

  /** Returns true when the informer was not running yet. */
  #startKind(kind: KindInfo): boolean {
    const id = `${kind.plural}.${kind.group}`;
    if (this.#running.has(id)) return false;
    const controller = new AbortController();
    const signal = AbortSignal.any([this.#options.signal, controller.signal]);
    this.#logger.info({ kind: id }, 'watching copies of kind');
    const informer = new Informer<LabeledObject>({
      rest: this.#options.rest,
      resource: { group: kind.group, version: kind.version, plural: kind.plural },
      labelSelector: `${Label.RelayCluster}=${this.#options.mgmtCluster}`,
      signal,
      logger: this.#logger,
      onEvent: (event) => {
        const name = event.object.metadata?.name;
        if (name === undefined) return;
        const namespace = kind.namespaced ? event.object.metadata?.namespace : undefined;
        this.#options.onCopyEvent(objectKey({ group: kind.group, kind: kind.kind, namespace, name }));
      },
    });
    this.#running.set(id, { controller, informer, kind });
    void informer.start();
    return true;
  }

  #stopKind(kind: KindInfo): void {
    const id = `${kind.plural}.${kind.group}`;
    const running = this.#running.get(id);
    if (running === undefined) return;
    this.#logger.info({ kind: id }, 'kind no longer served; stopped watching it');
    running.controller.abort();
    this.#running.delete(id);
  }
}
