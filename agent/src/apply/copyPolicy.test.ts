import type { KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { paused } from './applyOutcome.js';
import { AGENT, receivedCopyOf, upstreamCopyObject } from './copies.testkit.js';
import { findDrift } from './findDrift.js';
import { planWrite } from './planWrite.js';
import { replacementBody } from './writeBodies.js';

// The agent's side of a source's policy (docs/spec.md §10): a paused copy is never written, only
// described; ignored fields are neither drift nor overwritten.

const HASH = 'h2';
const object = upstreamCopyObject;

function live(patch: { hash?: string; spec?: unknown; labels?: Record<string, string> } = {}): KubeObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, ...patch.labels },
      annotations: { ...object.metadata.annotations, 'kuberelay.dev/copy-hash': patch.hash ?? HASH },
      resourceVersion: '7',
    },
    spec: patch.spec ?? object.spec,
  };
}

const pausedCopy = receivedCopyOf(object, { hash: HASH, policy: { paused: true } });
const planOf = (copy: typeof pausedCopy, current: KubeObject | undefined) =>
  planWrite({ copy, live: current, fieldManager: AGENT, schema: undefined, judged: undefined });

describe('a paused copy', () => {
  it.each<{ name: string; live: KubeObject | undefined; state: string; says: string }>([
    { name: 'in sync', live: live(), state: 'current', says: 'the copy in the cluster is current' },
    { name: 'missing', live: undefined, state: 'missing', says: 'not created while paused' },
    {
      name: 'from an older source',
      live: live({ hash: 'h1' }),
      state: 'behind',
      says: 'not updated while paused',
    },
    {
      name: 'edited by someone',
      live: live({ spec: { static: { hosts: [{ addr: 'evil.example.com', port: 80 }] } } }),
      state: 'drifted',
      says: 'differs from its source in spec.static.hosts[0].addr (not reverted while paused)',
    },
    {
      name: 'in the way of a foreign object',
      live: { ...object, metadata: { name: 'u', namespace: 'apps' } },
      state: 'conflict',
      says: 'not distributed by the relay',
    },
  ])('$name: nothing to write, and the result says "$says"', ({ live: current, state, says }) => {
    const plan = planOf(pausedCopy, current);
    expect(plan).toMatchObject({ action: 'paused', state });
    if (plan.action !== 'paused') throw new Error('unreachable');
    const outcome = paused(pausedCopy, plan);
    expect(outcome.wrote).toBeUndefined();
    expect(outcome.result).toMatchObject({ outcome: 'Paused', code: 'Paused' });
    expect(outcome.result.message).toContain(
      'kuberelay.dev/paused is "true" on the source: nothing is written',
    );
    expect(outcome.result.message).toContain(says);
  });

  it('the same copy unpaused is written in each of those cases', () => {
    const plain = receivedCopyOf(object, { hash: HASH });
    expect(planOf(plain, undefined).action).toBe('create');
    expect(planOf(plain, live({ hash: 'h1' })).action).toBe('update');
  });
});

describe('ignored fields', () => {
  const ignoring = receivedCopyOf(object, {
    hash: HASH,
    policy: { ignoreFields: ['spec.static.hosts[*].port', 'metadata.labels["team"]', 'spec.replicas'] },
  });
  const edited = live({
    spec: { static: { hosts: [{ addr: 'a.example.com', port: 9090 }] }, replicas: 3 },
    labels: { team: 'edge' },
  });

  it('are not drift', () => {
    expect(findDrift(ignoring.object, edited, { fieldManager: AGENT, ignored: ignoring.ignored })).toEqual(
      [],
    );
    expect(findDrift(ignoring.object, edited, { fieldManager: AGENT }).map((d) => d.path)).toEqual([
      'spec.static.hosts[0].port',
    ]);
    expect(planOf(ignoring, edited)).toEqual({ action: 'none', difference: undefined });
  });

  it('keep their live values through a replace made for another reason', () => {
    const body = replacementBody(ignoring, { ...edited, metadata: { ...edited.metadata } }, AGENT);
    expect(body.spec).toEqual({ static: { hosts: [{ addr: 'a.example.com', port: 9090 }] }, replicas: 3 });
    expect(body.metadata.labels).toEqual({ 'relay.solo.io/cluster': 'mgmt', team: 'edge' });
    // Without the policy the same replace writes the source's values.
    const plain = receivedCopyOf(object, { hash: HASH });
    expect(replacementBody(plain, edited, AGENT).spec).toEqual(object.spec);
  });
});
