import { getEventListeners } from 'node:events';
import { type Clock, createManualClock, type KubernetesClusterStatus } from '@kuberelay/shared';
import { KubeApiError, type KubeRequest, type KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StatusWriter, type StatusWriterOptions } from './statusWriter.js';

/** Records the status patches the writer sends instead of sending them. */
function recordingRest() {
  const patches: { at: number; status: KubernetesClusterStatus }[] = [];
  let now = () => 0;
  const rest = {
    request: async (req: KubeRequest) => {
      if (req.method === 'PATCH')
        patches.push({ at: now(), status: (req.body as { status: KubernetesClusterStatus }).status });
      return {};
    },
  } as unknown as KubeRest;
  return { rest, patches, setNow: (fn: () => number) => (now = fn) };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A writer; without options, no settling and no budget (the tests of each are below). */
function setup(options: Partial<Pick<StatusWriterOptions, 'settleMs' | 'writesPerSecond'>> = {}) {
  const clock = createManualClock({ start: 1_000_000 });
  const { rest, patches, setNow } = recordingRest();
  setNow(() => clock.now());
  return { clock, writer: newWriter(rest, clock, options), patches };
}

/** The writer of replica mgmt-0; without options, no settling and no budget. */
function newWriter(rest: KubeRest, clock: Clock, options: Partial<StatusWriterOptions> = {}): StatusWriter {
  return new StatusWriter({
    rest,
    namespace: 'gloo-mesh',
    serverPod: 'gloo-mesh/mgmt-0',
    serverInstance: 'mgmt-0/a1',
    clock,
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    settleMs: 0,
    writesPerSecond: 0,
    ...options,
  });
}

const status = (applied: number, heartbeat: string): KubernetesClusterStatus => ({
  connected: true,
  connectedPod: 'gloo-mesh/mgmt-0',
  lastHeartbeat: heartbeat,
  counts: { applied, failed: 0, conflict: 0, pending: 0 },
});

describe('StatusWriter', () => {
  it('keeps one pending wake-up per cluster and one listener on the server signal, however often it is rescheduled', async () => {
    const clock = createManualClock({ start: 1_000_000 });
    const stop = new AbortController();
    const writer = newWriter(recordingRest().rest, clock, { signal: stop.signal, settleMs: 1_000 });
    for (const cluster of ['c1', 'c2', 'c3']) writer.set(cluster, status(1, 'h0'));
    await flush();
    await clock.advance(2_000);
    // A heartbeat waits 30 s; each real change then replaces that wait with a sooner one.
    for (let i = 0; i < 50; i += 1) {
      for (const cluster of ['c1', 'c2', 'c3']) {
        writer.touch(cluster, { lastHeartbeat: `h${i}` });
        writer.set(cluster, status(i + 2, `h${i}`));
      }
      await flush();
      await clock.advance(10);
    }
    expect(clock.pendingSleeps()).toBeLessThanOrEqual(3);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    stop.abort();
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('writes the first status at once, then at most once a second, the latest value winning', async () => {
    const { clock, writer, patches } = setup();
    writer.set('c1', status(1, 'h0'));
    await flush();
    writer.set('c1', status(2, 'h0'));
    writer.set('c1', status(3, 'h0'));
    await flush();
    expect(patches.map((p) => p.status.counts?.applied)).toEqual([1]);
    await clock.advance(1_000);
    await flush();
    expect(patches.map((p) => p.status.counts?.applied)).toEqual([1, 3]);
  });

  it('holds a heartbeat-only change for 30 s, but never holds back a real change behind it', async () => {
    const { clock, writer, patches } = setup();
    writer.set('c1', status(1, 'h0'));
    await flush();
    await clock.advance(2_000);
    writer.set('c1', status(1, 'h1')); // heartbeat only: waits for the 30 s interval
    await flush();
    await clock.advance(5_000);
    await flush();
    expect(patches).toHaveLength(1);
    writer.set('c1', status(2, 'h2')); // new counts: written now, not when the heartbeat wake fires
    await flush();
    expect(patches.map((p) => [p.status.counts?.applied, p.status.lastHeartbeat])).toEqual([
      [1, 'h0'],
      [2, 'h2'],
    ]);
  });

  it('writes nothing for a change undone within the settle time (an edit acknowledged at once)', async () => {
    const { clock, writer, patches } = setup({ settleMs: 1_000 });
    writer.set('c1', status(1, 'h0'));
    await flush();
    await clock.advance(5_000);
    // The version goes out: one copy pending; acknowledged 400 ms later, applied again.
    writer.set('c1', { ...status(0, 'h0'), sentVersion: '7' });
    await clock.advance(400);
    writer.set('c1', { ...status(1, 'h0'), sentVersion: '7', ackedVersion: '7' });
    await clock.advance(2_000);
    await flush();
    expect(patches).toHaveLength(1);
    // A change that lasts is written once it has lasted the settle time.
    writer.set('c1', { ...status(2, 'h0'), sentVersion: '7', ackedVersion: '7' });
    await clock.advance(999);
    await flush();
    expect(patches).toHaveLength(1);
    await clock.advance(1);
    await flush();
    expect(patches.map((p) => p.status.counts?.applied)).toEqual([1, 2]);
    // ... and the routine fields that changed meanwhile go with it.
    expect(patches[1]?.status.ackedVersion).toBe('7');
  });

  it('touch changes only the routine fields: held like a heartbeat, carried by the next write', async () => {
    const { clock, writer, patches } = setup();
    expect(writer.touch('c1', { lastHeartbeat: 'h1' })).toBe(false); // nothing to touch yet
    writer.set('c1', status(1, 'h0'));
    await flush();
    await clock.advance(2_000);
    expect(writer.touch('c1', { lastHeartbeat: 'h1', sentVersion: '8' })).toBe(true);
    await clock.advance(5_000);
    await flush();
    expect(patches).toHaveLength(1);
    await clock.advance(25_000);
    await flush();
    expect(patches.map((p) => [p.status.lastHeartbeat, p.status.sentVersion])).toEqual([
      ['h0', undefined],
      ['h1', '8'],
    ]);
  });

  it('writes at most the budget per second over all clusters', async () => {
    const { clock, writer, patches } = setup({ writesPerSecond: 10 });
    for (let i = 0; i < 30; i++) writer.set(`c${i}`, status(1, 'h0'));
    await flush();
    expect(patches).toHaveLength(10); // the burst: one second's worth
    await clock.advance(1_000);
    await flush();
    expect(patches).toHaveLength(20);
    await clock.advance(1_000);
    await flush();
    expect(patches).toHaveLength(30);
    expect(new Set(patches.map((p) => p.at)).size).toBeGreaterThan(2);
  });

  it('writes a heartbeat-only change once its interval has passed', async () => {
    const { clock, writer, patches } = setup();
    writer.set('c1', status(1, 'h0'));
    await flush();
    writer.set('c1', status(1, 'h1'));
    await flush();
    await clock.advance(29_000);
    await flush();
    expect(patches).toHaveLength(1);
    await clock.advance(1_000);
    await flush();
    expect(patches.map((p) => p.status.lastHeartbeat)).toEqual(['h0', 'h1']);
  });

  describe('with another replica writing the same cluster', () => {
    /**
     * One KubernetesCluster as the API server keeps it: a resourceVersion bumped on every write,
     * merge patches that carry a stale one refused with 409.
     */
    function liveObject(initial: KubernetesClusterStatus | undefined) {
      let rv = 1;
      let live = initial;
      const patches: KubernetesClusterStatus[] = [];
      const rest = {
        request: async (req: KubeRequest) => {
          if (req.method === 'GET') return { metadata: { resourceVersion: String(rv) }, status: live };
          const body = req.body as {
            metadata?: { resourceVersion?: string };
            status: KubernetesClusterStatus;
          };
          const expected = body.metadata?.resourceVersion;
          if (expected !== undefined && expected !== String(rv)) {
            throw new KubeApiError({
              status: 409,
              reason: 'Conflict',
              message: 'the object has been modified',
            });
          }
          patches.push(body.status);
          live = { ...live, ...body.status };
          rv += 1;
          return { metadata: { resourceVersion: String(rv) }, status: live };
        },
      } as unknown as KubeRest;
      return {
        rest,
        patches,
        /** Another replica's write. */
        otherWrites: (status: KubernetesClusterStatus) => {
          live = { ...live, ...status };
          rv += 1;
        },
        live: () => live,
      };
    }

    const ours = (applied: number, since: string): KubernetesClusterStatus => ({
      connected: true,
      connectedPod: 'gloo-mesh/mgmt-0',
      serverInstance: 'mgmt-0/a1',
      connectedSince: since,
      lastHeartbeat: 'h0',
      counts: { applied, failed: 0, conflict: 0, pending: 0 },
    });
    const theirs = (since: string): KubernetesClusterStatus => ({
      connected: true,
      connectedPod: 'gloo-mesh/mgmt-1',
      serverInstance: 'mgmt-1/b1',
      connectedSince: since,
      lastHeartbeat: 'h0',
      counts: { applied: 9, failed: 0, conflict: 0, pending: 0 },
    });

    function writerOn(rest: KubeRest) {
      const clock = createManualClock({ start: 1_000_000 });
      return { clock, writer: newWriter(rest, clock) };
    }

    it('never overwrites the status of a newer stream on another replica (the stale holder yields)', async () => {
      const api = liveObject(undefined);
      const { clock, writer } = writerOn(api.rest);
      writer.set('c1', ours(1, '2026-12-03T10:00:00.000Z'));
      await flush();
      // The agent moved: its new stream on mgmt-1 started after ours, and mgmt-1 wrote.
      api.otherWrites(theirs('2026-12-03T10:00:05.000Z'));
      await clock.advance(1_000);
      writer.set('c1', ours(2, '2026-12-03T10:00:00.000Z'));
      await flush();
      await clock.advance(1_000);
      writer.set('c1', { ...ours(2, ''), connected: false, connectedPod: '', serverInstance: '' });
      await flush();
      expect(api.patches.map((p) => p.counts?.applied)).toEqual([1]);
      expect(api.live()).toMatchObject(theirs('2026-12-03T10:00:05.000Z'));
    });

    it('takes over from an older stream another replica left behind, and from its own status after edits', async () => {
      const api = liveObject(theirs('2026-12-03T10:00:00.000Z'));
      const { clock, writer } = writerOn(api.rest);
      writer.set('c1', ours(1, '2026-12-03T10:00:05.000Z'));
      await flush();
      // Someone else touched the object (a label, say): one re-read, then our write goes through.
      api.otherWrites({});
      await clock.advance(1_000);
      writer.set('c1', ours(2, '2026-12-03T10:00:05.000Z'));
      await flush();
      expect(api.patches.map((p) => [p.serverInstance, p.counts?.applied])).toEqual([
        ['mgmt-0/a1', 1],
        ['mgmt-0/a1', 2],
      ]);
      expect(api.live()).toMatchObject(ours(2, '2026-12-03T10:00:05.000Z'));
    });
  });
});
