import { describe, expect, it } from 'vitest';
import { ChunkAssembler, splitVersion, type VersionContent } from './chunks.js';
import type { Copy } from './gen/kuberelay/relay/v1/relay.js';

const copy = (key: string, bytes: number): Copy => ({
  key,
  hash: `h-${key}`,
  manifest: Buffer.alloc(bytes, 97),
  overwrite: false,
  policy: undefined,
});

const version = (upserts: Copy[], removes: string[] = []): VersionContent => ({
  version: 7,
  replace: false,
  upserts,
  removes,
  digest: 'd',
});

describe('splitVersion', () => {
  it('sends an empty version as one empty chunk', () => {
    expect(splitVersion(version([]))).toEqual([
      { version: 7, replace: false, upserts: [], removes: [], digest: 'd', chunk: 1, chunks: 1 },
    ]);
  });

  it.each([
    { copies: 3, bytes: 100, max: 1000, chunks: 1 },
    { copies: 10, bytes: 400, max: 1000, chunks: 5 },
    { copies: 2, bytes: 5000, max: 1000, chunks: 2 }, // each oversize copy travels alone
  ])(
    'splits $copies copies of $bytes bytes at $max bytes into $chunks chunks',
    ({ copies, bytes, max, chunks }) => {
      const upserts = Array.from({ length: copies }, (_, i) => copy(`k${i}`, bytes));
      const parts = splitVersion(version(upserts), max);
      expect(parts).toHaveLength(chunks);
      expect(parts.map((p) => p.chunk)).toEqual(Array.from({ length: chunks }, (_, i) => i + 1));
      expect(parts.every((p) => p.chunks === chunks && p.version === 7)).toBe(true);
      expect(parts.flatMap((p) => p.upserts.map((u) => u.key))).toEqual(upserts.map((u) => u.key));
    },
  );

  it('puts removals before upserts', () => {
    const parts = splitVersion(version([copy('new', 10)], ['old']), 20);
    expect(parts[0]?.removes).toEqual(['old']);
    expect(parts[1]?.upserts.map((u) => u.key)).toEqual(['new']);
  });
});

describe('ChunkAssembler', () => {
  it('reassembles what splitVersion split, in order', () => {
    const upserts = Array.from({ length: 10 }, (_, i) => copy(`k${i}`, 400));
    const parts = splitVersion(version(upserts, ['gone']), 1000);
    const assembler = new ChunkAssembler();
    const results = parts.map((p) => assembler.push(p));
    expect(results.slice(0, -1).every((r) => r.state === 'partial')).toBe(true);
    const last = results.at(-1);
    expect(last?.state).toBe('complete');
    if (last?.state === 'complete') {
      expect(last.version.upserts.map((u) => u.key)).toEqual(upserts.map((u) => u.key));
      expect(last.version.removes).toEqual(['gone']);
    }
  });

  it('rejects a chunk out of order, then accepts a fresh version', () => {
    const parts = splitVersion(version([copy('a', 600), copy('b', 600)]), 1000);
    const assembler = new ChunkAssembler();
    const second = parts[1];
    if (!second) throw new Error('expected two chunks');
    expect(assembler.push(second)).toEqual({
      state: 'invalid',
      message: 'expected chunk 1 of version 7, got 2',
    });
    expect(parts.map((p) => assembler.push(p).state)).toEqual(['partial', 'complete']);
  });

  it('rejects a new version before the previous one completed', () => {
    const parts = splitVersion(version([copy('a', 600), copy('b', 600)]), 1000);
    const assembler = new ChunkAssembler();
    assembler.push(parts[0] as never);
    const other = { ...(parts[0] as never as object), version: 8 } as never;
    expect(assembler.push(other)).toMatchObject({ state: 'invalid' });
  });

  it.each([
    { chunk: 0, chunks: 1 },
    { chunk: 2, chunks: 1 },
    { chunk: 1, chunks: 0 },
  ])('rejects chunk $chunk of $chunks', ({ chunk, chunks }) => {
    const delta = { ...splitVersion(version([]))[0], chunk, chunks } as never;
    expect(new ChunkAssembler().push(delta)).toMatchObject({ state: 'invalid' });
  });
});
