import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeErrorCode,
  decodeBootstrapRequest,
  decodeConnectRequest,
  decodeConnectResponse,
} from './decode.js';
import {
  AgentFeature,
  BootstrapRequest,
  ConnectRequest,
  ConnectResponse,
  CopyOutcome,
  type CopyResult,
  DigestFormat,
} from './gen/kuberelay/relay/v1/relay.js';

const request = (message: ConnectRequest['message']) => ConnectRequest.encode({ message }).finish();
const response = (message: ConnectResponse['message']) => ConnectResponse.encode({ message }).finish();

const result = (key: string, extra: Partial<CopyResult> = {}): CopyResult => ({
  key,
  hash: 'h',
  outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
  code: '',
  message: '',
  ...extra,
});

const hello = (
  extra: Partial<{
    cluster: string;
    have: { key: string; hash: string }[];
    digestFormats: DigestFormat[];
    features: AgentFeature[];
  }> = {},
) =>
  request({
    $case: 'hello',
    value: {
      cluster: 'alpha',
      agentVersion: '1.0.0',
      agentPod: 'agent-0',
      haveVersion: 7,
      have: [],
      digestFormats: [],
      features: [],
      ...extra,
    },
  });

const delta = (upserts: { key: string; manifest: Buffer }[], removes: string[] = []) =>
  response({
    $case: 'delta',
    value: {
      version: 1,
      replace: false,
      upserts: upserts.map((u) => ({ ...u, hash: 'h', overwrite: false, policy: undefined })),
      removes,
      digest: 'd',
      chunk: 1,
      chunks: 1,
    },
  });

const manifest = Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}');

describe('decodeConnectRequest', () => {
  it('decodes a valid Hello', () => {
    const offered = [DigestFormat.DIGEST_FORMAT_ENTRY_SUM];
    expect(decodeConnectRequest(hello({ have: [{ key: 'k', hash: 'h' }], digestFormats: offered }))).toEqual({
      ok: true,
      value: {
        message: {
          $case: 'hello',
          value: {
            cluster: 'alpha',
            agentVersion: '1.0.0',
            agentPod: 'agent-0',
            haveVersion: 7,
            have: [{ key: 'k', hash: 'h' }],
            digestFormats: offered,
            features: [],
          },
        },
      },
    });
  });

  it.each([
    {
      name: 'larger than the message limit',
      bytes: hello(),
      limits: { maxMessageBytes: 10 },
      code: DecodeErrorCode.TooLarge,
      message: /ConnectRequest is \d+ bytes, more than the 10 allowed/,
    },
    {
      name: 'no message at all',
      bytes: new Uint8Array(),
      limits: {},
      code: DecodeErrorCode.Malformed,
      message: /carries no message/,
    },
    {
      name: 'an unknown oneof member only (a newer peer)',
      bytes: Uint8Array.from([0x4a, 0x00]),
      limits: {},
      code: DecodeErrorCode.Malformed,
      message: /carries no message/,
    },
    {
      name: 'a truncated length',
      bytes: Uint8Array.from([0x0a, 0x05, 0x0a]),
      limits: {},
      code: DecodeErrorCode.Malformed,
      message: /field 1 claims 5 bytes, 1 left/,
    },
    {
      name: 'a group (proto3 never writes one)',
      bytes: Uint8Array.from([0x0b, 0x0c]),
      limits: {},
      code: DecodeErrorCode.Malformed,
      message: /unsupported wire type 3/,
    },
    {
      name: 'a version past 2^53',
      // ConnectRequest.heartbeat (4) { unixMillis (1): 2^63 - 1 }
      bytes: Uint8Array.from([0x22, 0x0a, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      limits: {},
      code: DecodeErrorCode.Malformed,
      message: /MAX_SAFE_INTEGER/,
    },
    {
      name: 'too many Hello.have entries',
      bytes: hello({ have: Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, hash: 'h' })) }),
      limits: { maxEntries: 3 },
      code: DecodeErrorCode.LimitExceeded,
      message: /hello.have has 4 entries, more than 3/,
    },
    {
      name: 'a Hello offering more digest formats than exist',
      bytes: hello({ digestFormats: Array.from({ length: 17 }, () => DigestFormat.DIGEST_FORMAT_ENTRY_SUM) }),
      limits: {},
      code: DecodeErrorCode.LimitExceeded,
      message: /hello.digestFormats has 17 entries, more than 16/,
    },
    {
      name: 'a Hello claiming more features than exist',
      bytes: hello({ features: Array.from({ length: 65 }, () => AgentFeature.AGENT_FEATURE_COPY_POLICY) }),
      limits: {},
      code: DecodeErrorCode.LimitExceeded,
      message: /hello.features has 65 entries, more than 64/,
    },
    {
      name: 'a long cluster name',
      bytes: hello({ cluster: 'x'.repeat(254) }),
      limits: {},
      code: DecodeErrorCode.LimitExceeded,
      message: /hello.cluster is 254 characters, more than 253/,
    },
    {
      name: 'a long copy key in an Ack',
      bytes: request({
        $case: 'ack',
        value: { version: 1, digest: 'd', results: [result('k'), result('k'.repeat(1025))] },
      }),
      limits: {},
      code: DecodeErrorCode.LimitExceeded,
      message: /ack.results\[1\].key is 1025 characters, more than 1024/,
    },
    {
      name: 'a long Nack message',
      bytes: request({ $case: 'nack', value: { version: 1, reason: 0, message: 'm'.repeat(40_000) } }),
      limits: {},
      code: DecodeErrorCode.LimitExceeded,
      message: /nack.message is 40000 characters/,
    },
  ])('refuses $name', ({ bytes, limits, code, message }) => {
    const decoded = decodeConnectRequest(bytes, limits);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.code).toBe(code);
    expect(decoded.error.message).toMatch(message);
  });

  it('counts entries before decoding them: 8 million empty results are refused by the wire scan', () => {
    // A 16 MiB Ack whose results are all empty (2 bytes each). Decoding it would build millions
    // of objects; the wire scan refuses it after one pass over the bytes. The message (an entry
    // count, which only the scan produces) shows which path refused it, on any machine; a
    // stopwatch here would measure the machine.
    const entries = (DEFAULT_DECODE_LIMITS.maxMessageBytes - 16) / 2;
    const body = new Uint8Array(entries * 2);
    for (let i = 0; i < entries; i++) body[i * 2] = 0x1a; // Ack.results (3), length 0
    const header = Uint8Array.from([0x12, ...varint(body.length)]);
    const bytes = new Uint8Array(header.length + body.length);
    bytes.set(header);
    bytes.set(body, header.length);
    const decoded = decodeConnectRequest(bytes);
    expect(decoded).toMatchObject({ ok: false, error: { code: DecodeErrorCode.LimitExceeded } });
    if (!decoded.ok) expect(decoded.error.message).toContain(`ack.results has ${entries} entries`);
  });

  it('never echoes field contents in its errors', () => {
    const token = 'krb_secretsecretsecretsecretsecretsecretsecret';
    const decoded = decodeConnectRequest(hello({ cluster: `${token}${'x'.repeat(300)}` }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.message).not.toContain('krb_');
  });
});

describe('decodeConnectResponse', () => {
  it('decodes a valid Delta', () => {
    const decoded = decodeConnectResponse(delta([{ key: 'v1/ConfigMap/ns/a', manifest }], ['gone']));
    expect(
      decoded.ok && decoded.value.message?.$case === 'delta' && decoded.value.message.value.removes,
    ).toEqual(['gone']);
  });

  it.each([
    {
      name: 'too many copies in one Delta',
      bytes: delta([
        { key: 'a', manifest },
        { key: 'b', manifest },
        { key: 'c', manifest },
      ]),
      limits: { maxCopiesPerDelta: 2 },
      message: /delta.upserts has 3 entries, more than 2/,
    },
    {
      name: 'too many removes in one Delta',
      bytes: delta([], ['a', 'b']),
      limits: { maxRemovesPerDelta: 1 },
      message: /delta.removes has 2 entries, more than 1/,
    },
    {
      name: 'an oversized manifest',
      bytes: delta([{ key: 'a', manifest: Buffer.alloc(2048) }]),
      limits: { maxManifestBytes: 2047 },
      message: /delta.upserts\[0\].manifest is 2048 bytes, more than 2047/,
    },
    {
      name: 'a long key to remove',
      bytes: delta([], ['k'.repeat(30)]),
      limits: { maxKeyLength: 29 },
      message: /delta.removes\[0\] is 30 characters/,
    },
  ])('refuses $name', ({ bytes, limits, message }) => {
    const decoded = decodeConnectResponse(bytes, limits);
    expect(decoded).toMatchObject({ ok: false, error: { code: DecodeErrorCode.LimitExceeded } });
    if (!decoded.ok) expect(decoded.error.message).toMatch(message);
  });
});

describe('decodeBootstrapRequest', () => {
  it('bounds the unauthenticated RPC too', () => {
    const bytes = BootstrapRequest.encode({
      cluster: 'alpha',
      token: 't',
      csrPem: 'c'.repeat(70_000),
    }).finish();
    const decoded = decodeBootstrapRequest(bytes);
    expect(decoded).toMatchObject({ ok: false, error: { code: DecodeErrorCode.LimitExceeded } });
    if (!decoded.ok)
      expect(decoded.error.message).toBe('BootstrapRequest: csrPem is 70000 characters, more than 65536');
  });
});

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
