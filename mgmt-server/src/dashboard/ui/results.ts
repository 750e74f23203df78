import { h } from './dom.js';

// How a copy's result looks. The list is open: a result name the server sends that is not here
// (a new outcome added after this page was built) still shows, with its own name and a colour
// derived from it, never as blank or as another result. Colour is never the only signal: every
// badge carries the name (or its first letters plus a title and an accessible label).

interface ResultStyle {
  /** Background; text is dark or light to keep contrast. */
  readonly colour: string;
  readonly light: boolean;
  readonly short: string;
}

const KNOWN: Readonly<Record<string, ResultStyle>> = {
  Applied: { colour: '#1a7f37', light: true, short: 'OK' },
  Pending: { colour: '#bf8700', light: false, short: 'PEND' },
  Failed: { colour: '#cf222e', light: true, short: 'FAIL' },
  Conflict: { colour: '#8250df', light: true, short: 'CONF' },
  Drifted: { colour: '#d4580b', light: true, short: 'DRIFT' },
  Paused: { colour: '#57606a', light: true, short: 'PAUSE' },
  Orphan: { colour: '#953800', light: true, short: 'ORPH' },
  NotConnected: { colour: '#d0d7de', light: false, short: 'N/C' },
  Unknown: { colour: '#eaeef2', light: false, short: '?' },
};

/** Dark enough for white text, spread over the hue circle, stable per name. */
export function styleOf(result: string): ResultStyle {
  const known = KNOWN[result];
  if (known !== undefined) return known;
  let hash = 0;
  for (const c of result) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return { colour: `hsl(${hash % 360} 60% 35%)`, light: true, short: result.slice(0, 5).toUpperCase() };
}

/** Human words for the result names that are identifiers. */
export function label(result: string): string {
  return result === 'NotConnected' ? 'Not connected' : result;
}

/** A coloured badge. `short`: the abbreviation (matrix cells); else the full name. */
export function badge(
  result: string,
  options: { short?: boolean; count?: number; title?: string } = {},
): HTMLElement {
  const style = styleOf(result);
  const text = options.short ? style.short : label(result);
  const el = h(
    'span',
    {
      class: `badge ${style.light ? 'on-dark' : 'on-light'}`,
      'data-result': result,
      title: options.title ?? label(result),
    },
    options.count === undefined ? text : `${text} ${options.count}`,
  );
  // CSSOM, not a style attribute: the page's CSP allows no inline styles, and the colour of an
  // unknown result can only be computed here.
  el.style.setProperty('--badge', style.colour);
  return el;
}

/** Badges for counts by result (the server sends them worst first). */
export function countBadges(counts: Readonly<Record<string, number>>): HTMLElement {
  const entries = Object.entries(counts);
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h(
    'span',
    { class: 'badges' },
    entries.map(([result, n]) => badge(result, { count: n })),
  );
}

/** Every result shown on the page, for the legend. */
export function legend(results: Iterable<string>): HTMLElement {
  const names = [...new Set(results)];
  return h(
    'p',
    { class: 'legend' },
    h('span', { class: 'muted' }, 'Legend: '),
    names.map((r) => [badge(r, { short: true }), ` ${label(r)} `]),
  );
}
