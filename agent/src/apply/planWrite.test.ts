import type { KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { AGENT, receivedCopyOf, upstreamCopyObject } from './copies.testkit.js';
import { type Judgment, planWrite, storedDifference, type WritePlan, wouldChange } from './planWrite.js';
import type { ReceivedCopy } from './receivedCopy.js';

const HASH = 'h2';
const object = upstreamCopyObject;
const copyOf = (o: KubeObject, overwrite = false): ReceivedCopy =>
  receivedCopyOf(o, { hash: HASH, overwrite });

/** The live object: the copy as written with `hash`, changed by `patch`. */
function live(patch: { hash?: string | null; spec?: unknown; annotations?: Record<string, string> } = {}) {
  const annotations: Record<string, string> = {
    ...(patch.annotations ?? object.metadata.annotations),
    ...(patch.hash === null ? {} : { 'kuberelay.dev/copy-hash': patch.hash ?? HASH }),
  };
  return {
    ...object,
    metadata: { ...object.metadata, annotations, resourceVersion: '7', uid: 'u1' },
    spec: patch.spec ?? object.spec,
  };
}

const judged = (over: Partial<Judgment> = {}): Judgment => ({
  hash: HASH,
  resourceVersion: '7',
  schema: '3',
  difference: { pruned: ['spec.static.hosts[0].port'], changed: [] },
  ...over,
});
const portPruned = { static: { hosts: [{ addr: 'a.example.com' }] } };

describe('planWrite', () => {
  it.each<{
    name: string;
    live: KubeObject | undefined;
    copy?: ReceivedCopy;
    judged?: Judgment;
    schema?: string;
    plan: WritePlan['action'];
    reason?: string;
  }>([
    { name: 'missing: create', live: undefined, plan: 'create' },
    { name: 'in sync, hash current: nothing', live: live(), plan: 'none' },
    {
      name: 'the source removed a field: the hash tells, though live ⊇ desired',
      live: live({ hash: 'h1', spec: { ...(object.spec as object), timeout: '5s' } }),
      plan: 'update',
      reason: 'DesiredChanged',
    },
    {
      name: 'written by an agent before copy hashes: replaced once',
      live: live({ hash: null }),
      plan: 'update',
      reason: 'DesiredChanged',
    },
    {
      name: 'someone edited a field after our write: verify, then write',
      live: live({ spec: { static: { hosts: [{ addr: 'evil', port: 80 }] } } }),
      plan: 'verify',
    },
    {
      name: 'judged at this resourceVersion, hash and schema: nothing, not even a dry-run',
      live: live({ spec: portPruned }),
      judged: judged(),
      schema: '3',
      plan: 'none',
    },
    {
      name: 'judged, but the object changed since: verify again',
      live: { ...live({ spec: portPruned }), metadata: { ...live().metadata, resourceVersion: '8' } },
      judged: judged(),
      schema: '3',
      plan: 'verify',
    },
    {
      name: 'stored exactly at our last write, changed since by someone: write at once (no dry-run)',
      live: { ...live({ spec: portPruned }), metadata: { ...live().metadata, resourceVersion: '8' } },
      judged: judged({ difference: undefined }),
      schema: '3',
      plan: 'update',
      reason: 'Drift',
    },
    {
      name: 'judged, but the workload schema changed since: verify again',
      live: live({ spec: portPruned }),
      judged: judged(),
      schema: '4',
      plan: 'verify',
    },
    {
      name: 'judged for an older desired copy: the new one is written',
      live: live({ hash: 'h1', spec: portPruned }),
      judged: judged({ hash: 'h1' }),
      schema: '3',
      plan: 'update',
      reason: 'DesiredChanged',
    },
    {
      name: 'not ours: conflict',
      live: live({ annotations: {} }),
      plan: 'conflict',
    },
    {
      name: 'not ours, the source says overwrite: take over',
      live: live({
        annotations: { 'gloo.solo.io/distributed-source': 'gloo://other/ns/x/kind/Upstream/name/u' },
      }),
      copy: copyOf(object, true),
      plan: 'update',
      reason: 'TakeOver',
    },
  ])('$name', ({ live: liveObject, copy, judged: judgment, schema, plan, reason }) => {
    const result = planWrite({
      copy: copy ?? copyOf(object),
      live: liveObject,
      fieldManager: AGENT,
      schema,
      judged: judgment,
    });
    expect(result.action).toBe(plan);
    if (reason !== undefined) expect(result).toMatchObject({ reason });
  });

  it('returns the judged difference when nothing changed, so the warning stays reported', () => {
    const difference = { pruned: ['spec.static.hosts[0].port'], changed: [] };
    const plan = planWrite({
      copy: copyOf(object),
      live: live({ spec: portPruned }),
      fieldManager: AGENT,
      schema: '3',
      judged: judged({ difference }),
    });
    expect(plan).toEqual({ action: 'none', difference });
  });
});

describe('storedDifference', () => {
  it('names fields the server dropped and fields it stored with other values', () => {
    const stored = live({ spec: { static: { hosts: [{ addr: 'A.EXAMPLE.COM' }] } } });
    expect(storedDifference(object, stored, AGENT)).toEqual({
      pruned: ['spec.static.hosts[0].port'],
      changed: ['spec.static.hosts[0].addr'],
    });
  });

  it('is undefined when the server stored the copy (defaults added are no difference)', () => {
    const stored = live({ spec: { static: { hosts: [{ addr: 'a.example.com', port: 80, weight: 1 }] } } });
    expect(storedDifference(object, stored, AGENT)).toBeUndefined();
  });
});

describe('wouldChange', () => {
  it('ignores status and server-owned metadata', () => {
    const dryRun = {
      ...live(),
      metadata: { ...live().metadata, resourceVersion: '8', managedFields: [{ manager: 'x' }] },
      status: { x: 1 },
    };
    expect(wouldChange(live(), dryRun)).toBe(false);
  });

  it.each([
    ['a spec field', { ...live(), spec: portPruned }],
    ['a label', { ...live(), metadata: { ...live().metadata, labels: {} } }],
    ['an annotation', live({ hash: 'h3' })],
  ])('sees %s', (_what, dryRun) => {
    expect(wouldChange(live(), dryRun)).toBe(true);
  });
});
