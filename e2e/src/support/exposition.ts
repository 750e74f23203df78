/**
 * Reads the Prometheus text exposition format (what /metrics serves) into samples, enough for
 * tests: names, label sets and values. Label values are unescaped (\\, \", \n).
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const [, name = '', body = '', value = ''] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (label === null) throw new Error(`bad labels in: ${line}`);
      labels[label[1] ?? ''] = (label[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/**
 * The value of the one sample `name` whose labels are exactly `labels` plus, optionally, those
 * named in `ignoring` (an agent's `cluster`, say); NaN when there is none.
 */
export function sampleValue(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
  ignoring: readonly string[] = [],
): number {
  const wanted = Object.entries(labels);
  const found = parseExposition(text).find(
    (s) =>
      s.name === name &&
      wanted.every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).every((k) => k in labels || ignoring.includes(k)),
  );
  return found === undefined ? Number.NaN : found.value;
}
