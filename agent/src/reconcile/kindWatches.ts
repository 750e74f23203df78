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
  readonly #running = new Map<string, AbortController>();
  /** `<plural>.<group>` → the CRD's metadata.generation: moves with every change of its spec. */
  readonly #schemas = new Map<string, string>();
  readonly #logger: Logger;

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
    void new Informer<CrdObject>({
      rest,
      resource: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' },
      signal,
      logger: this.#logger,
      onEvent: (event) => this.#onCrd(event),
    }).start();
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
    this.#running.set(id, controller);
    const signal = AbortSignal.any([this.#options.signal, controller.signal]);
    this.#logger.info({ kind: id }, 'watching copies of kind');
    void new Informer<LabeledObject>({
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
    }).start();
    return true;
  }

  #stopKind(kind: KindInfo): void {
    const id = `${kind.plural}.${kind.group}`;
    const controller = this.#running.get(id);
    if (controller === undefined) return;
    this.#logger.info({ kind: id }, 'kind no longer served; stopped watching it');
    controller.abort();
    this.#running.delete(id);
  }
}
