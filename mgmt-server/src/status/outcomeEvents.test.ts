import type { ObjectRef } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { EventReason, type Outcome, OutcomeEvents, reasonForCode } from './outcomeEvents.js';

const route: ObjectRef = {
  group: 'gateway.networking.k8s.io',
  kind: 'HTTPRoute',
  namespace: 'ns',
  name: 'r',
};
const failed = (cluster: string, message = `copy x in cluster ${cluster}: NamespaceNotFound`): Outcome => ({
  source: route,
  reason: EventReason.CopyFailed,
  code: 'NamespaceNotFound',
  message,
  cluster,
});

describe('OutcomeEvents', () => {
  it('records a new outcome once, not on every flush', () => {
    const events = new OutcomeEvents();
    events.setCluster('qa', [failed('qa')]);
    expect(events.flush()).toEqual([
      { source: route, reason: 'CopyFailed', message: 'copy x in cluster qa: NamespaceNotFound' },
    ]);
    expect(events.flush()).toEqual([]);
  });

  it('groups the same outcome of many clusters into one Event naming a few', () => {
    const events = new OutcomeEvents();
    for (let i = 0; i < 1000; i++) events.setCluster(`c${i}`, [failed(`c${i}`)]);
    const due = events.flush();
    expect(due).toHaveLength(1);
    expect(due[0]?.message).toMatch(/^copy x in clusters c0, c1, .* and 990 more: NamespaceNotFound$/);
    expect(due[0]?.message).toContain('and 990 more: NamespaceNotFound');
    // Clusters joining a group that already has an Event add nothing.
    events.setCluster('late', [failed('late')]);
    expect(events.flush()).toEqual([]);
  });

  it('records again once the outcome went away and came back', () => {
    const events = new OutcomeEvents();
    events.setCluster('qa', [failed('qa')]);
    events.flush();
    events.setCluster('qa', []);
    expect(events.flush()).toEqual([]);
    events.setCluster('qa', [failed('qa')]);
    expect(events.flush()).toHaveLength(1);
  });

  it('a changed message is a new outcome', () => {
    const events = new OutcomeEvents();
    events.setDesired([
      {
        source: route,
        reason: EventReason.DistributionInvalid,
        code: 'InvalidAnnotation',
        message: 'bad glob [',
      },
    ]);
    events.flush();
    events.setDesired([
      {
        source: route,
        reason: EventReason.DistributionInvalid,
        code: 'InvalidAnnotation',
        message: 'bad glob {',
      },
    ]);
    expect(events.flush().map((e) => e.message)).toEqual(['bad glob {']);
  });

  it('does not mistake a longer cluster name for the cluster', () => {
    const events = new OutcomeEvents();
    events.setCluster('qa', [failed('qa', 'copy in cluster qa, see qa-2')]);
    events.setCluster('prod', [failed('prod', 'copy in cluster prod, see qa-2')]);
    expect(events.flush()[0]?.message).toBe('copy in clusters prod, qa, see qa-2');
  });
});

describe('reasonForCode', () => {
  it.each([
    ['InvalidAnnotation', 'DistributionInvalid'],
    ['NonUpstreamBackend', 'DistributionInvalid'],
    ['InvalidName', 'DistributionInvalid'],
    ['UnregisteredCluster', 'UnregisteredCluster'],
    ['UnresolvedReference', 'UnresolvedReference'],
    ['AmbiguousReference', 'UnresolvedReference'],
    ['CopyCollision', 'CopyCollision'],
  ])('%s → %s', (code, reason) => {
    expect(reasonForCode(code)).toBe(reason);
  });
});
