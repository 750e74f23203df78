import { NackReason } from '@kuberelay/proto';
import {
  copyPolicy,
  createBackoff,
  DEFAULT_POLICY,
  type DesiredCopy,
  DigestFormat,
  stateDigest,
} from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot } from '../snapshot/snapshotCache.js';
import { type ProtocolStep, VersionProtocol } from './versionProtocol.js';

const copy = (key: string, hash: string): DesiredCopy => ({
  key,
  cluster: 'qa',
  source: { group: 'g', kind: 'K', namespace: 'n', name: key },
  object: { apiVersion: 'g/v1', kind: 'K', metadata: { name: key } },
  hash,
  overwrite: false,
  policy: DEFAULT_POLICY,
});

let revision = 0;
function snapshot(...copies: DesiredCopy[]): ClusterSnapshot {
  const map = new Map(copies.map((c) => [c.key, c]));
  revision += 1;
  return { cluster: 'qa', copies: map, digest: stateDigest(map), revision, changedAt: undefined };
}

const withoutPolicies = (copies: ReadonlyMap<string, DesiredCopy>) =>
  new Map([...copies].map(([key, c]) => [key, { key, hash: c.hash, overwrite: c.overwrite }]));

const A1 = copy('a', 'h1');
const A2 = copy('a', 'h2');
const B1 = copy('b', 'h1');
const NOW = 1_000_000;

/** A step as a short line: `send v=<version> [replace] +<upserts> -<removes>`, `retry <ms>`, ... */
function describeStep(step: ProtocolStep): string[] {
  const out: string[] = [];
  if (step.acked) out.push(`acked ${step.acked.version - NOW}`);
  if (step.nacked) out.push(`nacked ${step.nacked.version - NOW}`);
  if (step.ignored) out.push('ignored');
  if (step.retryAfterMs !== undefined) out.push('retry later');
  if (step.send) {
    const { version, replace, upserts, removes } = step.send;
    out.push(
      `send ${version - NOW}${replace ? ' replace' : ''} +${upserts.map((c) => c.key).join(',')} -${removes.join(',')}`,
    );
  }
  return out;
}

type Input =
  | { readonly start: { have: { key: string; hash: string }[]; snapshot: ClusterSnapshot | undefined } }
  | { readonly snapshot: ClusterSnapshot }
  | { readonly ack: number; readonly digestOf?: ClusterSnapshot; readonly format?: DigestFormat }
  | { readonly nack: number; readonly reason?: NackReason }
  | { readonly retry: true };

/** Runs inputs at NOW, NOW+1, ... (versions follow the clock, so `send 0` is version NOW). */
function run(
  inputs: readonly Input[],
  options: { enabled?: boolean; format?: DigestFormat; copyPolicy?: boolean } = {},
): string[][] {
  const format = options.format ?? DigestFormat.entrySum;
  const copyPolicy = options.copyPolicy ?? true;
  const protocol = new VersionProtocol({
    distributionEnabled: options.enabled ?? true,
    retryBackoff: createBackoff({ minMs: 1_000, maxMs: 60_000, random: () => 0.5 }),
    dialect: { digestFormat: format, copyPolicy },
  });
  const sent = new Map<number, ClusterSnapshot>();
  return inputs.map((input, i) => {
    const now = NOW + i;
    let step: ProtocolStep;
    if ('start' in input) step = protocol.start({ ...input.start, haveVersion: 0, now });
    else if ('snapshot' in input) step = protocol.snapshot(input.snapshot, now);
    else if ('ack' in input) {
      // The agent digests what it holds in the stream's format; one that does not know policies
      // holds none.
      const acked = input.digestOf ?? sent.get(NOW + input.ack);
      const held = acked === undefined || copyPolicy ? acked?.copies : withoutPolicies(acked.copies);
      const digest = held === undefined ? 'unknown' : stateDigest(held, input.format ?? format);
      step = protocol.ack({ version: NOW + input.ack, digest, now });
    } else if ('nack' in input) {
      step = protocol.nack({
        version: NOW + input.nack,
        reason: input.reason ?? NackReason.NACK_REASON_INVALID_MANIFEST,
        message: 'no',
        now,
      });
    } else step = protocol.retryDue(now);
    if (step.send) sent.set(step.send.version, step.send.snapshot);
    return describeStep(step);
  });
}

describe('VersionProtocol', () => {
  const s1 = snapshot(A1, B1);
  it.each<{ name: string; inputs: Input[]; steps: string[][]; enabled?: boolean }>([
    {
      name: 'an empty Hello gets the whole set; only changes after the Ack',
      inputs: [{ start: { have: [], snapshot: s1 } }, { ack: 0 }, { snapshot: snapshot(A2, B1) }],
      steps: [['send 0 +a,b -'], ['acked 0'], ['send 2 +a -']],
    },
    {
      name: 'an agent that holds everything gets one empty version, then silence',
      inputs: [
        {
          start: {
            have: [
              { key: 'a', hash: 'h1' },
              { key: 'b', hash: 'h1' },
            ],
            snapshot: s1,
          },
        },
        { ack: 0 },
        { snapshot: snapshot(A1, B1) },
      ],
      steps: [['send 0 + -'], ['acked 0'], []],
    },
    {
      name: 'held but unwanted copies are removed',
      inputs: [{ start: { have: [{ key: 'z', hash: 'h' }], snapshot: snapshot(A1) } }],
      steps: [['send 0 +a -z']],
    },
    {
      name: 'one version in flight: snapshots meanwhile coalesce into the next',
      inputs: [
        { start: { have: [], snapshot: snapshot(A1) } },
        { snapshot: snapshot(A2) },
        { snapshot: snapshot(A2, B1) },
        { ack: 0 },
      ],
      steps: [['send 0 +a -'], [], [], ['acked 0', 'send 3 +a,b -']],
    },
    {
      name: 'DIGEST_MISMATCH: a replacing version at once; a second one waits for the backoff',
      inputs: [
        { start: { have: [], snapshot: s1 } },
        { nack: 0, reason: NackReason.NACK_REASON_DIGEST_MISMATCH },
        { nack: 1, reason: NackReason.NACK_REASON_DIGEST_MISMATCH },
        { retry: true },
      ],
      steps: [
        ['send 0 +a,b -'],
        ['nacked 0', 'send 1 replace +a,b -'],
        ['nacked 1', 'retry later'],
        ['send 3 replace +a,b -'],
      ],
    },
    {
      name: 'an Ack with another digest is a mismatch',
      inputs: [{ start: { have: [], snapshot: s1 } }, { ack: 0, digestOf: snapshot(B1) }],
      steps: [['send 0 +a,b -'], ['nacked 0', 'send 1 replace +a,b -']],
    },
    {
      name: 'another Nack keeps the acked state and retries after the backoff, not before',
      inputs: [
        { start: { have: [], snapshot: s1 } },
        { nack: 0 },
        { snapshot: snapshot(A2, B1) },
        { retry: true },
      ],
      steps: [['send 0 +a,b -'], ['nacked 0', 'retry later'], [], ['send 3 +a,b -']],
    },
    {
      name: 'Acks and Nacks of versions not in flight are ignored',
      inputs: [{ start: { have: [], snapshot: s1 } }, { ack: 7 }, { nack: 7 }, { ack: 0 }],
      steps: [['send 0 +a,b -'], ['ignored'], ['ignored'], ['acked 0']],
    },
    {
      name: 'distribution off: nothing is ever sent',
      enabled: false,
      inputs: [{ start: { have: [], snapshot: s1 } }, { snapshot: snapshot(A2) }],
      steps: [[], []],
    },
  ])('$name', ({ inputs, steps, enabled }) => {
    expect(run(inputs, { enabled })).toEqual(steps);
  });

  it.each([
    {
      name: 'entrySum stream, entrySum Ack',
      stream: DigestFormat.entrySum,
      ack: DigestFormat.entrySum,
      steps: [['send 0 +a,b -'], ['acked 0']],
    },
    {
      name: 'sortedLines stream (an older agent), sortedLines Ack',
      stream: DigestFormat.sortedLines,
      ack: DigestFormat.sortedLines,
      steps: [['send 0 +a,b -'], ['acked 0']],
    },
    {
      name: 'sortedLines stream, entrySum Ack',
      stream: DigestFormat.sortedLines,
      ack: DigestFormat.entrySum,
      steps: [['send 0 +a,b -'], ['nacked 0', 'send 1 replace +a,b -']],
    },
    {
      name: 'entrySum stream, sortedLines Ack',
      stream: DigestFormat.entrySum,
      ack: DigestFormat.sortedLines,
      steps: [['send 0 +a,b -'], ['nacked 0', 'send 1 replace +a,b -']],
    },
  ])("checks Acks in the stream's digest format: $name", ({ stream, ack, steps }) => {
    expect(run([{ start: { have: [], snapshot: s1 } }, { ack: 0, format: ack }], { format: stream })).toEqual(
      steps,
    );
  });

  it('numbers versions after what the agent had, and by the clock across restarts', () => {
    const protocol = new VersionProtocol({
      distributionEnabled: true,
      retryBackoff: createBackoff({ minMs: 1_000, maxMs: 60_000 }),
      dialect: { digestFormat: DigestFormat.entrySum, copyPolicy: true },
    });
    // An agent that acknowledged version 5,000,000 of an earlier server whose clock ran ahead.
    const step = protocol.start({ have: [], haveVersion: 5_000_000, snapshot: s1, now: NOW });
    expect(step.send?.version).toBe(5_000_001);
  });

  describe('an agent that does not know per-source policy (docs/spec.md D10.4)', () => {
    const paused = { ...A1, policy: copyPolicy({ paused: true }) };
    const withPause = snapshot(paused, B1);
    it.each([DigestFormat.entrySum, DigestFormat.sortedLines])(
      'digests without the policies it cannot hold (format %s), so its Acks match',
      (format) => {
        expect(
          run([{ start: { have: [], snapshot: withPause } }, { ack: 0 }], { format, copyPolicy: false }),
        ).toEqual([['send 0 +a,b -'], ['acked 0']]);
      },
    );
    it('an agent that knows them must hold them: the policy-blind digest is a mismatch there', () => {
      expect(
        run([{ start: { have: [], snapshot: withPause } }, { ack: 0, digestOf: snapshot(A1, B1) }]),
      ).toEqual([['send 0 +a,b -'], ['nacked 0', 'send 1 replace +a,b -']]);
    });
  });
});
