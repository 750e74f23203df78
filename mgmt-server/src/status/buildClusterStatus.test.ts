import { CopyOutcome } from '@kuberelay/proto';
import { type ClusterCopies, DEFAULT_POLICY, type DesiredCopy } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { type AgentState, buildClusterStatus } from './buildClusterStatus.js';
import { replicasOf } from './clusterStatusReporter.js';

const copy = (key: string, hash = `h-${key}`): DesiredCopy => ({
  key,
  cluster: 'qa',
  source: { group: 'g', kind: 'K', namespace: 'ns', name: key },
  object: {
    apiVersion: 'g/v1',
    kind: 'K',
    metadata: {
      name: key,
      annotations: { 'gloo.solo.io/distributed-source': `gloo://mgmt/ns/ns/kind/K/name/${key}` },
    },
  },
  hash,
  overwrite: false,
  policy: DEFAULT_POLICY,
});

const agent = (overrides: Partial<AgentState> = {}): AgentState => ({
  connected: true,
  agentVersion: '1.0',
  agentPod: 'agent-0',
  connectedAt: 500,
  agentReplicas: 2,
  lastHeartbeatAt: 0,
  sentVersion: 7,
  ackedVersion: 7,
  ackedDigest: 'd',
  results: new Map(),
  lastRejected: undefined,
  ...overrides,
});

const copies = (n: number): ClusterCopies =>
  new Map(Array.from({ length: n }, (_, i) => copy(`k${String(i).padStart(4, '0')}`)).map((c) => [c.key, c]));

describe('buildClusterStatus', () => {
  it('counts outcomes for the current content; stale results are pending; failures first', () => {
    const desired = copies(3);
    const results = new Map([
      [
        'k0000',
        { key: 'k0000', hash: 'h-k0000', outcome: CopyOutcome.COPY_OUTCOME_APPLIED, code: '', message: '' },
      ],
      [
        'k0001',
        { key: 'k0001', hash: 'old', outcome: CopyOutcome.COPY_OUTCOME_APPLIED, code: '', message: '' },
      ],
      [
        'k0002',
        {
          key: 'k0002',
          hash: 'h-k0002',
          outcome: CopyOutcome.COPY_OUTCOME_FAILED,
          code: 'NamespaceNotFound',
          message: 'no ns',
        },
      ],
    ]);
    const status = buildClusterStatus({
      agent: agent({ results }),
      desired: { copies: desired, digest: 'd' },
      serverPod: 'gloo-mesh/s-0',
      serverInstance: 's-0/a1',
      distributionEnabled: true,
      now: Date.UTC(2025, 0, 1),
      previousConditions: undefined,
    });
    expect(status.counts).toEqual({
      applied: 1,
      failed: 1,
      conflict: 0,
      drifted: 0,
      paused: 0,
      pending: 1,
      warnings: 0,
      notPruned: 0,
    });
    expect(status.copies.map((c) => [c.key, c.outcome])).toEqual([
      ['k0002', 'Failed'],
      ['k0001', 'Pending'],
      ['k0000', 'Applied'],
    ]);
    expect(status.copies[0]).toMatchObject({
      code: 'NamespaceNotFound',
      message: 'no ns',
      source: expect.stringMatching(/^gloo:\/\//),
    });
    expect(status).toMatchObject({
      connected: true,
      connectedPod: 'gloo-mesh/s-0',
      sentVersion: '7',
      ackedVersion: '7',
    });
    expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Connected', 'True', 'AgentConnected'],
      ['UpToDate', 'True', 'Acknowledged'],
    ]);
  });

  it('counts an applied copy with a warning as applied and as a warning, listed before plain ones with its reason', () => {
    const desired = copies(2);
    const results = new Map([
      [
        'k0000',
        { key: 'k0000', hash: 'h-k0000', outcome: CopyOutcome.COPY_OUTCOME_APPLIED, code: '', message: '' },
      ],
      [
        'k0001',
        {
          key: 'k0001',
          hash: 'h-k0001',
          outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
          code: 'FieldsPrunedByWorkloadSchema',
          message: "the workload cluster's schema dropped spec.rules[0].timeouts",
        },
      ],
    ]);
    const status = buildClusterStatus({
      agent: agent({ results }),
      desired: { copies: desired, digest: 'd' },
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 0,
      previousConditions: undefined,
    });
    expect(status.counts).toEqual({
      applied: 2,
      failed: 0,
      conflict: 0,
      drifted: 0,
      paused: 0,
      pending: 0,
      warnings: 1,
      notPruned: 0,
    });
    expect(status.copies).toEqual([
      expect.objectContaining({
        key: 'k0001',
        outcome: 'Applied',
        code: 'FieldsPrunedByWorkloadSchema',
        message: "the workload cluster's schema dropped spec.rules[0].timeouts",
      }),
      expect.not.objectContaining({ code: expect.anything() }),
    ]);
  });

  it('bounds copies at 500 while counts cover all', () => {
    const status = buildClusterStatus({
      agent: agent(),
      desired: { copies: copies(600), digest: 'x' },
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 0,
      previousConditions: undefined,
    });
    expect(status.copies).toHaveLength(500);
    expect(status.counts.pending).toBe(600);
    expect(status.conditions[1]).toMatchObject({ status: 'False', reason: 'VersionPending' });
  });

  it('keeps lastTransitionTime while a condition holds, and says disconnected', () => {
    const first = buildClusterStatus({
      agent: agent(),
      desired: undefined,
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 1_000,
      previousConditions: undefined,
    });
    const later = buildClusterStatus({
      agent: agent({ connected: false }),
      desired: undefined,
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 60_000,
      previousConditions: first.conditions,
    });
    // The stream's start names the newer holder when two replicas believe they hold one.
    expect(first).toMatchObject({ connectedSince: '1970-01-01T00:00:00.500Z', serverInstance: 'p/a1' });
    expect(later).toMatchObject({
      connected: false,
      connectedPod: '',
      serverInstance: '',
      connectedSince: '',
    });
    expect(later.conditions[0]?.lastTransitionTime).toBe('1970-01-01T00:01:00Z');
    expect(later.conditions[1]?.lastTransitionTime).toBe('1970-01-01T00:00:01Z');
  });

  it.each<[string, Partial<AgentState>, number]>([
    ['connected: the count its leader said', { agentReplicas: 2 }, 2],
    ['connected, one replica', { agentReplicas: 1 }, 1],
    ['disconnected: none known alive', { connected: false, agentReplicas: 2 }, 0],
  ])('agentReplicas, %s', (_what, overrides, expected) => {
    const status = buildClusterStatus({
      agent: agent(overrides),
      desired: undefined,
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 0,
      previousConditions: undefined,
    });
    expect(status.agentReplicas).toBe(expected);
  });

  it.each<[string, number | undefined, number | undefined]>([
    ['not said (an agent without leader election)', undefined, undefined],
    ['0 from the wire: not said either', 0, undefined],
    ['two', 2, 2],
    ['an absurd count is bounded', 4_000_000_000, 10_000],
  ])('replicasOf: %s', (_what, said, expected) => {
    expect(replicasOf(said)).toBe(expected);
  });

  it('lists an orphan the agent could not delete, and counts it apart, until it is reported removed', () => {
    const orphan = {
      key: 'gone',
      hash: 'h-gone',
      outcome: CopyOutcome.COPY_OUTCOME_FAILED,
      code: 'PruneFailed',
      message: 'its source no longer wants it, but deleting it failed (retrying): 403 Forbidden',
    };
    const status = buildClusterStatus({
      agent: agent({ results: new Map([['gone', orphan]]) }),
      desired: { copies: copies(1), digest: 'd' },
      serverPod: 'p',
      serverInstance: 'p/a1',
      distributionEnabled: true,
      now: 0,
      previousConditions: undefined,
    });
    expect(status.counts).toEqual({
      applied: 0,
      failed: 0,
      conflict: 0,
      drifted: 0,
      paused: 0,
      pending: 1,
      warnings: 0,
      notPruned: 1,
    });
    expect(status.copies[0]).toEqual({
      key: 'gone',
      outcome: 'Failed',
      code: 'PruneFailed',
      message: orphan.message,
    });
  });
});
