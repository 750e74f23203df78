import { X509Certificate } from 'node:crypto';
import {
  clusterSpiffeId,
  clusterUidUri,
  createCa,
  createCsr,
  signCsr,
  verifyCertificate,
} from '@kuberelay/shared/pki';
import { describe, expect, it } from 'vitest';
import { CertificateAuthenticator } from './certificateAuthenticator.js';

const DAY = 86_400_000;
const now = Date.parse('2030-01-01T00:00:00Z');

describe('CertificateAuthenticator', async () => {
  const ca = await createCa({ commonName: 'relay', validityMs: 365 * DAY, now });
  const other = await createCa({ commonName: 'other', validityMs: 365 * DAY, now });
  const { csrPem } = await createCsr({ commonName: 'x' });
  const der = async (options: { signer?: typeof ca; uris?: string[]; usage?: 'client' | 'server' }) =>
    new Uint8Array(
      new X509Certificate(
        await signCsr({
          ca: options.signer ?? ca,
          csrPem,
          commonName: 'qa',
          usage: options.usage ?? 'client',
          uris: options.uris ?? [clusterSpiffeId('qa'), clusterUidUri('uid-1')],
          validityMs: 7 * DAY,
          now,
        }),
      ).raw,
    );
  let clock = now;
  const registered = new Map([['qa', 'uid-1']]);
  const auth = new CertificateAuthenticator({
    bundlePem: () => ca.certPem,
    clusterUid: (cluster) => registered.get(cluster),
    clock: { now: () => clock, sleep: async () => {} },
  });
  const as = (peerCertificate: Uint8Array | undefined) =>
    auth.authenticate({ peer: 'p', ...(peerCertificate ? { peerCertificate } : {}) });

  it('reads cluster and uid from the certificate', async () => {
    expect(as(await der({}))).toEqual({ ok: true, value: { cluster: 'qa', uid: 'uid-1' } });
  });

  it.each([
    {
      name: 'no certificate',
      make: async () => undefined,
      code: 'Unauthenticated',
      message: 'no client certificate',
    },
    {
      name: 'another CA',
      make: () => der({ signer: other }),
      code: 'Unauthenticated',
      message: 'not signed by a trusted',
    },
    {
      name: 'a server certificate',
      make: () => der({ usage: 'server' }),
      code: 'Unauthenticated',
      message: 'extended key usage',
    },
    {
      name: 'no cluster identity',
      make: () => der({ uris: [] }),
      code: 'Unauthenticated',
      message: 'no kuberelay cluster identity',
    },
    {
      name: 'an unregistered cluster',
      make: () => der({ uris: [clusterSpiffeId('prod'), clusterUidUri('uid-9')] }),
      code: 'PermissionDenied',
      message: 'not registered',
    },
    {
      name: 'an earlier registration (other uid)',
      make: () => der({ uris: [clusterSpiffeId('qa'), clusterUidUri('uid-0')] }),
      code: 'PermissionDenied',
      message: 'earlier registration',
    },
  ])('refuses $name', async ({ make, code, message }) => {
    const result = as(await make());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0].code).toBe(code);
    expect(result.errors[0].message).toContain(message);
  });

  it('refuses the certificate once it expired (checked at the injected clock)', async () => {
    const cert = await der({});
    clock = now + 8 * DAY;
    const result = as(cert);
    clock = now;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0].message).toContain('expired at');
  });

  describe('verifies each certificate once per trust bundle', () => {
    let bundle = ca.certPem;
    let verifications = 0;
    const counting = new CertificateAuthenticator({
      bundlePem: () => bundle,
      clusterUid: (cluster) => registered.get(cluster),
      clock: { now: () => clock, sleep: async () => {} },
      verify: (options) => {
        verifications += 1;
        return verifyCertificate(options);
      },
    });
    const check = (peerCertificate: Uint8Array) => counting.authenticate({ peer: 'p', peerCertificate });

    it('and not again at every heartbeat of the stream that presents it', async () => {
      const cert = await der({});
      verifications = 0;
      for (let beat = 0; beat < 5; beat++) expect(check(cert).ok).toBe(true);
      expect(verifications).toBe(1);
    });

    it('still refuses it once it expired, and once its cluster is registered again', async () => {
      const cert = await der({});
      expect(check(cert).ok).toBe(true);
      clock = now + 8 * DAY;
      const expired = check(cert);
      clock = now;
      expect(expired.ok).toBe(false);
      registered.set('qa', 'uid-2');
      const reRegistered = check(cert);
      registered.set('qa', 'uid-1');
      expect(reRegistered).toMatchObject({ ok: false, errors: [{ code: 'PermissionDenied' }] });
    });

    it('again when the trust bundle changes, which can drop its CA', async () => {
      const cert = await der({});
      expect(check(cert).ok).toBe(true);
      bundle = other.certPem;
      const dropped = check(cert);
      bundle = ca.certPem;
      expect(dropped).toMatchObject({ ok: false, errors: [{ code: 'Unauthenticated' }] });
    });
  });
});
