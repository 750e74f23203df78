import { parseArgs } from 'node:util';
import {
  computeDesiredState,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  DesiredStateEngine,
  type KubeObject,
} from '@kuberelay/shared';

// pnpm bench:engine: what one edit costs the desired-state engine at S sources x N clusters,
// beside the raw baseline of the same run (computeDesiredState from the previous state, what the
// server did for every change before issue 10), and the heap the state takes. Pure: no lab.

const usage = `Usage: pnpm bench:engine [--sources S] [--clusters N] [--edits E]
Prints the cold start, one edit's update (p50/max over E edits), adding a cluster and a source,
beside the whole recompute of the same edit, and the heap per (copy, cluster). Defaults 1000 x 1000, 20 edits.`;

const OPTIONS = { mgmtCluster: 'mgmt', classMapping: DEFAULT_CLASS_MAPPING, kinds: DEFAULT_KINDS };
let resourceVersion = 0;

function source(i: number, port: number): KubeObject {
  resourceVersion += 1;
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: {
      name: `s-${i}`,
      namespace: 'src',
      uid: `uid-${i}`,
      resourceVersion: String(resourceVersion),
      annotations: { 'gloo.solo.io/distribute-to': 'sim-*/gloo-system' },
    },
    spec: { kube: { serviceName: `svc-${i}`, serviceNamespace: 'httpbin', servicePort: port } },
  };
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

function main(): void {
  const { values } = parseArgs({
    options: {
      sources: { type: 'string' },
      clusters: { type: 'string' },
      edits: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const [s, n, edits] = [values.sources ?? '1000', values.clusters ?? '1000', values.edits ?? '20'].map(
    Number,
  );
  if (
    ![s, n, edits].every((v) => Number.isInteger(v) && (v ?? 0) >= 1) ||
    s === undefined ||
    n === undefined ||
    edits === undefined
  )
    throw new Error('--sources, --clusters and --edits take whole numbers of at least 1');
  const clusters = Array.from({ length: n }, (_, i) => `sim-${String(i).padStart(5, '0')}`);
  let sources = Array.from({ length: s }, (_, i) => source(i, 8000));
  const heapBefore = heap();
  const engine = new DesiredStateEngine(OPTIONS);
  const cold = timed(() => engine.update({ sources, clusters }));
  const heapAfter = heap();
  let whole: DesiredState = cold.value.state;
  const updates: number[] = [];
  const recomputes: number[] = [];
  for (let e = 0; e < edits; e++) {
    sources = sources.slice();
    sources[e % s] = source(e % s, 9000 + e);
    updates.push(timed(() => engine.update({ sources, clusters })).ms);
    const recompute = timed(() => computeDesiredState({ ...OPTIONS, sources, clusters, previous: whole }));
    recomputes.push(recompute.ms);
    whole = recompute.value;
  }
  const addCluster = timed(() => engine.update({ sources, clusters: [...clusters, 'sim-new'] })).ms;
  const addSource = timed(() =>
    engine.update({ sources: [...sources, source(s, 8000)], clusters: [...clusters, 'sim-new'] }),
  ).ms;
  const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;
  const f = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    [
      `${s} sources x ${n} clusters (${s * n} copies)`,
      `  cold start: ${f(cold.ms)}; heap ${((heapAfter - heapBefore) / 1048576).toFixed(0)} MiB, ${Math.round((heapAfter - heapBefore) / (s * n))} B per (copy, cluster)${globalThis.gc === undefined ? ' (run with --expose-gc for exact heap figures)' : ''}`,
      `  one edit: p50 ${f(p50(updates))}, max ${f(Math.max(...updates))} (raw baseline, the whole recompute: p50 ${f(p50(recomputes))}, max ${f(Math.max(...recomputes))}; ${(p50(recomputes) / p50(updates)).toFixed(0)}x)`,
      `  adding a cluster: ${f(addCluster)}; adding a source: ${f(addSource)}`,
    ].join('\n'),
  );
}

main();
