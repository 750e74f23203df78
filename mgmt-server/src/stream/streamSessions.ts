import { StreamEndCode, StreamError } from './streamError.js';

/** One open, accepted stream, as the registry sees it. */
export interface StreamSession {
  readonly id: string;
  readonly cluster: string;
  /** Ends the stream with `error` (asynchronously; the stream cleans up itself). */
  end(error: StreamError): void;
}

/**
 * Which stream serves each cluster on this server. Invariant: at most one session per cluster;
 * claiming a cluster ends the session that held it with `Replaced` (FAILED_PRECONDITION at the
 * edge), because the newest connection is the one a restarted agent is waiting on.
 */
export class StreamSessions {
  readonly #byCluster = new Map<string, StreamSession>();

  claim(session: StreamSession): void {
    const previous = this.#byCluster.get(session.cluster);
    this.#byCluster.set(session.cluster, session);
    if (previous !== undefined && previous !== session) {
      previous.end(
        new StreamError({
          code: StreamEndCode.Replaced,
          message: `a newer stream for cluster ${session.cluster} replaced this one`,
        }),
      );
    }
  }

  /** Forgets `session` if it still holds its cluster; true when it did (it was the current one). */
  release(session: StreamSession): boolean {
    if (this.#byCluster.get(session.cluster) !== session) return false;
    this.#byCluster.delete(session.cluster);
    return true;
  }

  current(cluster: string): StreamSession | undefined {
    return this.#byCluster.get(cluster);
  }

  get size(): number {
    return this.#byCluster.size;
  }

  /** Ends every session (server shutdown). */
  endAll(error: StreamError): void {
    for (const session of [...this.#byCluster.values()]) session.end(error);
  }
}
