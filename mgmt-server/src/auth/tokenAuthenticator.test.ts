import { generateAgentToken, hashAgentToken } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { TokenAuthenticator } from './tokenAuthenticator.js';
import { type SecretLike, tokenRecordOf } from './tokenSecrets.js';

const qaToken = generateAgentToken();
const secret = (cluster: string, token: string, overrides: Partial<SecretLike> = {}): SecretLike => ({
  type: 'kuberelay.dev/agent-token',
  metadata: { name: `kuberelay-token-${cluster}`, labels: { 'kuberelay.dev/cluster': cluster } },
  data: { sha256: Buffer.from(hashAgentToken(token)).toString('base64') },
  ...overrides,
});

describe('tokenRecordOf', () => {
  it('reads a well-formed token Secret', () => {
    expect(tokenRecordOf(secret('qa', qaToken))).toEqual({ cluster: 'qa', sha256: hashAgentToken(qaToken) });
  });

  it.each([
    { name: 'wrong type', s: secret('qa', qaToken, { type: 'Opaque' }) },
    {
      name: 'name of another cluster',
      s: secret('qa', qaToken, {
        metadata: { name: 'kuberelay-token-prod', labels: { 'kuberelay.dev/cluster': 'qa' } },
      }),
    },
    { name: 'no hash', s: secret('qa', qaToken, { data: {} }) },
    {
      name: 'not a hash',
      s: secret('qa', qaToken, { data: { sha256: Buffer.from('nope').toString('base64') } }),
    },
  ])('ignores a Secret with $name', ({ s }) => {
    expect(tokenRecordOf(s)).toBeUndefined();
  });
});

describe('TokenAuthenticator', () => {
  const records = [tokenRecordOf(secret('qa', qaToken))].flatMap((r) => (r ? [r] : []));
  const auth = new TokenAuthenticator({ records: () => records });
  const as = (authorization?: string) =>
    auth.authenticate({
      metadata: authorization === undefined ? {} : { authorization: [authorization] },
      peer: 'p',
    });

  it('maps a valid token to its cluster', () => {
    expect(as(`Bearer ${qaToken}`)).toEqual({ ok: true, value: { cluster: 'qa' } });
  });

  it.each([
    { name: 'no header', header: undefined, message: 'no credentials' },
    { name: 'not Bearer', header: `Basic ${qaToken}`, message: 'well-formed' },
    { name: 'malformed token', header: 'Bearer krt_short', message: 'well-formed' },
    { name: 'unknown token', header: `Bearer ${generateAgentToken()}`, message: 'unknown token' },
  ])('refuses $name as Unauthenticated, without echoing the token', ({ header, message }) => {
    const result = as(header);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0].code).toBe('Unauthenticated');
    expect(result.errors[0].message).toContain(message);
    const presented = header?.split(' ')[1];
    if (presented !== undefined) expect(result.errors[0].message).not.toContain(presented);
  });
});
