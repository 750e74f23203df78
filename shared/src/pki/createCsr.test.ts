import { describe, expect, it } from 'vitest';
import { createCsr } from './createCsr.js';
import { x509 } from './x509.js';

describe('createCsr', () => {
  it('returns a self-signed PKCS#10 request and a PKCS#8 key', async () => {
    const { csrPem, keyPem } = await createCsr({ commonName: 'cluster-a' });
    expect(csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    expect(csr.subject).toBe('CN=cluster-a');
    expect(await csr.verify()).toBe(true);
  });
});
