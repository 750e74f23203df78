import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCsr } from './createCsr.js';
import { createCa, InvalidCsrError, issueCertificate, signCsr } from './issueCertificate.js';
import { importSigningKey } from './keys.js';
import { joinPemBundle, splitPemBundle } from './pem.js';
import { clusterSpiffeId, clusterUidUri, parseClusterIdentity } from './spiffe.js';
import { parseCertificate, verifyCertificate } from './verifyCertificate.js';

const DAY = 86_400_000;
const now = Date.parse('2030-01-01T00:00:00Z');
const uid = '0b7c2a9e-5c1e-4a57-9e5e-2f1d8f0a1b2c';

describe('pki', async () => {
  const ca = await createCa({ commonName: 'relay CA', validityMs: 365 * DAY, now });
  const otherCa = await createCa({ commonName: 'other CA', validityMs: 365 * DAY, now });
  const { csrPem } = await createCsr({ commonName: 'prod' });
  const clientOptions = {
    ca,
    commonName: 'qa',
    usage: 'client' as const,
    uris: [clusterSpiffeId('qa'), clusterUidUri(uid)],
    validityMs: 7 * DAY,
    now,
  };
  const clientPem = await signCsr({ ...clientOptions, csrPem });

  it('signs a CSR with the SANs the signer chooses, not the ones asked for', () => {
    const parsed = parseCertificate(clientPem);
    expect(parsed.subject).toBe('CN=qa');
    expect(parsed.uris).toEqual(['spiffe://kuberelay/cluster/qa', `kuberelay://cluster-uid/${uid}`]);
    expect(parseClusterIdentity(parsed.uris)).toEqual({ cluster: 'qa', uid });
    expect(parsed.notAfter.getTime()).toBe(now + 7 * DAY);
    expect(parsed.issuer).toBe('CN=relay CA');
    // The agent matches its certificate to a CA of the bundle by these (renewalDue).
    expect(parsed.authorityKeyId).toMatch(/^[0-9a-f]+$/i);
    expect(parsed.authorityKeyId).toBe(parseCertificate(ca.certPem).subjectKeyId);
  });

  it('verifies a client certificate against the bundle at a given time', () => {
    const result = verifyCertificate({ certificate: clientPem, bundlePem: ca.certPem, usage: 'client', now });
    expect(result.ok).toBe(true);
  });

  it.each([
    { name: 'expired', bundle: () => ca.certPem, at: now + 8 * DAY, usage: 'client', message: 'expired at' },
    {
      name: 'not yet valid',
      bundle: () => ca.certPem,
      at: now - DAY,
      usage: 'client',
      message: 'not valid before',
    },
    {
      name: 'wrong CA',
      bundle: () => otherCa.certPem,
      at: now,
      usage: 'client',
      message: 'not signed by a trusted',
    },
    { name: 'wrong EKU', bundle: () => ca.certPem, at: now, usage: 'server', message: 'extended key usage' },
  ] as const)('refuses a certificate that is $name', ({ bundle, at, usage, message }) => {
    const result = verifyCertificate({ certificate: clientPem, bundlePem: bundle(), usage, now: at });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0].code).toBe('Unauthenticated');
    expect(result.errors[0].message).toContain(message);
  });

  it('accepts any CA of a bundle (rotation) and refuses a tampered certificate', async () => {
    const bundle = joinPemBundle([otherCa.certPem, ca.certPem, ca.certPem]);
    expect(splitPemBundle(bundle)).toHaveLength(2);
    expect(verifyCertificate({ certificate: clientPem, bundlePem: bundle, usage: 'client', now }).ok).toBe(
      true,
    );
    // Same issuer name and key id, but signed by another key: the signature check catches it.
    const forger = await createCa({ commonName: 'relay CA', validityMs: 365 * DAY, now });
    const forged = await signCsr({
      ...clientOptions,
      ca: { certPem: ca.certPem, keyPem: forger.keyPem },
      csrPem,
    });
    const result = verifyCertificate({ certificate: forged, bundlePem: ca.certPem, usage: 'client', now });
    expect(result.ok).toBe(false);
  });

  it('issues server certificates with DNS and IP SANs and serverAuth', async () => {
    const server = await issueCertificate({
      ca,
      commonName: 'kuberelay-mgmt-server',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      validityMs: 30 * DAY,
      now,
    });
    expect(server.keyPem).toMatch(/PRIVATE KEY/);
    const parsed = parseCertificate(server.certPem);
    expect(parsed.dnsNames).toEqual(['localhost']);
    expect(parsed.ipAddresses).toEqual(['127.0.0.1']);
    expect(
      verifyCertificate({ certificate: server.certPem, bundlePem: ca.certPem, usage: 'server', now }).ok,
    ).toBe(true);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    // Change the subject inside the signed part: the request no longer matches its signature.
    const der = Buffer.from(csrPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('prod'));
    der[at] = 'q'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signCsr({ ...clientOptions, csrPem: tampered })).rejects.toBeInstanceOf(InvalidCsrError);
    await expect(signCsr({ ...clientOptions, csrPem: 'nope' })).rejects.toBeInstanceOf(InvalidCsrError);
  });

  it.each([
    { uris: [clusterSpiffeId('qa')] },
    { uris: [clusterSpiffeId('qa'), clusterSpiffeId('prod'), clusterUidUri(uid)] },
    { uris: [clusterSpiffeId('Not_A_Label'), clusterUidUri(uid)] },
  ])('parseClusterIdentity refuses $uris', ({ uris }) => {
    expect(parseClusterIdentity(uris)).toBeUndefined();
  });
});

describe('importSigningKey', () => {
  it.each([
    ['an EC key on P-521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' })],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519')],
  ])('refuses %s with a configuration error that says what is supported', async (_what, make) => {
    const pem = make().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(importSigningKey(pem)).rejects.toMatchObject({
      code: 'InvalidConfig',
      message: expect.stringMatching(/supported/),
    });
  });
});

describe('issueCertificate subject', () => {
  it('carries O= entries when asked (Kubernetes reads a client certificate groups from them)', async () => {
    const now = Date.UTC(2026, 0, 1);
    const ca = await createCa({ commonName: 'subject-ca', validityMs: 86_400_000, now });
    const admin = await issueCertificate({
      ca,
      commonName: 'lab-admin',
      organizations: ['system:masters'],
      usage: 'client',
      validityMs: 3_600_000,
      now,
    });
    expect(parseCertificate(admin.certPem).subject).toMatch(
      /CN=lab-admin.*O=system:masters|O=system:masters.*CN=lab-admin/,
    );
    const plain = await issueCertificate({
      ca,
      commonName: 'agent',
      usage: 'client',
      validityMs: 3_600_000,
      now,
    });
    expect(parseCertificate(plain.certPem).subject).toBe('CN=agent');
  });
});
