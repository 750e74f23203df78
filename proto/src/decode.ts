import {
  type Ack,
  BootstrapRequest,
  BootstrapResponse,
  ConnectRequest,
  ConnectResponse,
  type CopyPolicy,
  type CopyResult,
  type Delta,
  type Hello,
  type Welcome,
} from './gen/kuberelay/relay/v1/relay.js';
import { type RepeatedFields, scanRepeated } from './wireScan.js';

/**
 * The decoding boundary of the relay protocol: bytes from the network become messages here, or a
 * DecodeError, and nothing here ever throws. Everything a peer controls is bounded before it can
 * cost memory or time further in: the message size, the number of entries of every repeated field
 * (counted on the wire before decoding, see wireScan.ts), and the length of every string and byte
 * field. The generated decoder is only called inside this file's try/catch.
 *
 * What is NOT checked here: meaning (a Hello's cluster against the credentials, chunk numbering,
 * manifests being Kubernetes objects). That stays with the stream state machines.
 */
export interface DecodeLimits {
  /** Whole message; should equal gRPC's max receive size on the receiving side. */
  readonly maxMessageBytes: number;
  /** Delta.upserts per message. */
  readonly maxCopiesPerDelta: number;
  /** Delta.removes per message. */
  readonly maxRemovesPerDelta: number;
  /** One Copy.manifest. */
  readonly maxManifestBytes: number;
  /** A copy key `<group>/<Kind>/<namespace>/<name>` anywhere (have, upserts, removes, results). */
  readonly maxKeyLength: number;
  /** Hello.have, Ack.results and Report.results: one entry per copy of a cluster. */
  readonly maxEntries: number;
  /** Hashes and digests. */
  readonly maxHashLength: number;
  /** Names and short identifiers: cluster, pod, agent version, result codes, tokens. */
  readonly maxNameLength: number;
  /** Free text: Nack.message and CopyResult.message (API server errors can be long). */
  readonly maxTextLength: number;
  /** A CSR, a certificate chain or a CA bundle, PEM. */
  readonly maxPemLength: number;
  /** Copy.policy.ignore_fields per copy (each at most maxKeyLength characters). */
  readonly maxIgnoredFields: number;
}

/**
 * Sized from what the protocol carries, with headroom:
 * - 16 MiB messages: gRPC's receive limit on both ends (mgmt-server grpcServer.ts, agent grpcDial.ts).
 * - 2 MiB manifests: etcd refuses objects over 1.5 MiB by default, and a copy is a source object
 *   with a few annotations added.
 * - 20 000 copies per Delta: a Delta is chunked at 1 MiB of content (chunks.ts), and the smallest
 *   useful copy is about 100 bytes with its key and hash; removes are keys alone (about 60 bytes).
 * - 1 024-character keys: group (≤ 253) + kind (≤ 63) + namespace (≤ 63) + name (≤ 253) + slashes.
 * - 200 000 entries: far above the copies one cluster holds; what stops a 16 MiB Ack of empty
 *   results (8 million objects) from being decoded at all.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxMessageBytes: 16 * 1024 * 1024,
  maxCopiesPerDelta: 20_000,
  maxRemovesPerDelta: 50_000,
  maxManifestBytes: 2 * 1024 * 1024,
  maxKeyLength: 1024,
  maxEntries: 200_000,
  maxHashLength: 256,
  maxNameLength: 253,
  maxTextLength: 32 * 1024,
  maxPemLength: 64 * 1024,
  // The server refuses an ignore-fields annotation of more than 64 paths of 512 characters.
  maxIgnoredFields: 64,
});

export const DecodeErrorCode = {
  /** The message is larger than maxMessageBytes. */
  TooLarge: 'TooLarge',
  /** A repeated field has too many entries, or a field is too long. */
  LimitExceeded: 'LimitExceeded',
  /** Not valid protobuf for the message type (truncated, wrong wire types, a 64-bit number past 2^53, no message in the oneof). */
  Malformed: 'Malformed',
} as const;
export type DecodeErrorCode = (typeof DecodeErrorCode)[keyof typeof DecodeErrorCode];

/**
 * Why bytes were refused. `message` names the field and the limit, never field contents, so it is
 * safe to log and to send back to the peer (a token inside a refused message is never echoed).
 * Suggested gRPC status at the edge: TooLarge and LimitExceeded → RESOURCE_EXHAUSTED, Malformed →
 * INVALID_ARGUMENT.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code: DecodeErrorCode;

  constructor(options: {
    readonly code: DecodeErrorCode;
    readonly message: string;
    readonly cause?: unknown;
  }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }
}

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DecodeError };

/** Agent → server, on the Connect stream. */
export function decodeConnectRequest(
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
): Decoded<ConnectRequest> {
  return decodeBounded(bytes, {
    what: 'ConnectRequest',
    limits: { ...DEFAULT_DECODE_LIMITS, ...limits },
    repeated: REQUEST_REPEATED,
    decode: (b) => ConnectRequest.decode(b),
    empty: (m) => m.message === undefined,
    check: checkRequest,
  });
}

/** Server → agent, on the Connect stream. */
export function decodeConnectResponse(
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
): Decoded<ConnectResponse> {
  return decodeBounded(bytes, {
    what: 'ConnectResponse',
    limits: { ...DEFAULT_DECODE_LIMITS, ...limits },
    repeated: RESPONSE_REPEATED,
    decode: (b) => ConnectResponse.decode(b),
    empty: (m) => m.message === undefined,
    check: checkResponse,
  });
}

/** Agent → server, Bootstrap: the one RPC served without a client certificate, so anyone can send it. */
export function decodeBootstrapRequest(
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
): Decoded<BootstrapRequest> {
  return decodeBounded(bytes, {
    what: 'BootstrapRequest',
    limits: { ...DEFAULT_DECODE_LIMITS, ...limits },
    repeated: {},
    decode: (b) => BootstrapRequest.decode(b),
    check: (m, l) =>
      str('cluster', m.cluster, l.maxNameLength) ??
      str('token', m.token, l.maxNameLength) ??
      str('csrPem', m.csrPem, l.maxPemLength),
  });
}

/** Server → agent, Bootstrap answer. */
export function decodeBootstrapResponse(
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
): Decoded<BootstrapResponse> {
  return decodeBounded(bytes, {
    what: 'BootstrapResponse',
    limits: { ...DEFAULT_DECODE_LIMITS, ...limits },
    repeated: {},
    decode: (b) => BootstrapResponse.decode(b),
    check: (m, l) =>
      str('certificatePem', m.certificatePem, l.maxPemLength) ??
      str('caBundlePem', m.caBundlePem, l.maxPemLength),
  });
}

// Field numbers from relay.proto: ConnectRequest.hello = 1 (Hello.have = 5), .ack = 2 (Ack.results
// = 3), .report = 5 (Report.results = 2); ConnectResponse.delta = 2 (Delta.upserts = 3, .removes = 4).
const REQUEST_REPEATED: RepeatedFields = {
  1: { 5: 'hello.have' },
  2: { 3: 'ack.results' },
  5: { 2: 'report.results' },
};
const RESPONSE_REPEATED: RepeatedFields = { 2: { 3: 'delta.upserts', 4: 'delta.removes' } };

function repeatedLimit(name: string, limits: DecodeLimits): number {
  if (name === 'delta.upserts') return limits.maxCopiesPerDelta;
  if (name === 'delta.removes') return limits.maxRemovesPerDelta;
  return limits.maxEntries;
}

interface BoundedDecode<T> {
  readonly what: string;
  readonly limits: DecodeLimits;
  readonly repeated: RepeatedFields;
  readonly decode: (bytes: Uint8Array) => T;
  /**
   * True for a message whose oneof is unset: zero bytes, or only fields this version does not
   * know. Refused, because there is nothing to act on and the stream must not guess.
   */
  readonly empty?: (message: T) => boolean;
  /** The first limit the decoded message breaks, as a message; undefined when within limits. */
  readonly check: (message: T, limits: DecodeLimits) => string | undefined;
}

function decodeBounded<T>(bytes: Uint8Array, spec: BoundedDecode<T>): Decoded<T> {
  try {
    if (!(bytes instanceof Uint8Array)) {
      return fail(DecodeErrorCode.Malformed, `${spec.what}: expected bytes, got ${typeof bytes}`);
    }
    if (bytes.byteLength > spec.limits.maxMessageBytes) {
      return fail(
        DecodeErrorCode.TooLarge,
        `${spec.what} is ${bytes.byteLength} bytes, more than the ${spec.limits.maxMessageBytes} allowed`,
      );
    }
    const scan = scanRepeated(bytes, spec.repeated);
    if (!scan.ok)
      return fail(DecodeErrorCode.Malformed, `${spec.what} is not valid protobuf: ${scan.message}`);
    for (const [name, count] of scan.counts) {
      const max = repeatedLimit(name, spec.limits);
      if (count > max) {
        return fail(
          DecodeErrorCode.LimitExceeded,
          `${spec.what}: ${name} has ${count} entries, more than ${max}`,
        );
      }
    }
    let message: T;
    try {
      message = spec.decode(bytes);
    } catch (error) {
      return fail(DecodeErrorCode.Malformed, `${spec.what} is not valid protobuf: ${describe(error)}`, error);
    }
    if (spec.empty?.(message)) return fail(DecodeErrorCode.Malformed, `${spec.what} carries no message`);
    const problem = spec.check(message, spec.limits);
    if (problem !== undefined) return fail(DecodeErrorCode.LimitExceeded, `${spec.what}: ${problem}`);
    return { ok: true, value: message };
  } catch (error) {
    // Only a bug in this file gets here; the promise "never throws" holds regardless.
    return fail(DecodeErrorCode.Malformed, `${spec.what} could not be checked: ${describe(error)}`, error);
  }
}

function fail<T>(code: DecodeErrorCode, message: string, cause?: unknown): Decoded<T> {
  return { ok: false, error: new DecodeError({ code, message, cause }) };
}

/** The decoder's own message only (never the input bytes, which may hold a token). */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function str(path: string, value: string, max: number): string | undefined {
  return value.length > max ? `${path} is ${value.length} characters, more than ${max}` : undefined;
}

function bytesField(path: string, value: Uint8Array, max: number): string | undefined {
  return value.byteLength > max ? `${path} is ${value.byteLength} bytes, more than ${max}` : undefined;
}

function each<T>(
  items: readonly T[],
  check: (item: T, index: number) => string | undefined,
): string | undefined {
  for (const [index, item] of items.entries()) {
    const problem = check(item, index);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkRequest(request: ConnectRequest, l: DecodeLimits): string | undefined {
  const m = request.message;
  switch (m?.$case) {
    case undefined:
      return undefined;
    case 'hello':
      return checkHello(m.value, l);
    case 'ack':
      return checkAck(m.value, l);
    case 'nack':
      return str('nack.message', m.value.message, l.maxTextLength);
    case 'heartbeat':
      return undefined;
    case 'report':
      return checkResults('report.results', m.value.results, l);
    case 'renew':
      return str('renew.csrPem', m.value.csrPem, l.maxPemLength);
  }
}

/** More digest formats (or features) than will ever exist: a Hello offering more is hostile or broken. */
const MAX_DIGEST_FORMATS = 16;
const MAX_FEATURES = 64;

function checkHello(hello: Hello, l: DecodeLimits): string | undefined {
  return (
    str('hello.cluster', hello.cluster, l.maxNameLength) ??
    str('hello.agentVersion', hello.agentVersion, l.maxNameLength) ??
    str('hello.agentPod', hello.agentPod, l.maxNameLength) ??
    // A packed repeated enum is one field on the wire, so the repeated-field scan cannot count it.
    (hello.digestFormats.length > MAX_DIGEST_FORMATS
      ? `hello.digestFormats has ${hello.digestFormats.length} entries, more than ${MAX_DIGEST_FORMATS}`
      : undefined) ??
    (hello.features.length > MAX_FEATURES
      ? `hello.features has ${hello.features.length} entries, more than ${MAX_FEATURES}`
      : undefined) ??
    each(
      hello.have,
      (h, i) =>
        str(`hello.have[${i}].key`, h.key, l.maxKeyLength) ??
        str(`hello.have[${i}].hash`, h.hash, l.maxHashLength),
    )
  );
}

function checkAck(ack: Ack, l: DecodeLimits): string | undefined {
  return str('ack.digest', ack.digest, l.maxHashLength) ?? checkResults('ack.results', ack.results, l);
}

function checkResults(path: string, results: readonly CopyResult[], l: DecodeLimits): string | undefined {
  return each(
    results,
    (r, i) =>
      str(`${path}[${i}].key`, r.key, l.maxKeyLength) ??
      str(`${path}[${i}].hash`, r.hash, l.maxHashLength) ??
      str(`${path}[${i}].code`, r.code, l.maxNameLength) ??
      str(`${path}[${i}].message`, r.message, l.maxTextLength),
  );
}

function checkResponse(response: ConnectResponse, l: DecodeLimits): string | undefined {
  const m = response.message;
  switch (m?.$case) {
    case undefined:
      return undefined;
    case 'welcome':
      return checkWelcome(m.value, l);
    case 'delta':
      return checkDelta(m.value, l);
    case 'heartbeat':
      return undefined;
    case 'renewed':
      return (
        str('renewed.certificatePem', m.value.certificatePem, l.maxPemLength) ??
        str('renewed.caBundlePem', m.value.caBundlePem, l.maxPemLength)
      );
    case 'trust':
      return str('trust.caBundlePem', m.value.caBundlePem, l.maxPemLength);
  }
}

function checkWelcome(welcome: Welcome, l: DecodeLimits): string | undefined {
  return (
    str('welcome.cluster', welcome.cluster, l.maxNameLength) ??
    str('welcome.mgmtCluster', welcome.mgmtCluster, l.maxNameLength) ??
    // `<namespace>/<pod>`: two names and a slash.
    str('welcome.serverPod', welcome.serverPod, 2 * l.maxNameLength + 1)
  );
}

function checkPolicy(field: string, policy: CopyPolicy | undefined, l: DecodeLimits): string | undefined {
  if (policy === undefined) return undefined;
  if (policy.ignoreFields.length > l.maxIgnoredFields) {
    return `${field}.ignoreFields has ${policy.ignoreFields.length} entries (at most ${l.maxIgnoredFields})`;
  }
  return (
    str(`${field}.holdReason`, policy.holdReason, l.maxKeyLength) ??
    each(policy.ignoreFields, (path, i) => str(`${field}.ignoreFields[${i}]`, path, l.maxKeyLength))
  );
}

function checkDelta(delta: Delta, l: DecodeLimits): string | undefined {
  return (
    str('delta.digest', delta.digest, l.maxHashLength) ??
    each(
      delta.upserts,
      (c, i) =>
        str(`delta.upserts[${i}].key`, c.key, l.maxKeyLength) ??
        str(`delta.upserts[${i}].hash`, c.hash, l.maxHashLength) ??
        bytesField(`delta.upserts[${i}].manifest`, c.manifest, l.maxManifestBytes) ??
        checkPolicy(`delta.upserts[${i}].policy`, c.policy, l),
    ) ??
    each(delta.removes, (key, i) => str(`delta.removes[${i}]`, key, l.maxKeyLength))
  );
}
