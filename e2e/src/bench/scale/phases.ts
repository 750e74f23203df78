import { ContentType, type KubeRest } from '@kuberelay/shared/kube';
import { inParallel } from '../../support/inParallel.js';
import type { Obj } from '../../support/objects.js';
import { percentile } from './serverProbe.js';
import type { Fleet } from './simAgents.js';

// The measured phases of the scale benchmark, against a running server and a connected fleet.

export const SOURCE_NS = 'scale-bench';
const EDITED = 'scale-edit';
const upstreams = `/apis/gloo.solo.io/v1/namespaces/${SOURCE_NS}/upstreams`;

function upstream(name: string, port: number): Obj {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name,
      namespace: SOURCE_NS,
      annotations: { 'gloo.solo.io/distribute-to': `sim-*/${SOURCE_NS}` },
    },
    spec: { kube: { serviceName: name, serviceNamespace: SOURCE_NS, servicePort: port } },
  };
}

/** Follows, per agent, the port of the edited source in the copies it acknowledged. */
export class PortTracker {
  readonly #ports = new Map<string, number>();
  readonly #waiters: { port: number; resolve: (at: number) => void }[] = [];
  readonly #agents: number;

  constructor(fleet: Fleet) {
    this.#agents = fleet.agents.length;
    fleet.onAck((agent, manifests, at) => {
      for (const manifest of manifests.values()) {
        const bytes = Buffer.from(manifest.buffer, manifest.byteOffset, manifest.byteLength);
        if (!bytes.includes(EDITED)) continue;
        const object = JSON.parse(bytes.toString('utf8')) as {
          metadata?: { name?: string };
          spec?: { kube?: { servicePort?: number } };
        };
        if (object.metadata?.name !== EDITED) continue;
        const port = object.spec?.kube?.servicePort;
        if (port !== undefined) this.#ports.set(agent.cluster, port);
      }
      for (const waiter of [...this.#waiters]) {
        if (this.#count(waiter.port) === this.#agents) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(at);
        }
      }
    });
  }

  #count(port: number): number {
    let n = 0;
    for (const p of this.#ports.values()) if (p === port) n += 1;
    return n;
  }

  /** Resolves with performance.now() of the ack that made every agent hold `port`. */
  everyAgentHas(port: number, timeoutMs: number): Promise<number> {
    if (this.#count(port) === this.#agents) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.#count(port)} of ${this.#agents} agents got port ${port} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        port,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

const setPort = (mgmt: KubeRest, port: number) =>
  mgmt.request({
    method: 'PATCH',
    path: `${upstreams}/${EDITED}`,
    contentType: ContentType.mergePatch,
    body: { spec: { kube: { servicePort: port } } },
  });

export async function createEditedSource(mgmt: KubeRest, tracker: PortTracker): Promise<void> {
  await mgmt.request({ method: 'POST', path: upstreams, body: upstream(EDITED, 10_000) });
  await tracker.everyAgentHas(10_000, 120_000);
}

/** Sequential edits; for each, the time until every agent acknowledged it. */
export async function editLatency(mgmt: KubeRest, tracker: PortTracker, edits: number): Promise<number[]> {
  const times: number[] = [];
  for (let k = 1; k <= edits; k++) {
    const port = 20_000 + k;
    const started = performance.now();
    const all = tracker.everyAgentHas(port, 120_000);
    await setPort(mgmt, port);
    times.push((await all) - started);
    await new Promise((r) => setTimeout(r, 100));
  }
  return times;
}

/**
 * `edits` PATCHes back to back; ms from sending the last one until every agent has it (from its
 * send, not its answer: the copies can arrive before the PATCH's own response does).
 */
export async function rapidEdits(mgmt: KubeRest, tracker: PortTracker, edits: number): Promise<number> {
  const last = 30_000 + edits - 1;
  const all = tracker.everyAgentHas(last, 300_000);
  let lastSent = performance.now();
  for (let k = 0; k < edits; k++) {
    lastSent = performance.now();
    await setPort(mgmt, 30_000 + k);
  }
  return (await all) - lastSent;
}

/** Creates `sources` more sources for every cluster; ms until every agent holds them all. */
export async function fullDistribution(
  mgmt: KubeRest,
  fleet: Fleet,
  sources: number,
  timeoutMs: number,
): Promise<number> {
  const want = sources + 1; // and the edited one
  const names = Array.from({ length: sources }, (_, i) => `scale-s-${String(i).padStart(4, '0')}`);
  const started = performance.now();
  await inParallel(names, 16, (name) =>
    mgmt.request({ method: 'POST', path: upstreams, body: upstream(name, 8080) }),
  );
  await waitForAll(fleet, (held) => held === want, timeoutMs, `every agent holding ${want} copies`);
  return performance.now() - started;
}

export async function deleteDistributed(mgmt: KubeRest, fleet: Fleet): Promise<void> {
  // A collection delete of 1,000 sources on the lab's API server outlasts the default 30 s.
  await mgmt.request({ method: 'DELETE', path: upstreams, timeoutMs: 300_000 });
  await waitForAll(fleet, (held) => held === 0, 300_000, 'every agent holding no copies');
}

export async function waitForAll(
  fleet: Fleet,
  ok: (held: number) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const done = fleet.agents.filter((a) => ok(a.held.size)).length;
    if (done === fleet.agents.length) return;
    if (performance.now() > deadline)
      throw new Error(`${what}: ${done} of ${fleet.agents.length} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Raw baseline: PATCH round trips to the same API server (sequential), and PATCHes/s with 16 in
 * flight, each writer on its own ConfigMap (one object patched concurrently measures etcd
 * conflict retries, not the API server).
 */
export async function rawPatch(
  mgmt: KubeRest,
  namespace: string,
): Promise<{ roundTripMs: number; perSecond: number }> {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const writers = Array.from({ length: 16 }, (_, i) => `scale-raw-${i}`);
  for (const name of writers) {
    await mgmt
      .request({ method: 'POST', path, body: { metadata: { name }, data: { n: '0' } } })
      .catch(() => {});
  }
  const patch = (name: string, n: number) =>
    mgmt.request({
      method: 'PATCH',
      path: `${path}/${name}`,
      contentType: ContentType.mergePatch,
      body: { data: { n: String(n) } },
    });
  const sequential: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await patch('scale-raw-0', i);
    sequential.push(performance.now() - started);
  }
  const perWriter = 25;
  const started = performance.now();
  await Promise.all(
    writers.map(async (name) => {
      for (let i = 0; i < perWriter; i++) await patch(name, 1_000 + i);
    }),
  );
  const total = writers.length * perWriter;
  return {
    roundTripMs: percentile(sequential, 50),
    perSecond: total / ((performance.now() - started) / 1000),
  };
}
