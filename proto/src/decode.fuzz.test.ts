import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Decoded,
  DecodeErrorCode,
  type DecodeLimits,
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
  DigestFormat,
  DriftMode,
  NackReason,
} from './gen/kuberelay/relay/v1/relay.js';

// Fuzzing the decoding boundary: random bytes and mutations of valid messages must never throw,
// never take long, never accept what breaks a limit, and whatever is accepted must survive an
// encode/decode round trip unchanged.
//
// The inputs are drawn from fast-check (`fc.gen()`), so a failure is shrunk to a small input and
// replays from the seed fast-check prints; FUZZ_SEED and FUZZ_RUNS widen a local run (e.g.
// FUZZ_RUNS=200000).

const digestFormat = (n: number): DigestFormat =>
  n === 1 ? DigestFormat.DIGEST_FORMAT_ENTRY_SUM : DigestFormat.DIGEST_FORMAT_UNSPECIFIED;

const feature = (n: number): AgentFeature =>
  n === 1 ? AgentFeature.AGENT_FEATURE_COPY_POLICY : AgentFeature.AGENT_FEATURE_UNSPECIFIED;

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4_000);
/**
 * One decode of a few KiB takes well under a millisecond; this bound only catches a super-linear
 * blow-up (seconds), so it is far above what a loaded 2-core machine needs. A true hang ends at
 * the test timeout.
 */
const MAX_MS_PER_DECODE = 1_000;

/**
 * The message generators' view of randomness: read from an entropy tape that fast-check draws
 * (one draw per run, so thousands of runs stay fast, and a failing tape shrinks to a short one).
 * Past its end the tape repeats, shifted by the position, so long byte strings still vary.
 */
function random(tape: Uint8Array) {
  let position = 0;
  const byte = () => {
    const at = position++;
    return tape.length === 0
      ? 0
      : ((tape[at % tape.length] ?? 0) + Math.floor(at / tape.length) * 131) & 0xff;
  };
  const int = (max: number) => (max <= 1 ? 0 : ((byte() << 16) | (byte() << 8) | byte()) % max);
  const bytes = (n: number) => Uint8Array.from({ length: n }, byte);
  const text = (max: number) => {
    const alphabet = ['a', 'Z', '0', '/', '-', '.', 'é', '😀', '\u0000', 'krt_', '{"'];
    return Array.from({ length: int(max) }, () => alphabet[int(alphabet.length)]).join('');
  };
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { int, bytes, text, pick };
}
/** Runs `body` once per generated input, `runs` times, from the fixed seed. */
function forEachInput(runs: number, seedOffset: number, body: (r: Random, iteration: number) => void): void {
  let iteration = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1_024 }), (tape) => {
      body(random(tape), iteration++);
    }),
    { numRuns: Math.max(1, Math.floor(runs)), seed: SEED + seedOffset },
  );
}
type Random = ReturnType<typeof random>;

function validRequest(r: Random): Uint8Array {
  const results = () =>
    Array.from({ length: r.int(5) }, () => ({
      key: r.text(40),
      hash: r.text(10),
      outcome: r.pick(Object.values(CopyOutcome)),
      code: r.text(10),
      message: r.text(60),
    }));
  const message: ConnectRequest['message'] = r.pick([
    () => ({
      $case: 'hello' as const,
      value: {
        cluster: r.text(20),
        agentVersion: r.text(8),
        agentPod: r.text(20),
        haveVersion: r.int(2 ** 31) * 1000,
        have: Array.from({ length: r.int(6) }, () => ({ key: r.text(40), hash: r.text(10) })),
        digestFormats: Array.from({ length: r.int(3) }, () => digestFormat(r.int(2))),
        features: Array.from({ length: r.int(3) }, () => feature(r.int(2))),
      },
    }),
    () => ({
      $case: 'ack' as const,
      value: { version: r.int(2 ** 40), digest: r.text(20), results: results() },
    }),
    () => ({
      $case: 'nack' as const,
      value: { version: r.int(1000), reason: r.pick(Object.values(NackReason)), message: r.text(80) },
    }),
    () => ({ $case: 'heartbeat' as const, value: { unixMillis: Date.now() } }),
    () => ({ $case: 'report' as const, value: { version: r.int(1000), results: results() } }),
    () => ({
      $case: 'renew' as const,
      value: { csrPem: `-----BEGIN CERTIFICATE REQUEST-----${r.text(100)}` },
    }),
  ])();
  return ConnectRequest.encode({ message }).finish();
}

function validResponse(r: Random): Uint8Array {
  const message: ConnectResponse['message'] = r.pick([
    () => ({
      $case: 'welcome' as const,
      value: {
        cluster: r.text(20),
        mgmtCluster: r.text(20),
        serverPod: r.text(30),
        distributionEnabled: r.int(2) === 0,
        heartbeatSeconds: r.int(60),
        digestFormat: digestFormat(r.int(2)),
      },
    }),
    () => ({
      $case: 'delta' as const,
      value: {
        version: r.int(2 ** 40),
        replace: r.int(2) === 0,
        upserts: Array.from({ length: r.int(4) }, () => ({
          key: r.text(40),
          hash: r.text(10),
          manifest: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: r.text(100) })),
          overwrite: r.int(2) === 0,
          policy:
            r.int(2) === 0
              ? undefined
              : {
                  paused: r.int(2) === 0,
                  drift: r.pick(Object.values(DriftMode)),
                  ignoreFields: [r.text(20)],
                  holdReason: r.int(2) === 0 ? '' : r.text(30),
                },
        })),
        removes: Array.from({ length: r.int(4) }, () => r.text(40)),
        digest: r.text(20),
        chunk: 1,
        chunks: 1 + r.int(3),
      },
    }),
    () => ({ $case: 'heartbeat' as const, value: { unixMillis: Date.now() } }),
    () => ({ $case: 'renewed' as const, value: { certificatePem: r.text(200), caBundlePem: r.text(200) } }),
    () => ({ $case: 'trust' as const, value: { caBundlePem: r.text(200) } }),
  ])();
  return ConnectResponse.encode({ message }).finish();
}

function validBootstrap(r: Random): Uint8Array {
  return BootstrapRequest.encode({ cluster: r.text(20), token: r.text(47), csrPem: r.text(300) }).finish();
}

/** One random mutation of `bytes`: flips, overwrites, inserts, deletes, truncates, splices. */
function mutate(r: Random, bytes: Uint8Array, other: Uint8Array): Uint8Array {
  const out = [...bytes];
  const at = () => r.int(out.length + 1);
  for (let n = 1 + r.int(4); n > 0; n--) {
    switch (r.int(7)) {
      case 0:
        if (out.length > 0) {
          const i = r.int(out.length);
          out[i] = (out[i] as number) ^ (1 << r.int(8));
        }
        break;
      case 1:
        if (out.length > 0) out[r.int(out.length)] = r.pick([0x00, 0x7f, 0x80, 0xff, r.int(256)]);
        break;
      case 2:
        out.splice(at(), 0, ...r.bytes(1 + r.int(8)));
        break;
      case 3:
        out.splice(r.int(out.length), 1 + r.int(8));
        break;
      case 4:
        out.length = r.int(out.length + 1);
        break;
      case 5:
        out.splice(at(), 0, ...other.subarray(r.int(other.length), r.int(other.length + 1)));
        break;
      default:
        // A huge length prefix: a classic way to make a decoder allocate or loop.
        out.splice(at(), 0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f);
        break;
    }
  }
  return Uint8Array.from(out);
}

/** Small limits so random inputs hit them often. */
const TIGHT: Partial<DecodeLimits> = {
  maxMessageBytes: 600,
  maxEntries: 4,
  maxCopiesPerDelta: 3,
  maxRemovesPerDelta: 3,
  maxKeyLength: 30,
  maxTextLength: 50,
  maxNameLength: 16,
  maxHashLength: 8,
  maxPemLength: 150,
  maxManifestBytes: 90,
};

/**
 * An oracle independent of decode.ts's per-field checks: under TIGHT, no accepted value may hold a
 * string longer than the longest string limit, bytes longer than the manifest limit, or a list
 * longer than the largest count limit, wherever it sits.
 */
function overTight(value: unknown, path: string): string | undefined {
  const longestText = Math.max(...[TIGHT.maxPemLength, TIGHT.maxTextLength, TIGHT.maxKeyLength].map(Number));
  const longestList = Math.max(
    ...[TIGHT.maxEntries, TIGHT.maxCopiesPerDelta, TIGHT.maxRemovesPerDelta].map(Number),
  );
  if (typeof value === 'string')
    return value.length > longestText ? `${path}: ${value.length} characters` : undefined;
  if (value instanceof Uint8Array) {
    return value.byteLength > Number(TIGHT.maxManifestBytes)
      ? `${path}: ${value.byteLength} bytes`
      : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length > longestList) return `${path}: ${value.length} entries`;
    for (const [i, item] of value.entries()) {
      const over = overTight(item, `${path}[${i}]`);
      if (over !== undefined) return over;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const over = overTight(item, `${path}.${key}`);
      if (over !== undefined) return over;
    }
  }
  return undefined;
}

interface Target<T> {
  readonly name: string;
  readonly decode: (bytes: Uint8Array, limits?: Partial<DecodeLimits>) => Decoded<T>;
  readonly valid: (r: Random) => Uint8Array;
  readonly encode: (value: T) => Uint8Array;
}

const targets = [
  {
    name: 'ConnectRequest',
    decode: decodeConnectRequest,
    valid: validRequest,
    encode: (v: ConnectRequest) => ConnectRequest.encode(v).finish(),
  } satisfies Target<ConnectRequest>,
  {
    name: 'ConnectResponse',
    decode: decodeConnectResponse,
    valid: validResponse,
    encode: (v: ConnectResponse) => ConnectResponse.encode(v).finish(),
  } satisfies Target<ConnectResponse>,
  {
    name: 'BootstrapRequest',
    decode: decodeBootstrapRequest,
    valid: validBootstrap,
    encode: (v: BootstrapRequest) => BootstrapRequest.encode(v).finish(),
  } satisfies Target<BootstrapRequest>,
];

const CODES = new Set<string>(Object.values(DecodeErrorCode));

/**
 * The properties every input must satisfy. Returns a description of the first violation, so the
 * caller can name the seed and input.
 */
function violation<T>(
  target: Target<T>,
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
): string | undefined {
  const started = performance.now();
  let decoded: Decoded<T>;
  try {
    decoded = target.decode(bytes, limits);
  } catch (error) {
    return `threw ${String(error)}`;
  }
  const ms = performance.now() - started;
  if (ms > MAX_MS_PER_DECODE) return `took ${Math.round(ms)} ms`;
  if (!decoded.ok) {
    if (!CODES.has(decoded.error.code)) return `unknown error code ${decoded.error.code}`;
    if (decoded.error.message === '') return 'empty error message';
    return undefined;
  }
  const max = limits?.maxMessageBytes;
  if (max !== undefined && bytes.byteLength > max) return `accepted ${bytes.byteLength} bytes over ${max}`;
  if (limits === TIGHT) {
    const over = overTight(decoded.value, '');
    if (over !== undefined) return `accepted ${over}`;
  }
  // What is accepted is a well-formed message within limits: re-encoding it gives bytes that
  // decode to the same value (unknown fields are dropped by the first decode, so compare values).
  const again = target.decode(target.encode(decoded.value), limits);
  if (!again.ok) return `re-encoded value was refused: ${again.error.message}`;
  try {
    expect(again.value).toEqual(decoded.value);
  } catch {
    return 'round trip changed the value';
  }
  return undefined;
}

describe.each(targets)('fuzzing $name', (target) => {
  const check = (bytes: Uint8Array, iteration: number, limits?: Partial<DecodeLimits>) => {
    const problem = violation(target as Target<unknown>, bytes, limits);
    if (problem !== undefined) {
      throw new Error(
        `${target.name}: ${problem} (iteration ${iteration}, bytes ${Buffer.from(bytes).toString('hex').slice(0, 400)})`,
      );
    }
  };

  it('valid messages decode and round-trip', () => {
    forEachInput(RUNS / 4, 0, (r, i) => {
      const bytes = target.valid(r);
      const decoded = (target as Target<unknown>).decode(bytes);
      if (!decoded.ok) throw new Error(`${target.name}: valid message refused: ${decoded.error.message}`);
      check(bytes, i);
    });
  });

  it('random bytes never throw or hang', () => {
    let accepted = 0;
    forEachInput(RUNS, 1, (r, i) => {
      const bytes = r.bytes(r.pick([0, 1, 2, 5, 16, 64, 512, 4096]));
      check(bytes, i);
      if ((target as Target<unknown>).decode(bytes).ok) accepted++;
    });
    // Some random inputs are valid protobuf; most are not. Either way, the run must have checked
    // both outcomes often enough to mean something.
    expect(accepted).toBeLessThan(RUNS);
  });

  it('mutated valid messages never throw, hang, or slip past a limit', () => {
    let refused = 0;
    forEachInput(RUNS, 2, (r, i) => {
      const limits = i % 2 === 0 ? TIGHT : undefined;
      const bytes = mutate(r, target.valid(r), target.valid(r));
      check(bytes, i, limits);
      if (!(target as Target<unknown>).decode(bytes, limits).ok) refused++;
    });
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses anything over the message limit, before decoding', () => {
    forEachInput(RUNS / 4, 3, (r) => {
      const bytes = r.bytes(601 + r.int(4096));
      const decoded = (target as Target<unknown>).decode(bytes, TIGHT);
      expect(decoded.ok ? undefined : decoded.error.code).toBe(DecodeErrorCode.TooLarge);
    });
  });
});
