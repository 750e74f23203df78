import { describe, expect, it } from 'vitest';
import type { CaFacts, CertificateFacts } from './certificateFacts.js';
import { RenewalReason, renewalDue } from './renewalDue.js';

const HOUR = 3_600_000;
const cert = (over: Partial<CertificateFacts> = {}): CertificateFacts => ({
  notBefore: 0,
  notAfter: 100 * HOUR,
  issuer: 'CN=relay-ca-1',
  authorityKeyId: 'aa01',
  uris: [],
  ...over,
});
const ca1: CaFacts = { subject: 'CN=relay-ca-1', subjectKeyId: 'aa01' };
const ca2: CaFacts = { subject: 'CN=relay-ca-2', subjectKeyId: 'bb02' };
// A rotation may reuse the subject name: the key identifier tells the CAs apart.
const ca1Rekeyed: CaFacts = { subject: 'CN=relay-ca-1', subjectKeyId: 'cc03' };

describe('renewalDue', () => {
  it.each([
    { name: 'fresh certificate', now: 10 * HOUR, bundle: [ca1], expected: { due: false, atMs: 66 * HOUR } },
    {
      name: 'just before the fraction',
      now: 66 * HOUR - 1,
      bundle: [ca1],
      expected: { due: false, atMs: 66 * HOUR },
    },
    {
      name: 'at the fraction',
      now: 66 * HOUR,
      bundle: [ca1],
      expected: { due: true, reason: RenewalReason.Lifetime },
    },
    {
      name: 'expired',
      now: 200 * HOUR,
      bundle: [ca1],
      expected: { due: true, reason: RenewalReason.Lifetime },
    },
    {
      name: 'issuer dropped from the bundle',
      now: 10 * HOUR,
      bundle: [ca2],
      expected: { due: true, reason: RenewalReason.IssuerNotSigning },
    },
    {
      name: 'rotation begun: the issuer still signs (first), the next CA is trusted too',
      now: 10 * HOUR,
      bundle: [ca1, ca2],
      expected: { due: false, atMs: 66 * HOUR },
    },
    {
      name: 'rotation switched: another CA signs now, the issuer is still trusted',
      now: 10 * HOUR,
      bundle: [ca2, ca1],
      expected: { due: true, reason: RenewalReason.IssuerNotSigning },
    },
    {
      name: 'same subject, other key: not the issuer',
      now: 10 * HOUR,
      bundle: [ca1Rekeyed],
      expected: { due: true, reason: RenewalReason.IssuerNotSigning },
    },
    {
      name: 'unknown bundle is no reason',
      now: 10 * HOUR,
      bundle: [],
      expected: { due: false, atMs: 66 * HOUR },
    },
  ])('$name', ({ now, bundle, expected }) => {
    expect(renewalDue({ cert: cert(), now, fraction: 0.66, bundleIssuers: bundle })).toEqual(expected);
  });

  it('matches by name when key identifiers are missing', () => {
    const noKeyIds = cert({ authorityKeyId: undefined });
    const facts = { cert: noKeyIds, now: HOUR, fraction: 0.5 };
    expect(renewalDue({ ...facts, bundleIssuers: [{ subject: 'CN=relay-ca-1' }] }).due).toBe(false);
    expect(renewalDue({ ...facts, bundleIssuers: [{ subject: 'CN=other' }] })).toEqual({
      due: true,
      reason: RenewalReason.IssuerNotSigning,
    });
  });

  it('counts the fraction from notBefore', () => {
    const later = cert({ notBefore: 1_000 * HOUR, notAfter: 1_010 * HOUR });
    expect(renewalDue({ cert: later, now: 1_004 * HOUR, fraction: 0.5, bundleIssuers: [ca1] })).toEqual({
      due: false,
      atMs: 1_005 * HOUR,
    });
  });
});
