import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';

export interface WatchEvent {
  readonly type: string;
  readonly object: KubernetesObject & { code?: number; reason?: string };
}

export interface EventStream {
  /** Waits for the next event that matches, failing after `timeoutMs` with what did arrive. */
  next(match?: (e: WatchEvent) => boolean, timeoutMs?: number): Promise<WatchEvent>;
  /** Every event received so far. */
  readonly received: readonly WatchEvent[];
  /** Resolves with the error (or undefined) the watch ended with. */
  readonly done: Promise<unknown>;
  stop(): void;
}

/**
 * Opens a raw watch (client-node's Watch) and queues its events for a test to read in order.
 * A 429 at the start is retried, as any real client must: the API server answers 429 while the
 * watch cache of a custom resource initialises, which it does lazily on the first request.
 */
export async function watchEvents(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean> = {},
): Promise<EventStream> {
  for (let attempt = 1; ; attempt++) {
    const stream = await openWatch(kc, path, query);
    const early = await Promise.race([stream.done, new Promise((r) => setTimeout(() => r('open'), 100))]);
    const tooMany = early !== 'open' && (early as { statusCode?: number } | null)?.statusCode === 429;
    if (!tooMany || attempt >= 50) return stream;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openWatch(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean>,
): Promise<EventStream> {
  const received: WatchEvent[] = [];
  let cursor = 0;
  let wake: (() => void) | undefined;
  let resolveDone: (e: unknown) => void = () => {};
  const done = new Promise<unknown>((r) => {
    resolveDone = r;
  });
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type, object: WatchEvent['object']) => {
      received.push({ type, object });
      wake?.();
    },
    (error: unknown) => {
      resolveDone(error);
      wake?.();
    },
  );
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  return {
    received,
    done,
    stop: () => controller.abort(),
    async next(match = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < received.length) {
          const event = received[cursor++] as WatchEvent;
          if (match(event)) return event;
        }
        if (ended) throw new Error(`watch on ${path} ended; received ${describe(received)}`);
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `no matching event on ${path} within ${timeoutMs} ms; received ${describe(received)}`,
          );
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, Math.min(left, 200));
        });
      }
    },
  };
}

function describe(events: readonly WatchEvent[]): string {
  return JSON.stringify(events.map((e) => `${e.type} ${e.object.metadata?.name ?? e.object.reason ?? ''}`));
}
