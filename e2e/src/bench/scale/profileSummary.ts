import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// Summarises a V8 .cpuprofile (bench:scale --server-cpu-prof writes them) by where the time goes:
// self time per area of the code (our folders, grpc-js, node's TLS/HTTP/2, GC), optionally within
// a window of the run, and the top functions. What holds a target back is read from this.

const usage = `Usage: pnpm bench:profile FILE.cpuprofile [--from S] [--to S] [--top N]

  --from S, --to S   only samples between S and S seconds after the profile started
  --top N            the N functions with the most self time (default 25)`;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Areas in order: the first whose pattern matches a frame's url (or name) takes its time. */
const AREAS: readonly (readonly [string, RegExp])[] = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['(program: native, unattributed)', /^\(program\)$/],
  ['desired state (shared/desired, copy, select)', /shared\/(dist|src)\/(desired|copy|select|distribute)/],
  ['status (mgmt-server/status)', /mgmt-server\/(dist|src)\/status/],
  ['streams (mgmt-server/stream, grpc)', /mgmt-server\/(dist|src)\/(stream|grpc)/],
  ['snapshots and digests', /(mgmt-server|shared)\/(dist|src)\/(snapshot|digest)/],
  ['protocol encode/decode (proto/)', /proto\/(dist|src)|protobufjs|@bufbuild|long\/|ts-proto/],
  ['kube REST and informers (shared/kube)', /shared\/(dist|src)\/kube/],
  ['other Kuberelay code', /(mgmt-server|shared|agent)\/(dist|src)/],
  ['grpc-js', /@grpc\/grpc-js/],
  ['certificates (@peculiar, asn1)', /@peculiar|asn1|pvtsutils|pkijs/],
  ['logging (pino)', /pino|sonic-boom/],
  ['node: HTTP/2', /node:internal\/http2|^node:http2/],
  [
    'node: TLS, crypto, sockets',
    /node:internal\/(tls|crypto|net|stream_base|js_stream)|^node:(tls|crypto|net)/,
  ],
  [
    'node: streams, events, timers',
    /node:internal\/(streams|event|timers|process\/task_queues)|^node:(events|stream|timers)/,
  ],
  ['node: other', /^node:/],
];

const areaOf = (node: ProfileNode): string => {
  const { url, functionName } = node.callFrame;
  for (const [name, pattern] of AREAS)
    if (pattern.test(url) || (url === '' && pattern.test(functionName))) return name;
  return url === '' ? '(native, no url)' : 'other dependencies';
};

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      top: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const file = positionals[0];
  if (values.help || file === undefined) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fromUs = Number(values.from ?? 0) * 1e6;
  const toUs = values.to === undefined ? Number.POSITIVE_INFINITY : Number(values.to) * 1e6;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let t = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) return;
    const node = byId.get(id);
    if (node === undefined) return;
    total += delta;
    const area = areaOf(node);
    areas.set(area, (areas.get(area) ?? 0) + delta);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(mgmt-server|shared|agent|proto)\//, '$1/')}:${lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + delta);
  });
  const busy = total - (areas.get('idle') ?? 0);
  const line = (label: string, us: number) =>
    `${(us / 1e6).toFixed(2).padStart(8)} s  ${((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5)} % of busy  ${label}`;
  process.stdout.write(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy\n\nBy area (self time):\n`,
  );
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1]))
    if (area !== 'idle') process.stdout.write(`${line(area, us)}\n`);
  process.stdout.write(`\nTop functions (self time):\n`);
  for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top ?? 25))) {
    if (!fn.startsWith('(idle)')) process.stdout.write(`${line(fn, us)}\n`);
  }
  return 0;
}

process.exitCode = main();
