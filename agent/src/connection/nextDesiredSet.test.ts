import { type Copy, NackReason, policyFromWire } from '@kuberelay/proto';
import { copyPolicy, createKindRegistry, DEFAULT_KINDS, DigestFormat, stateDigest } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { parseReceivedCopy, type ReceivedCopy } from '../apply/receivedCopy.js';
import { nextDesiredSet } from './nextDesiredSet.js';

const kinds = createKindRegistry(DEFAULT_KINDS);

function copy(name: string, hash: string, overwrite = false): Copy {
  const manifest = { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', metadata: { name, namespace: 'apps' } };
  return {
    key: `gloo.solo.io/Upstream/apps/${name}`,
    hash,
    overwrite,
    policy: undefined,
    manifest: Buffer.from(JSON.stringify(manifest)),
  };
}

function held(...copies: Copy[]): Map<string, ReceivedCopy> {
  const map = new Map<string, ReceivedCopy>();
  for (const c of copies) {
    const parsed = parseReceivedCopy({
      ...c,
      policy: policyFromWire(c.policy),
      manifest: c.manifest.toString('utf8'),
      kinds,
    });
    if (!parsed.ok) throw new Error('bad fixture');
    map.set(c.key, parsed.value);
  }
  return map;
}

const entryOf = (c: Copy) => ({ ...c, policy: copyPolicy(policyFromWire(c.policy)) });
const digestOf = (...copies: Copy[]) => stateDigest(new Map(copies.map((c) => [c.key, entryOf(c)])));
const FORMAT = DigestFormat.entrySum;

describe('nextDesiredSet', () => {
  const a = copy('a', 'h-a');
  const b = copy('b', 'h-b');
  const b2 = copy('b', 'h-b2');
  const c = copy('c', 'h-c', true);

  it.each([
    {
      name: 'an empty version keeps what is held',
      held: [a, b],
      version: { replace: false, upserts: [], removes: [], digest: digestOf(a, b) },
      keys: ['a', 'b'],
    },
    {
      name: 'a delta upserts and removes',
      held: [a, b],
      version: { replace: false, upserts: [b2, c], removes: [a.key], digest: digestOf(b2, c) },
      keys: ['b', 'c'],
    },
    {
      name: 'a replace drops anything not listed',
      held: [a, b],
      version: { replace: true, upserts: [c], removes: [], digest: digestOf(c) },
      keys: ['c'],
    },
  ])('$name', ({ held: holding, version, keys }) => {
    const version5 = { version: 5, ...version };
    const result = nextDesiredSet({ held: held(...holding), version: version5, kinds, digestFormat: FORMAT });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect([...result.copies.values()].map((d) => d.target.name).sort()).toEqual(keys);
      expect(result.digest).toBe(version.digest);
    }
  });

  it('rejects a version whose digest differs (a missed version), applying nothing', () => {
    const result = nextDesiredSet({
      held: held(a),
      version: { version: 6, replace: false, upserts: [b], removes: [], digest: digestOf(b) },
      kinds,
      digestFormat: FORMAT,
    });
    expect(result).toMatchObject({ ok: false, reason: NackReason.NACK_REASON_DIGEST_MISMATCH });
  });

  it.each([
    { format: DigestFormat.sortedLines, checkedAs: DigestFormat.sortedLines, ok: true },
    { format: DigestFormat.entrySum, checkedAs: DigestFormat.entrySum, ok: true },
    { format: DigestFormat.sortedLines, checkedAs: DigestFormat.entrySum, ok: false },
    { format: DigestFormat.entrySum, checkedAs: DigestFormat.sortedLines, ok: false },
  ])(
    'checks the digest in the format the Welcome agreed ($format sent, $checkedAs checked)',
    ({ format, checkedAs, ok }) => {
      const digest = stateDigest(new Map([a, b].map((x) => [x.key, entryOf(x)])), format);
      const result = nextDesiredSet({
        held: held(),
        version: { version: 7, replace: true, upserts: [a, b], removes: [], digest },
        kinds,
        digestFormat: checkedAs,
      });
      expect(result.ok).toBe(ok);
    },
  );

  it('rejects a manifest that is not a Kubernetes object or does not match its key', () => {
    const broken: Copy = { ...a, manifest: Buffer.from('{"kind":') };
    const misnamed: Copy = { ...b, key: 'gloo.solo.io/Upstream/apps/other' };
    const result = nextDesiredSet({
      held: new Map(),
      version: { version: 7, replace: true, upserts: [broken, misnamed], removes: [], digest: '' },
      kinds,
      digestFormat: FORMAT,
    });
    expect(result).toEqual({
      ok: false,
      reason: NackReason.NACK_REASON_INVALID_MANIFEST,
      message:
        'manifest of copy gloo.solo.io/Upstream/apps/a is not valid JSON; manifest of copy gloo.solo.io/Upstream/apps/other describes gloo.solo.io/Upstream/apps/b',
    });
  });
});
