import {
  type Clock,
  type CrdLike,
  crdNameOf,
  crdServes,
  groupKindOf,
  type KindInfo,
  KUBERNETES_CLUSTER,
  type KubeObject,
  type KubernetesClusterStatus,
  type Logger,
  type ObjectRef,
} from '@kuberelay/shared';
import { Informer, type KubeRest, type ObjectWithMeta } from '@kuberelay/shared/kube';

export interface ManagementViewOptions {
  readonly rest: KubeRest;
  /** The server's namespace: where the KubernetesClusters live. */
  readonly namespace: string;
  readonly kinds: readonly KindInfo[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Called (synchronously, possibly many times in a burst) after anything in the view changed. */
  readonly onChange: () => void;
  /** Called with every CRD after each CRD change, once the CRD list is complete. */
  readonly onCrds?: (crds: readonly CrdLike[]) => void;
  /** Called after any KubernetesCluster event, its status included (rollouts read statuses). */
  readonly onClusterStatus?: () => void;
}

type Source = KubeObject & ObjectWithMeta;
type ClusterObject = {
  readonly metadata?: {
    readonly name?: string;
    readonly uid?: string;
    readonly deletionTimestamp?: string;
    readonly resourceVersion?: string;
  };
  readonly status?: KubernetesClusterStatus;
};

interface KindWatch {
  readonly informer: Informer<Source>;
  readonly abort: AbortController;
  /** Set from onSynced (Informer.hasSynced() only turns true after onSynced returns). */
  synced: boolean;
  /** Started before the view was first complete: completeness waits for it. */
  readonly required: boolean;
}

/**
 * The management server's complete view of the management cluster: the sources of every served
 * distributable kind and the registered clusters (design.md "Flow", step 1).
 *
 * Kinds come and go with their CRDs: an informer runs for a kind exactly while its CRD is
 * Established and serves the configured version (kinds not installed are skipped until they
 * appear, docs/spec.md §6).
 *
 * `isComplete()` is false until the CRD and cluster informers and every kind informer
 * started from the first CRD list have synced: nothing may be computed before (docs/spec.md §4). A kind
 * whose CRD appears later does not make the view incomplete again: it had no sources before, so
 * treating it as empty until its first list completes deletes nothing.
 */
export class ManagementView {
  readonly #o: ManagementViewOptions;
  readonly #crds: Informer<CrdLike & ObjectWithMeta>;
  readonly #clusters: Informer<ClusterObject & ObjectWithMeta>;
  readonly #kinds = new Map<string, KindWatch>();
  #complete = false;
  /** First complete list seen, per fixed informer (see KindWatch.synced for why not hasSynced). */
  readonly #synced = { crds: false, clusters: false };
  /**
   * The registered cluster names, kept from the events. The desired state depends on the names
   * only, and each agent's stream writes its cluster's status every few seconds: recomputing on
   * those writes cost a full computeDesiredState per status patch (issue 10).
   */
  #registered = new Set<string>();
  #resolveReady: () => void = () => {};
  readonly ready: Promise<void>;

  constructor(options: ManagementViewOptions) {
    this.#o = options;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    const common = { rest: options.rest, signal: options.signal, clock: options.clock };
    this.#crds = new Informer({
      ...common,
      logger: options.logger.child({ informer: 'crds' }),
      resource: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' },
      onEvent: () => this.#reconcileKinds(),
      onSynced: () => {
        this.#synced.crds = true;
        this.#reconcileKinds();
      },
    });
    this.#clusters = new Informer({
      ...common,
      logger: options.logger.child({ informer: 'kubernetesclusters' }),
      resource: {
        group: KUBERNETES_CLUSTER.group,
        version: KUBERNETES_CLUSTER.version,
        plural: KUBERNETES_CLUSTER.plural,
        namespace: options.namespace,
      },
      onEvent: (event) => {
        options.onClusterStatus?.();
        const name = event.object.metadata?.name ?? '';
        const registered =
          event.type !== 'DELETED' && !event.object.metadata?.deletionTimestamp && name !== '';
        if (registered === this.#registered.has(name)) return;
        if (registered) this.#registered.add(name);
        else this.#registered.delete(name);
        this.#changed();
      },
      onSynced: () => {
        this.#registered = new Set(this.clusters());
        this.#synced.clusters = true;
        this.#changed();
      },
    });
  }

  /** Starts every informer; they stop when the signal aborts. */
  start(): void {
    void this.#crds.start();
    void this.#clusters.start();
  }

  isComplete(): boolean {
    return this.#complete;
  }

  /** Every source object of the kinds being watched (synced informers only). */
  sources(): KubeObject[] {
    const all: KubeObject[] = [];
    for (const watch of this.#kinds.values()) {
      if (watch.synced) all.push(...watch.informer.list());
    }
    return all;
  }

  /** Registered cluster names. A KubernetesCluster being deleted is already deregistered. */
  clusters(): string[] {
    return this.#clusters
      .list()
      .filter((c) => !c.metadata?.deletionTimestamp)
      .map((c) => c.metadata?.name ?? '')
      .filter((name) => name !== '');
  }

  /** Every registered cluster's status as last watched, with the resourceVersion it was read at. */
  clusterStatuses(): {
    name: string;
    resourceVersion: string;
    status: KubernetesClusterStatus | undefined;
  }[] {
    return this.#clusters
      .list()
      .flatMap((c) =>
        c.metadata?.name
          ? [{ name: c.metadata.name, resourceVersion: c.metadata.resourceVersion ?? '', status: c.status }]
          : [],
      );
  }

  /** The uid of registered cluster `name` (undefined when not registered or being deleted). */
  clusterUid(name: string): string | undefined {
    const object = this.#clusters.get(this.#o.namespace, name);
    return object?.metadata?.deletionTimestamp ? undefined : object?.metadata?.uid;
  }

  /** The live source object `ref` names, if its kind is watched and it exists. */
  findSource(ref: ObjectRef): KubeObject | undefined {
    const watch = this.#kinds.get(groupKindOf(ref));
    return watch?.informer.get(ref.namespace, ref.name);
  }

  /** Kinds whose informer is running, as `Kind.group`. */
  watchedKinds(): string[] {
    return [...this.#kinds.keys()].sort();
  }

  #reconcileKinds(): void {
    if (!this.#synced.crds) return;
    this.#o.onCrds?.(this.#crds.list());
    for (const kind of this.#o.kinds) {
      const id = groupKindOf(kind);
      const crd = this.#crds.get(undefined, crdNameOf(kind));
      const serves = crd !== undefined && crdServes(crd, kind);
      const running = this.#kinds.get(id);
      if (serves && running === undefined) {
        this.#startKind(id, kind);
      } else if (!serves && running !== undefined) {
        this.#o.logger.info({ kind: id }, 'CRD gone or no longer serves the kind; stopping its informer');
        running.abort.abort();
        this.#kinds.delete(id);
      }
    }
    this.#changed();
  }

  #startKind(id: string, kind: KindInfo): void {
    const abort = new AbortController();
    const signal = AbortSignal.any([this.#o.signal, abort.signal]);
    this.#o.logger.info({ kind: id, version: kind.version }, 'kind served; starting its informer');
    const informer = new Informer<Source>({
      rest: this.#o.rest,
      resource: { group: kind.group, version: kind.version, plural: kind.plural },
      signal,
      clock: this.#o.clock,
      logger: this.#o.logger.child({ informer: id }),
      onEvent: () => this.#changed(),
      onSynced: () => {
        watch.synced = true;
        this.#changed();
      },
    });
    const watch: KindWatch = { informer, abort, synced: false, required: !this.#complete };
    this.#kinds.set(id, watch);
    void informer.start();
  }

  #changed(): void {
    if (!this.#complete && this.#computeComplete()) {
      this.#complete = true;
      this.#o.logger.info({ kinds: this.watchedKinds() }, 'management view complete (all informers synced)');
      this.#resolveReady();
    }
    this.#o.onChange();
  }

  #computeComplete(): boolean {
    if (!this.#synced.crds || !this.#synced.clusters) return false;
    for (const watch of this.#kinds.values()) {
      if (watch.required && !watch.synced) return false;
    }
    return true;
  }
}
