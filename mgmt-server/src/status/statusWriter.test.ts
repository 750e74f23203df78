import { createManualClock, type KubernetesClusterStatus } from '@kuberelay/shared';
import type { KubeRequest, KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StatusWriter } from './statusWriter.js';

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

function setup() {
  const clock = createManualClock({ start: 1_000_000 });
  const { rest, patches, setNow } = recordingRest();
  setNow(() => clock.now());
  const writer = new StatusWriter({
    rest,
    namespace: 'gloo-mesh',
    serverPod: 'gloo-mesh/mgmt-0',
    serverInstance: 'mgmt-0/a1',
    clock,
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
  });
  return { clock, writer, patches };
}

const status = (applied: number, heartbeat: string): KubernetesClusterStatus => ({
  connected: true,
  connectedPod: 'gloo-mesh/mgmt-0',
  lastHeartbeat: heartbeat,
  counts: { applied, failed: 0, conflict: 0, pending: 0 },
});

describe('StatusWriter', () => {
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
});
