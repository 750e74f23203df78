import type { Copy, Delta } from './gen/kuberelay/relay/v1/relay.js';

/**
 * The most bytes of copies and removals we put in one Delta message. gRPC's default receive
 * limit is 4 MiB; staying at a quarter of it leaves room for framing and for a peer with a
 * smaller limit, and keeps any single message quick to decode.
 */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** Protobuf overhead per repeated entry (tags and lengths), generous on purpose. */
const ENTRY_OVERHEAD = 16;

export interface VersionContent {
  readonly version: number;
  readonly replace: boolean;
  readonly upserts: readonly Copy[];
  readonly removes: readonly string[];
  readonly digest: string;
}

const copySize = (c: Copy) => c.key.length + c.hash.length + c.manifest.byteLength + ENTRY_OVERHEAD;

/**
 * Splits one version into Delta messages of at most `maxBytes` of content each (a single copy
 * larger than that travels alone). Removals go first so an agent that reads chunks in order frees
 * names before it creates new ones. Always returns at least one message, so an empty version (a
 * resync that found nothing to change) is still acknowledged.
 */
export function splitVersion(content: VersionContent, maxBytes: number = DEFAULT_CHUNK_BYTES): Delta[] {
  type Part = { upserts: Copy[]; removes: string[]; size: number };
  const parts: Part[] = [{ upserts: [], removes: [], size: 0 }];
  const add = (size: number, put: (p: Part) => void) => {
    let last = parts[parts.length - 1] as Part;
    if (last.size > 0 && last.size + size > maxBytes) {
      last = { upserts: [], removes: [], size: 0 };
      parts.push(last);
    }
    put(last);
    last.size += size;
  };
  for (const key of content.removes) add(key.length + ENTRY_OVERHEAD, (p) => p.removes.push(key));
  for (const copy of content.upserts) add(copySize(copy), (p) => p.upserts.push(copy));
  return parts.map((p, i) => ({
    version: content.version,
    replace: content.replace,
    upserts: p.upserts,
    removes: p.removes,
    digest: content.digest,
    chunk: i + 1,
    chunks: parts.length,
  }));
}

export type AssembleResult =
  | { readonly state: 'partial' }
  | { readonly state: 'complete'; readonly version: VersionContent }
  | { readonly state: 'invalid'; readonly message: string };

/**
 * Collects the chunks of one version on the receiving side. A chunk of a different version
 * before the previous one completed, a repeated or out-of-range chunk number, or disagreeing
 * headers make the version invalid (the agent rejects it and the server resends).
 */
export class ChunkAssembler {
  #pending: Delta[] = [];

  push(delta: Delta): AssembleResult {
    const first = this.#pending[0];
    if (delta.chunks < 1 || delta.chunk < 1 || delta.chunk > delta.chunks) {
      this.#pending = [];
      return { state: 'invalid', message: `chunk ${delta.chunk} of ${delta.chunks} is out of range` };
    }
    if (
      first &&
      (first.version !== delta.version ||
        first.chunks !== delta.chunks ||
        first.digest !== delta.digest ||
        first.replace !== delta.replace)
    ) {
      this.#pending = [];
      return {
        state: 'invalid',
        message: `version ${delta.version} arrived before version ${first.version} was complete`,
      };
    }
    if (delta.chunk !== this.#pending.length + 1) {
      this.#pending = [];
      return {
        state: 'invalid',
        message: `expected chunk ${this.#pending.length + 1} of version ${delta.version}, got ${delta.chunk}`,
      };
    }
    this.#pending.push(delta);
    if (this.#pending.length < delta.chunks) return { state: 'partial' };
    const chunks = this.#pending;
    this.#pending = [];
    return {
      state: 'complete',
      version: {
        version: delta.version,
        replace: delta.replace,
        digest: delta.digest,
        upserts: chunks.flatMap((c) => c.upserts),
        removes: chunks.flatMap((c) => c.removes),
      },
    };
  }

  /** Forgets a partly received version (the stream broke). */
  reset(): void {
    this.#pending = [];
  }
}
