import { parseArgs } from 'node:util';
import { parseDistributeTo, registeredClusters, selectTargets } from '@kuberelay/shared';

const usage = `Usage: pnpm bench:annotations [--random N] [--clusters N]

Evaluates hostile gloo.solo.io/distribute-to values the way the management server does (parse,
compile, select targets against the registered clusters) and prints, per class of value, the time
and heap one first evaluation takes, beside a raw baseline measured in the same run: the value
"*/gloo-system" and a value naming every cluster. Goal (docs/spec.md D2.10): no value of at most
64 KiB takes more than 10 ms or 10 MiB. Figures, not a pass/fail test.

Options:
  --random N     random values of up to 64 KiB made of glob syntax (default 2000)
  --clusters N   registered clusters (default 1000)`;

/** Known ways to make a short value expensive, each checked by a test in shared/src/distributeTo. */
const BOMBS: Readonly<Record<string, string>> = {
  'brace product {a,b}x20': `${'{a,b}'.repeat(20)}/gloo-system`,
  '{a,b}x10: 1,024 patterns, the limit': '{a,b}'.repeat(10),
  'range {1..10^20}': 'c{1..99999999999999999999}',
  'nested {{{...}}} x5000': `${'{'.repeat(5000)}a,b${'}'.repeat(5000)}`,
  'star backtracking': `${'*a'.repeat(30)}b`,
  'extglob nesting': `${'+('.repeat(40)}a${')'.repeat(40)}b`,
  '64 KiB of one name': 'x'.repeat(64 * 1024),
  '64 KiB of commas': ','.repeat(64 * 1024),
  '1024 wildcard entries': Array.from({ length: 1024 }, (_, i) => `g${i}-*`).join(','),
  '1024 literal entries': Array.from({ length: 1024 }, (_, i) => `cluster-${i}`).join(','),
};

const PIECES = [
  '{a,b}',
  '{1..40}',
  '*',
  '?',
  'qa',
  'cluster-1',
  ',',
  '{',
  '}',
  '[a-z]',
  '/ns',
  '!',
  '\\',
  '+(',
  ')',
  '|',
];

interface Figures {
  readonly ms: number[];
  readonly mib: number[];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      random: { type: 'string' },
      clusters: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const randomCount = Number(values.random ?? 2000);
  const clusterCount = Number(values.clusters ?? 1000);
  if (
    !Number.isInteger(randomCount) ||
    randomCount < 1 ||
    !Number.isInteger(clusterCount) ||
    clusterCount < 1
  ) {
    throw new Error('--random and --clusters take whole numbers of at least 1');
  }
  const gc = globalThis.gc;
  if (gc === undefined) {
    throw new Error('run with node --expose-gc (pnpm bench:annotations does)');
  }
  const names = Array.from({ length: clusterCount }, (_, i) => `cluster-${i}`);
  const clusters = registeredClusters(names);
  let salt = 0;
  // A unique suffix entry per evaluation: the parse cache would otherwise answer repeats for free,
  // and what is measured is the first evaluation of a value.
  const evaluate = (value: string): { ms: number; mib: number } => {
    salt += 1;
    const unique = `${value},!salt-${salt}`;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    const parsed = parseDistributeTo(unique, { clusterScoped: false });
    if (parsed.ok) {
      selectTargets(parsed.value, { clusters, sourceNamespace: 'gloo-mesh' });
    }
    const ms = performance.now() - start;
    return { ms, mib: Math.max(0, process.memoryUsage().heapUsed - heapBefore) / 2 ** 20 };
  };
  const run = (value: string, runs: number): Figures => {
    const figures: Figures = { ms: [], mib: [] };
    for (let i = 0; i < runs; i += 1) {
      const { ms, mib } = evaluate(value);
      figures.ms.push(ms);
      figures.mib.push(mib);
    }
    return figures;
  };

  run('*/gloo-system', 200); // warm-up: the JIT, not the value, would be measured first
  const rows: [string, Figures][] = [
    ['baseline "*/gloo-system"', run('*/gloo-system', 50)],
    ['baseline: every cluster by name', run(`{${names.slice(0, 1000).join(',')}}`, 20)],
  ];
  for (const [name, value] of Object.entries(BOMBS)) {
    rows.push([name, run(value, 5)]);
  }
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const random: Figures = { ms: [], mib: [] };
  let slowest = { ms: 0, value: '' };
  for (let i = 0; i < randomCount; i += 1) {
    const length = 1 + next(i % 10 === 0 ? 64 * 1024 : 400);
    let value = '';
    while (value.length < length) value += PIECES[next(PIECES.length)];
    value = value.slice(0, 64 * 1024);
    const { ms, mib } = evaluate(value);
    random.ms.push(ms);
    random.mib.push(mib);
    if (ms > slowest.ms) slowest = { ms, value };
  }
  rows.push([`random glob syntax (${randomCount})`, random]);
  // A slow random value is evaluated again: one that is slow every time is a finding, a one-off is
  // the machine (a GC, a JIT tier-up).
  rows.push(['the slowest random value, again', run(slowest.value, 5)]);

  const pct = (xs: readonly number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  };
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${'value'.padEnd(width)}  p50 ms  p99 ms  max ms  max heap MiB   (${clusterCount} clusters)`);
  let worstMs = 0;
  let worstMib = 0;
  for (const [name, f] of rows) {
    const max = Math.max(...f.ms);
    const mib = Math.max(...f.mib);
    if (!name.startsWith('baseline') && !name.startsWith('random')) {
      worstMs = Math.max(worstMs, max);
      worstMib = Math.max(worstMib, mib);
    }
    console.log(
      `${name.padEnd(width)}  ${pct(f.ms, 50).toFixed(2).padStart(6)}  ${pct(f.ms, 99).toFixed(2).padStart(6)}  ${max.toFixed(2).padStart(6)}  ${mib.toFixed(2).padStart(12)}`,
    );
  }
  console.log(
    `slowest random value (${slowest.value.length} characters): ${JSON.stringify(slowest.value.slice(0, 120))}`,
  );
  console.log(
    `worst hostile value (bombs and the slowest random value re-run): ${worstMs.toFixed(2)} ms (goal <= 10 ms: ${worstMs <= 10 ? 'met' : 'NOT met'}), ${worstMib.toFixed(2)} MiB (goal <= 10 MiB: ${worstMib <= 10 ? 'met' : 'NOT met'})`,
  );
}

main();
