import { createCa, createCsr, signCsr } from '@kuberelay/shared/pki';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CredentialInputs, credentialsFromSecretData, resolveCredentials } from './agentCredentials.js';

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;
const SOURCE = 'Secret gloo-mesh/kuberelay-agent-credentials';

let caPem: string;
let certPem: string;
let keyPem: string;
let expired: { certPem: string; keyPem: string };
let otherKeyPem: string;

beforeAll(async () => {
  const ca = await createCa({ commonName: 'relay-ca', validityMs: 365 * DAY, now: NOW - DAY });
  const issue = async (now: number, validityMs: number) => {
    const { csrPem, keyPem } = await createCsr({ commonName: 'c1' });
    return {
      certPem: await signCsr({ ca, csrPem, commonName: 'c1', usage: 'client', validityMs, now }),
      keyPem,
    };
  };
  caPem = ca.certPem;
  ({ certPem, keyPem } = await issue(NOW, 7 * DAY));
  expired = await issue(NOW - 20 * DAY, 7 * DAY);
  otherKeyPem = (await createCsr({ commonName: 'x' })).keyPem;
});

const base: CredentialInputs = { cluster: 'c1', server: 'relay.example.com:9900' };
const resolve = (stored: CredentialInputs, given: CredentialInputs = {}) =>
  resolveCredentials({ given, stored: { ...base, ...stored }, source: SOURCE, now: NOW });
const messages = (result: ReturnType<typeof resolve>) =>
  result.ok ? [] : result.errors.map((e) => e.message);

describe('credentialsFromSecretData', () => {
  it('decodes the design.md keys and drops empty values', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(
      credentialsFromSecretData({
        cluster: b64('c1'),
        server: b64('h:1'),
        mgmtCluster: b64(' mgmt \n'),
        'ca.crt': b64('CA'),
        bootstrapToken: b64('krb_x'),
        'tls.crt': b64('CERT'),
        'tls.key': b64('KEY'),
        token: b64(''),
        unrelated: b64('x'),
      }),
    ).toEqual({
      cluster: 'c1',
      server: 'h:1',
      mgmtCluster: 'mgmt',
      caPem: 'CA',
      bootstrapToken: 'krb_x',
      certPem: 'CERT',
      keyPem: 'KEY',
    });
    expect(credentialsFromSecretData(undefined)).toEqual({});
  });
});

describe('resolveCredentials', () => {
  it('uses the client certificate when there is one', () => {
    const result = resolve({ caPem, certPem, keyPem, bootstrapToken: 'krb_old' });
    expect(result.ok && result.value.auth.kind).toBe('certificate');
    if (result.ok && result.value.auth.kind === 'certificate') {
      expect(result.value.auth.cert.notAfter).toBe(NOW + 7 * DAY);
      expect(result.value.auth.material).toEqual({ caPem, certPem, keyPem });
    }
  });

  it('bootstraps with only a bootstrap token', () => {
    const result = resolve({ caPem, bootstrapToken: 'krb_1' });
    expect(result).toMatchObject({
      ok: true,
      value: { cluster: 'c1', auth: { kind: 'bootstrap', bootstrapToken: 'krb_1' } },
    });
  });

  it('bootstraps again when the certificate expired and a new token is there', () => {
    expect(
      resolve({ caPem, certPem: expired.certPem, keyPem: expired.keyPem, bootstrapToken: 'krb_2' }),
    ).toMatchObject({
      ok: true,
      value: { auth: { kind: 'bootstrap' } },
    });
    // (Table rows read the PEMs lazily: they are made in beforeAll.)
    // Without a token the expired certificate is tried: the server's refusal tells the operator.
    expect(resolve({ caPem, certPem: expired.certPem, keyPem: expired.keyPem })).toMatchObject({
      ok: true,
      value: { auth: { kind: 'certificate' } },
    });
  });

  it('refuses a token-only registration from before mutual TLS, saying how to register again', () => {
    const result = resolve({ token: 'krt_1' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.message).toMatch(/registration made before mutual TLS.*relayctl register/);
    expect(result.errors.map((e) => e.message).join('\n')).not.toContain('krt_1');
  });

  it('flags win over the store', () => {
    expect(
      resolve({ caPem, bootstrapToken: 'krb_1' }, { cluster: 'c2', bootstrapToken: 'krb_flag' }),
    ).toMatchObject({
      ok: true,
      value: { cluster: 'c2', auth: { bootstrapToken: 'krb_flag' } },
    });
  });

  it.each([
    {
      name: 'nothing to authenticate with',
      stored: () => ({ caPem }),
      message:
        'has neither a client certificate (tls.crt, tls.key) nor a bootstrapToken: run relayctl register',
    },
    {
      name: 'no CA bundle',
      stored: () => ({ bootstrapToken: 'krb_1' }),
      message: `missing ca.crt (the relay CA bundle) in ${SOURCE}`,
    },
    {
      name: 'tls.crt without tls.key',
      stored: () => ({ caPem, certPem: 'x' }),
      message: 'has tls.crt without tls.key',
    },
    {
      name: 'tls.key without tls.crt',
      stored: () => ({ caPem, keyPem: 'x' }),
      message: 'has tls.key without tls.crt',
    },
    {
      name: 'a certificate that is not PEM',
      stored: () => ({ caPem, certPem: 'garbage', keyPem: 'x' }),
      message: 'tls.crt of Secret gloo-mesh/kuberelay-agent-credentials holds no PEM certificate',
    },
    {
      name: 'a CA bundle that is not PEM',
      stored: () => ({ caPem: 'garbage', bootstrapToken: 'krb' }),
      message: 'ca.crt of Secret gloo-mesh/kuberelay-agent-credentials holds no PEM certificate',
    },
  ])('reports $name', ({ stored, message }) => {
    expect(messages(resolve(stored())).join('\n')).toContain(message);
  });

  it('reports a key that does not belong to the certificate, without showing it', () => {
    const text = messages(resolve({ caPem, certPem, keyPem: otherKeyPem })).join('\n');
    expect(text).toContain(
      'tls.key of Secret gloo-mesh/kuberelay-agent-credentials is not the key of its tls.crt',
    );
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('reports every missing key at once', () => {
    const result = resolveCredentials({ given: {}, stored: {}, source: SOURCE, now: NOW });
    expect(messages(result)).toEqual([
      `missing cluster: give --cluster or put it in ${SOURCE}`,
      `missing server: give --server or put it in ${SOURCE}`,
      expect.stringContaining('has neither a client certificate'),
    ]);
  });
});
