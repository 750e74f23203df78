import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEASE_TIMINGS,
  decideLease,
  type LeaseDecision,
  type LeaseDecisionInput,
  type LeaseRecord,
  mayStillLead,
  observe,
  validateLeaseTimings,
} from './leaseDecision.js';

const SELF = 'agent-a_1';
const OTHER = 'agent-b_2';
const T = DEFAULT_LEASE_TIMINGS; // 10 s, 7 s, 2 s
const NOW = 1_000_000;

const lease = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: OTHER,
  leaseDurationSeconds: 10,
  renewTime: '2026-01-01T00:00:00.000000Z',
  leaseTransitions: 3,
  resourceVersion: '42',
  ...over,
});

const input = (over: Partial<LeaseDecisionInput>): LeaseDecisionInput => ({
  read: { kind: 'found', record: lease() },
  self: SELF,
  now: NOW,
  timings: T,
  observed: undefined,
  renewedAt: undefined,
  ...over,
});

const seen = (msAgo: number) => ({ key: 'k', observedAt: NOW - msAgo });

describe('decideLease', () => {
  it.each<[string, Partial<LeaseDecisionInput>, LeaseDecision]>([
    ['no Lease: create it', { read: { kind: 'missing' } }, { action: 'create' }],
    [
      'another holder, renewed just now: stand by until it could expire (at most a retry period)',
      { observed: seen(0) },
      { action: 'standBy', retryInMs: 2_000, holder: OTHER },
    ],
    [
      'another holder seen unchanged for 9 s: look again at its expiry, in 1 s',
      { observed: seen(9_000) },
      { action: 'standBy', retryInMs: 1_000, holder: OTHER },
    ],
    [
      'another holder seen unchanged for 9.999 s: not yet expired',
      { observed: seen(9_999) },
      { action: 'standBy', retryInMs: 1, holder: OTHER },
    ],
    [
      'another holder seen unchanged for exactly its duration: expired, take it (transitions + 1)',
      { observed: seen(10_000) },
      { action: 'acquire', leaseTransitions: 4, resourceVersion: '42' },
    ],
    [
      "the holder's own duration counts, not ours: 30 s Lease seen 12 s ago is valid",
      { read: { kind: 'found', record: lease({ leaseDurationSeconds: 30 }) }, observed: seen(12_000) },
      { action: 'standBy', retryInMs: 2_000, holder: OTHER },
    ],
    [
      'first sight of a Lease (no observation): a full duration from now, whatever renewTime says',
      { read: { kind: 'found', record: lease({ renewTime: '2001-01-01T00:00:00.000000Z' }) } },
      { action: 'standBy', retryInMs: 2_000, holder: OTHER },
    ],
    [
      'released (no holder): take it at once',
      { read: { kind: 'found', record: lease({ holderIdentity: '' }) }, observed: seen(0) },
      { action: 'acquire', leaseTransitions: 4, resourceVersion: '42' },
    ],
    [
      'we lead, renewed 2 s ago: renew with the read resourceVersion',
      { read: { kind: 'found', record: lease({ holderIdentity: SELF }) }, renewedAt: NOW - 2_000 },
      { action: 'renew', leaseTransitions: 3, resourceVersion: '42' },
    ],
    [
      'we lead, last renewal 6.999 s ago: still renew',
      { read: { kind: 'found', record: lease({ holderIdentity: SELF }) }, renewedAt: NOW - 6_999 },
      { action: 'renew', leaseTransitions: 3, resourceVersion: '42' },
    ],
    [
      'we lead, last renewal 7 s ago (the renew deadline): step down, even though the Lease names us',
      { read: { kind: 'found', record: lease({ holderIdentity: SELF }) }, renewedAt: NOW - 7_000 },
      { action: 'stepDown', reason: 'no successful renewal for 7000ms (renew deadline 7000ms)' },
    ],
    [
      'we lead and cannot read the Lease: keep trying until the deadline',
      { read: { kind: 'unreadable' }, renewedAt: NOW - 1_000 },
      { action: 'retry', retryInMs: 2_000 },
    ],
    [
      'we lead and cannot read the Lease, 0.5 s before the deadline: try again at the deadline',
      { read: { kind: 'unreadable' }, renewedAt: NOW - 6_500 },
      { action: 'retry', retryInMs: 500 },
    ],
    [
      'we lead and cannot read it past the deadline: step down',
      { read: { kind: 'unreadable' }, renewedAt: NOW - 8_000 },
      { action: 'stepDown', reason: 'no successful renewal for 8000ms (renew deadline 7000ms)' },
    ],
    [
      'we lead but the Lease names another: step down',
      { renewedAt: NOW - 1_000 },
      { action: 'stepDown', reason: `the leader Lease is held by ${OTHER}` },
    ],
    [
      'we lead but the Lease was deleted: step down (never re-create under someone)',
      { read: { kind: 'missing' }, renewedAt: NOW - 1_000 },
      { action: 'stepDown', reason: 'the leader Lease was deleted' },
    ],
    [
      'a standby that cannot read: stand by',
      { read: { kind: 'unreadable' } },
      { action: 'standBy', retryInMs: 2_000, holder: '' },
    ],
    [
      'the Lease names this process but it does not lead (stepped down): wait for expiry like anyone',
      { read: { kind: 'found', record: lease({ holderIdentity: SELF }) }, observed: seen(3_000) },
      { action: 'standBy', retryInMs: 2_000, holder: SELF },
    ],
  ])('%s', (_what, over, expected) => {
    expect(decideLease(input(over))).toEqual(expected);
  });
});

describe('observe', () => {
  const found = (record: LeaseRecord) => ({ kind: 'found', record }) as const;
  it.each<[string, Parameters<typeof observe>, number | undefined]>([
    ['first read: observed now', [undefined, found(lease()), NOW], NOW],
    [
      'unchanged record: keeps the first time it was seen',
      [observe(undefined, found(lease()), NOW - 5_000), found(lease({ resourceVersion: '43' })), NOW],
      NOW - 5_000,
    ],
    [
      'renewed (renewTime moved): observed now',
      [observe(undefined, found(lease()), NOW - 5_000), found(lease({ renewTime: 'later' })), NOW],
      NOW,
    ],
    [
      'taken over (holder changed): observed now',
      [observe(undefined, found(lease()), NOW - 5_000), found(lease({ holderIdentity: 'c' })), NOW],
      NOW,
    ],
    ['unreadable: keeps what was seen', [{ key: 'k', observedAt: 7 }, { kind: 'unreadable' }, NOW], 7],
    ['missing: nothing seen', [{ key: 'k', observedAt: 7 }, { kind: 'missing' }, NOW], undefined],
  ])('%s', (_what, args, observedAt) => {
    expect(observe(...args)?.observedAt).toBe(observedAt);
  });
});

describe('mayStillLead', () => {
  it.each<[string, number | undefined, boolean]>([
    ['never led', undefined, false],
    ['renewed 1 s ago', NOW - 1_000, true],
    ['renewed 6.999 s ago', NOW - 6_999, true],
    ['renewed 7 s ago (deadline)', NOW - 7_000, false],
  ])('%s', (_what, renewedAt, expected) => {
    expect(mayStillLead(renewedAt, NOW, T)).toBe(expected);
  });
});

describe('validateLeaseTimings', () => {
  it.each<[string, Parameters<typeof validateLeaseTimings>[0], string[]]>([
    ['the defaults', T, []],
    [
      'deadline not shorter than the duration',
      { leaseDurationMs: 7_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 },
      [
        '--leader-elect-lease-duration (7s) must be longer than --leader-elect-renew-deadline (7s): a leader must stop writing before a standby may take over',
      ],
    ],
    [
      'retry not shorter than the deadline',
      { leaseDurationMs: 10_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 },
      [
        '--leader-elect-renew-deadline (2s) must be longer than --leader-elect-retry-period (2s): the leader needs more than one try to renew',
      ],
    ],
    [
      'a duration in fractions of a second',
      { leaseDurationMs: 10_500, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 },
      ['--leader-elect-lease-duration must be whole seconds (the Lease stores seconds)'],
    ],
  ])('%s', (_what, timings, errors) => {
    expect(validateLeaseTimings(timings)).toEqual(errors);
  });
});
