import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import { type Rollout, rolloutRevision, sourceRollout, waveOf } from './rollout.js';
import { type ClusterStanding, RolloutPhase, rolloutProgress } from './rolloutProgress.js';

// The rollout annotations (docs/spec.md D10.5): the wave grammar, its limits, the revision a
// rollout is about, and the progress read from what the clusters report.

const source = (annotations: Record<string, string>, spec: object = { a: 1 }): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name: 'u',
    namespace: 'ns',
    annotations: { 'gloo.solo.io/distribute-to': '*/ns', ...annotations },
  },
  spec,
});

function parsed(value: string, soak?: string): Rollout {
  const { rollout, errors } = sourceRollout(
    source({
      'kuberelay.dev/rollout': value,
      ...(soak === undefined ? {} : { 'kuberelay.dev/rollout-soak': soak }),
    }),
  );
  if (rollout === undefined) throw new Error(errors.map((e) => e.message).join('; '));
  return rollout;
}

describe('kuberelay.dev/rollout', () => {
  it('orders clusters into waves: the first wave that names a cluster has it, the rest go last', () => {
    const r = parsed(' canary-* ; prod-eu-*, prod-us-1 ; ', '90s');
    expect(r.text).toBe('canary-*; prod-eu-*, prod-us-1');
    expect(r.soakMs).toBe(90_000);
    expect(['canary-1', 'prod-eu-2', 'prod-us-1', 'prod-ap-1'].map((c) => waveOf(r, c))).toEqual([
      0, 1, 1, 2,
    ]);
    expect(waveOf(parsed('*; canary-*'), 'canary-1')).toBe(0);
  });

  it.each([
    { value: 'a;;b', error: 'wave 2 names no cluster' },
    { value: 'a; !b', error: 'wave 2: "!b" is an exclusion' },
    { value: 'a; {b', error: 'wave 2: "{b"' },
    { value: Array.from({ length: 17 }, (_, i) => `w${i}`).join(';'), error: 'has 17 waves; at most 16' },
    {
      value: Array.from({ length: 65 }, (_, i) => `c${i}`).join(','),
      error: 'has 65 cluster patterns; at most 64',
    },
    { value: 'x'.repeat(2049), error: 'longer than 2048 characters' },
  ])('refuses $value.length characters ($error)', ({ value, error }) => {
    const { rollout, errors } = sourceRollout(source({ 'kuberelay.dev/rollout': value }));
    expect(rollout).toBeUndefined();
    expect(errors.map((e) => e.message).join('\n')).toContain(error);
    expect(errors[0]?.code).toBe('InvalidAnnotation');
  });

  it.each([
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['0', 0],
  ])('reads the soak %s', (soak, ms) => {
    expect(parsed('a', soak).soakMs).toBe(ms);
  });

  it.each([
    ['90', 'is not a duration'],
    ['1.5m', 'is not a duration'],
    ['25h', 'longer than 24h'],
  ])('refuses the soak %s', (soak, error) => {
    const { errors } = sourceRollout(
      source({ 'kuberelay.dev/rollout': 'a', 'kuberelay.dev/rollout-soak': soak }),
    );
    expect(errors[0]?.message).toContain(error);
    const alone = sourceRollout(source({ 'kuberelay.dev/rollout-soak': '1m' }));
    expect(alone.errors[0]?.message).toContain('is set without kuberelay.dev/rollout');
  });

  it('a revision is the content the copies carry: a new selection, pause or resume is none', () => {
    const base = rolloutRevision(source({}));
    expect(rolloutRevision(source({ 'gloo.solo.io/distribute-to': 'other/ns' }))).toBe(base);
    expect(
      rolloutRevision(source({ 'kuberelay.dev/rollout-resume': 'x', 'kuberelay.dev/paused': 'true' })),
    ).toBe(base);
    expect(rolloutRevision(source({}, { a: 2 }))).not.toBe(base);
    expect(rolloutRevision(source({ team: 'edge' }))).not.toBe(base);
  });
});

describe('rolloutProgress', () => {
  const r = parsed('canary-*; prod-*', '60s');
  const clusters = ['canary-1', 'prod-1', 'prod-2'];
  const progress = (
    standings: Record<string, ClusterStanding>,
    more: {
      now?: number;
      completedAt?: Map<number, number>;
      admittedBefore?: number;
      resumed?: boolean;
    } = {},
  ) =>
    rolloutProgress({
      rollout: r,
      clusters,
      standing: (c) => standings[c] ?? { state: 'pending' },
      completedAt: more.completedAt ?? new Map(),
      admittedBefore: more.admittedBefore ?? 0,
      resumed: more.resumed ?? false,
      now: more.now ?? 1_000,
    });
  const applied = { state: 'applied' } as const;

  it('the first wave first; the next after every cluster of it applied and the soak passed', () => {
    expect(progress({})).toMatchObject({
      admitted: 1,
      phase: RolloutPhase.rolling,
      reason: 'wave 1 of 2: waiting for canary-1 to apply it',
    });
    const soaking = progress({ 'canary-1': applied });
    expect(soaking).toMatchObject({ admitted: 1, phase: RolloutPhase.soaking, soakUntil: 61_000 });
    const after = progress(
      { 'canary-1': applied },
      { now: 61_000, completedAt: new Map(soaking.completedAt) },
    );
    expect(after).toMatchObject({ admitted: 2, phase: RolloutPhase.rolling, wave: 1 });
    expect(
      progress(
        { 'canary-1': applied, 'prod-1': applied, 'prod-2': applied },
        { now: 61_000, completedAt: new Map(soaking.completedAt) },
      ),
    ).toMatchObject({
      // Complete: every wave, the implicit last one too, has it.
      admitted: 3,
      phase: RolloutPhase.complete,
    });
  });

  it('a failure halts the wave it is in until resumed; a disconnected cluster holds it', () => {
    const failed = { state: 'failed', message: 'NamespaceNotFound' } as const;
    expect(progress({ 'canary-1': failed })).toMatchObject({
      admitted: 1,
      phase: RolloutPhase.halted,
      reason: 'wave 1 of 2: canary-1 failed: NamespaceNotFound',
    });
    expect(progress({ 'canary-1': failed }, { resumed: true })).toMatchObject({
      phase: RolloutPhase.soaking,
    });
    expect(progress({ 'canary-1': { state: 'disconnected' } })).toMatchObject({
      phase: RolloutPhase.holding,
      reason: 'wave 1 of 2: canary-1 is not connected',
    });
  });

  it('never takes back a wave the revision reached: a later failure in an earlier wave does not hold the next', () => {
    const p = progress({ 'canary-1': { state: 'failed', message: 'x' } }, { admittedBefore: 2 });
    expect(p).toMatchObject({ admitted: 2, phase: RolloutPhase.rolling, wave: 1 });
  });
});
