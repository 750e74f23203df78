import { type Delta, DigestFormat, NackReason, splitVersion, type VersionContent } from '@kuberelay/proto';
import { createManualClock, ErrorCode } from '@kuberelay/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RECONNECT_BACKOFF, runConnectLoop } from './connectLoop.js';
import { FakeStream } from './fakeStream.testkit.js';
import { RelaySession, type SessionHandler, type VersionReply, WELCOME_TIMEOUT_MS } from './session.js';

const logger = pino({ level: 'silent' });
const hello = {
  cluster: 'c1',
  agentVersion: '0',
  agentPod: 'p',
  haveVersion: 3,
  have: [],
  digestFormats: [],
  features: [],
};
const welcome = {
  message: {
    $case: 'welcome' as const,
    value: {
      cluster: 'c1',
      mgmtCluster: 'mgmt',
      serverPod: 's',
      distributionEnabled: true,
      heartbeatSeconds: 5,
      digestFormat: DigestFormat.DIGEST_FORMAT_UNSPECIFIED,
    },
  },
};
const delta = (d: Delta) => ({ message: { $case: 'delta' as const, value: d } });

function handler(applied: VersionContent[] = []): SessionHandler & { welcomes: number } {
  const h = {
    welcomes: 0,
    hello: () => hello,
    onWelcome: () => {
      h.welcomes += 1;
    },
    applyVersion: async (version: VersionContent): Promise<VersionReply> => {
      applied.push(version);
      return { $case: 'ack', value: { version: version.version, digest: version.digest, results: [] } };
    },
  };
  return h;
}

const flush = () => new Promise((r) => setImmediate(r));

/** A running session on a fake stream and a manual clock, with the default handler. */
function openSession() {
  const stream = new FakeStream();
  const clock = createManualClock();
  const session = new RelaySession({
    stream,
    handler: handler(),
    clock,
    logger,
    signal: new AbortController().signal,
  });
  return { stream, clock, session, done: session.run() };
}

describe('RelaySession', () => {
  it('says Hello, waits for Welcome, reassembles chunks and acks each version in order', async () => {
    const stream = new FakeStream();
    const applied: VersionContent[] = [];
    const h = handler(applied);
    const session = new RelaySession({
      stream,
      handler: h,
      clock: createManualClock(),
      logger,
      signal: new AbortController().signal,
    });
    const done = session.run();
    stream.push(welcome);
    const copy = (n: string) => ({
      key: n,
      hash: n,
      manifest: Buffer.alloc(10),
      overwrite: false,
      policy: undefined,
    });
    const chunks = splitVersion(
      { version: 10, replace: true, upserts: [copy('a'), copy('b')], removes: [], digest: 'd10' },
      40,
    );
    expect(chunks.length).toBe(2);
    for (const c of chunks) stream.push(delta(c));
    stream.push(
      delta({ version: 11, replace: false, upserts: [], removes: ['a'], digest: 'd11', chunk: 1, chunks: 1 }),
    );
    await flush();
    stream.end();
    await done;
    expect(stream.sent[0]?.message).toEqual({ $case: 'hello', value: hello });
    expect(h.welcomes).toBe(1);
    expect(applied.map((v) => [v.version, v.upserts.length, v.removes])).toEqual([
      [10, 2, []],
      [11, 0, ['a']],
    ]);
    expect(stream.sentOfCase('ack').map((a) => a.version)).toEqual([10, 11]);
  });

  it('rejects chunks out of order with BAD_CHUNKS and applies nothing', async () => {
    const stream = new FakeStream();
    const applied: VersionContent[] = [];
    const session = new RelaySession({
      stream,
      handler: handler(applied),
      clock: createManualClock(),
      logger,
      signal: new AbortController().signal,
    });
    const done = session.run();
    stream.push(welcome);
    stream.push(
      delta({ version: 5, replace: true, upserts: [], removes: [], digest: 'd', chunk: 2, chunks: 2 }),
    );
    await flush();
    stream.end();
    await done;
    expect(applied).toEqual([]);
    expect(stream.sentOfCase('nack')).toEqual([
      {
        version: 5,
        reason: NackReason.NACK_REASON_BAD_CHUNKS,
        message: 'expected chunk 1 of version 5, got 2',
      },
    ]);
  });

  it('fails the session when a Delta comes before Welcome', async () => {
    const stream = new FakeStream();
    const session = new RelaySession({
      stream,
      handler: handler(),
      clock: createManualClock(),
      logger,
      signal: new AbortController().signal,
    });
    const done = session.run();
    stream.push(
      delta({ version: 1, replace: true, upserts: [], removes: [], digest: 'd', chunk: 1, chunks: 1 }),
    );
    await expect(done).rejects.toMatchObject({ code: ErrorCode.InvalidMessage });
  });

  it('sends heartbeats and drops a server that stays silent for 3 of them', async () => {
    const { stream, clock, done } = openSession();
    stream.push(welcome);
    await flush();
    await clock.advance(5_000);
    expect(stream.sentOfCase('heartbeat')).toEqual([{ unixMillis: 5_000 }]);
    // Expect the rejection before time moves, so it is handled the moment it happens.
    const dropped = expect(done).rejects.toThrow(
      'the management server sent nothing for 3 heartbeats; reconnecting',
    );
    await clock.advance(15_000); // heartbeats at 10 s and 15 s, dropped at 20 s (> 3 × 5 s silent)
    await dropped;
    expect(stream.cancelled).toBe(true);
  });

  it('drops a server that accepts the stream but sends no Welcome within the timeout', async () => {
    const { stream, clock, done } = openSession();
    const dropped = expect(done).rejects.toThrow(
      `the management server sent no Welcome within ${WELCOME_TIMEOUT_MS / 1000} s; reconnecting`,
    );
    await clock.advance(WELCOME_TIMEOUT_MS - 1);
    expect(stream.cancelled).toBe(false);
    await clock.advance(1);
    await dropped;
    expect(stream.cancelled).toBe(true);
  });

  it('keeps a session whose Welcome came in time past the Welcome timeout', async () => {
    const { stream, clock, done } = openSession();
    stream.push(welcome);
    await flush();
    for (let t = 0; t < WELCOME_TIMEOUT_MS * 2; t += 5_000) {
      await clock.advance(5_000);
      stream.push({ message: { $case: 'heartbeat', value: { unixMillis: clock.now() } } });
      await flush();
    }
    expect(stream.cancelled).toBe(false);
    stream.end();
    await done;
  });

  it('sends Reports only while welcomed and open', async () => {
    const stream = new FakeStream();
    const session = new RelaySession({
      stream,
      handler: handler(),
      clock: createManualClock(),
      logger,
      signal: new AbortController().signal,
    });
    const done = session.run();
    expect(session.sendReport({ version: 1, results: [] })).toBe(false);
    stream.push(welcome);
    await flush();
    expect(session.sendReport({ version: 1, results: [] })).toBe(true);
    stream.end();
    await done;
    expect(session.sendReport({ version: 1, results: [] })).toBe(false);
    expect(stream.sentOfCase('report')).toHaveLength(1);
  });
});

describe('RelaySession certificates', () => {
  it('sends RenewRequest once welcomed, hands RenewResponse and TrustBundle to the handler, and a close by the agent ends run quietly', async () => {
    const stream = new FakeStream();
    const renewed: string[] = [];
    const bundles: string[] = [];
    const session = new RelaySession({
      stream,
      handler: {
        ...handler(),
        onRenewed: (r) => renewed.push(r.certificatePem),
        onTrustBundle: (t) => bundles.push(t.caBundlePem),
      },
      clock: createManualClock(),
      logger,
      signal: new AbortController().signal,
    });
    const done = session.run();
    expect(session.sendRenewal('CSR-0')).toBe(false);
    stream.push(welcome);
    await flush();
    expect(session.sendRenewal('CSR-1')).toBe(true);
    expect(stream.sentOfCase('renew')).toEqual([{ csrPem: 'CSR-1' }]);
    stream.push({ message: { $case: 'renewed', value: { certificatePem: 'CERT', caBundlePem: 'CA' } } });
    stream.push({ message: { $case: 'trust', value: { caBundlePem: 'CA2' } } });
    await flush();
    expect(renewed).toEqual(['CERT']);
    expect(bundles).toEqual(['CA2']);
    session.close('the client certificate was renewed');
    await expect(done).resolves.toBeUndefined();
    expect(session.closeReason).toBe('the client certificate was renewed');
    expect(stream.cancelled).toBe(true);
  });
});

describe('runConnectLoop', () => {
  it('reconnects after failures with backoff, slowly after an auth refusal, and stops on abort', async () => {
    const clock = createManualClock();
    const abort = new AbortController();
    const streams: FakeStream[] = [];
    const loop = runConnectLoop({
      dial: () => {
        const stream = new FakeStream();
        streams.push(stream);
        return stream;
      },
      handler: handler(),
      clock,
      signal: abort.signal,
      logger,
      backoff: { next: () => 1_000, reset: () => {}, attempts: 0 },
      authBackoff: { next: () => 60_000, reset: () => {}, attempts: 0 },
    });
    await flush();
    expect(streams).toHaveLength(1);
    streams[0]?.end(Object.assign(new Error('unavailable'), { code: 14, details: 'connect failed' }));
    await flush();
    await clock.advance(999);
    expect(streams).toHaveLength(1);
    await clock.advance(1);
    expect(streams).toHaveLength(2);
    streams[1]?.end(Object.assign(new Error('denied'), { code: 16, details: 'unknown token' }));
    // 5 s floor plus the auth backoff.
    await clock.advance(64_999);
    expect(streams).toHaveLength(2);
    await clock.advance(1);
    expect(streams).toHaveLength(3);
    // Every stream starts with a Hello.
    expect(streams.map((s) => s.sent[0]?.message?.$case)).toEqual(['hello', 'hello', 'hello']);
    abort.abort();
    await loop;
    expect(streams[2]?.cancelled).toBe(true);
  });

  it('by default never waits more than 2 s between ordinary reconnects, however long the outage', async () => {
    const clock = createManualClock();
    const abort = new AbortController();
    const dialledAt: number[] = [];
    const loop = runConnectLoop({
      dial: () => {
        dialledAt.push(clock.now());
        const stream = new FakeStream();
        queueMicrotask(() =>
          stream.end(Object.assign(new Error('unavailable'), { code: 14, details: 'refused' })),
        );
        return stream;
      },
      handler: handler(),
      clock,
      signal: abort.signal,
      logger,
    });
    for (let i = 0; i < 200; i += 1) {
      await flush();
      await clock.advance(100);
    }
    abort.abort();
    await loop;
    const gaps = dialledAt.slice(1).map((at, i) => at - (dialledAt[i] ?? 0));
    expect(gaps.length).toBeGreaterThan(8);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(RECONNECT_BACKOFF.maxMs + 100);
  });
});
