/** How a finding is shown: meshctl's traffic lights. */
export const Health = {
  ok: 'ok',
  warning: 'warning',
  error: 'error',
} as const;
export type Health = (typeof Health)[keyof typeof Health];

export const HEALTH_EMOJI: Readonly<Record<Health, string>> = {
  ok: '🟢',
  warning: '🟡',
  error: '🔴',
};

const RANK: Readonly<Record<Health, number>> = { ok: 0, warning: 1, error: 2 };

/** The worst of several healths (ok when there are none). */
export function worstHealth(healths: Iterable<Health>): Health {
  let worst: Health = Health.ok;
  for (const h of healths) if (RANK[h] > RANK[worst]) worst = h;
  return worst;
}

/** `🟢 text` */
export const healthLine = (health: Health, text: string): string => `${HEALTH_EMOJI[health]} ${text}`;

/** Longest line of free text (an annotation, an error message) a report prints. */
export const MAX_LINE_CHARS = 240;

/** `text` cut to `max` code points, saying how much was left out, so one hostile annotation
 * cannot make a 20 KB line. */
export function truncateText(text: string, max: number = MAX_LINE_CHARS): string {
  const chars = [...text];
  return chars.length <= max
    ? text
    : `${chars.slice(0, max).join('')}… (${chars.length - max} more characters)`;
}

/** The first `max` lines, and a line (indented like the first) saying how many were left out. */
export function firstLines(lines: readonly string[], max: number, what: string): string[] {
  if (lines.length <= max) {
    return [...lines];
  }
  const indent = /^\s*/.exec(lines[0] ?? '')?.[0] ?? '';
  return [...lines.slice(0, max), `${indent}… and ${lines.length - max} more ${what}`];
}

export interface TableOptions {
  /** Between columns: `' | '` (meshctl check) or `'  '` (kubectl get). */
  readonly separator?: string;
  /** Prefix of every line. */
  readonly indent?: string;
}

/** Width of a cell as a terminal shows it: code points, with wide emoji counted twice. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /\p{Extended_Pictographic}/u.test(ch) ? 2 : 1;
  return width;
}

/**
 * A text table: columns padded to their widest cell, trailing blanks removed, one line per row
 * (line breaks inside a cell are replaced by spaces so a row stays a row).
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const separator = options.separator ?? '  ';
  const indent = options.indent ?? '';
  const clean = (cell: string | undefined) => (cell ?? '').replace(/\s*\n\s*/g, ' ');
  const all = [header, ...rows].map((row) => header.map((_, i) => clean(row[i])));
  const widths = header.map((_, i) => Math.max(...all.map((row) => displayWidth(row[i] ?? ''))));
  return all
    .map((row) => {
      const cells = row.map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - displayWidth(cell)),
      );
      return `${indent}${cells.join(separator)}`.trimEnd();
    })
    .join('\n')
    .concat('\n');
}

/** kubectl's short ages: 45s, 12m, 5h, 3d. Negative ages (clock skew) count as 0s. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Milliseconds from an RFC 3339 time to `now`, or undefined when `time` is absent or invalid. */
export function ageMs(time: string | null | undefined, now: Date): number | undefined {
  if (!time) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : now.getTime() - t;
}

/** A stable JSON document: two-space indentation and a final newline. */
export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
