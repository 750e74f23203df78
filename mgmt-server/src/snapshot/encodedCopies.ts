import type { DesiredCopy } from '@kuberelay/shared';

/**
 * The JSON bytes of every copy, keyed by content hash: a copy shared by thousands of clusters is
 * serialised once and every stream sends the same Buffer. Invariant: a hash names exactly one
 * object (the content hash covers the whole copy, name and namespace included), so a cached Buffer
 * is never stale. Entries are dropped by `retainOnly` when no snapshot refers to them any more.
 */
export class EncodedCopyCache {
  readonly #byHash = new Map<string, Buffer>();

  /** The copy's manifest bytes, encoded on first use. Callers must not modify the Buffer. */
  manifest(copy: Pick<DesiredCopy, 'hash' | 'object'>): Buffer {
    let bytes = this.#byHash.get(copy.hash);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(copy.object), 'utf8');
      this.#byHash.set(copy.hash, bytes);
    }
    return bytes;
  }

  /** Forgets every entry whose hash is not in `live` (streams that still hold a Buffer keep it). */
  retainOnly(live: ReadonlySet<string>): void {
    for (const hash of this.#byHash.keys()) {
      if (!live.has(hash)) this.#byHash.delete(hash);
    }
  }

  get size(): number {
    return this.#byHash.size;
  }
}
