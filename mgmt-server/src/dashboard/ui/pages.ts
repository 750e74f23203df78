import type { ClusterPage, ClusterRow, FleetView } from '../fleetView.js';
import type { MatrixView } from '../matrixView.js';
import type { SourcePage } from '../sourceView.js';
import { ago, type Child, h } from './dom.js';
import { badge, countBadges, label, legend } from './results.js';

// One render function per page, from the JSON the server built (the types are the server's own,
// imported as types only: nothing of the server is bundled). Each returns the page's content.

export const link = {
  fleet: (filter = '') => `#/${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`,
  matrix: (filter = '') => `#/matrix${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`,
  source: (key: string) => `#/source/${encodeURIComponent(key)}`,
  cluster: (name: string) => `#/cluster/${encodeURIComponent(name)}`,
};

/** `gateway.networking.k8s.io/Gateway/gloo-mesh/gw` → `Gateway gloo-mesh/gw`. */
function sourceName(s: { kind: string; namespace: string | null; name: string }): string {
  return `${s.kind} ${s.namespace === null ? '' : `${s.namespace}/`}${s.name}`;
}

function table(
  caption: string,
  head: readonly string[],
  rows: readonly Child[],
  extra: Child = null,
): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('caption', {}, caption, extra),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

function connection(row: ClusterRow): HTMLElement {
  return row.connected
    ? h('span', { class: 'state ok' }, 'Connected')
    : h('span', { class: 'state bad' }, 'Disconnected');
}

function upToDate(row: ClusterRow): string {
  if (row.upToDate) return 'Yes';
  if (!row.connected) return 'No';
  return row.behindSeconds === null ? 'No' : `Behind ${Math.round(row.behindSeconds)} s`;
}

function versions(row: ClusterRow): string {
  return `${row.ackedVersion ?? '—'} / ${row.sentVersion ?? '—'}`;
}

export function fleetPage(view: FleetView): Child[] {
  const t = view.totals;
  return [
    h('h1', {}, 'Fleet'),
    h(
      'dl',
      { class: 'summary' },
      h('div', {}, h('dt', {}, 'Clusters'), h('dd', {}, t.clusters)),
      h('div', {}, h('dt', {}, 'Connected'), h('dd', {}, `${t.connected} of ${t.clusters}`)),
      h('div', {}, h('dt', {}, 'Up to date'), h('dd', {}, `${t.upToDate} of ${t.clusters}`)),
      h('div', {}, h('dt', {}, 'Copies'), h('dd', {}, countBadges(t.counts))),
    ),
    table(
      `Clusters${view.filter ? ` matching ${view.filter}` : ''}: ${view.clusters.length}`,
      [
        'Cluster',
        'Connection',
        'Held by',
        'Agent',
        'Replicas',
        'Last heartbeat',
        'Acked / sent',
        'Up to date',
        'Copies',
      ],
      view.clusters.map((row) =>
        h(
          'tr',
          { 'data-cluster': row.name },
          h('th', { scope: 'row' }, h('a', { href: link.cluster(row.name) }, row.name)),
          h('td', {}, connection(row)),
          h('td', {}, row.heldBy ?? '—'),
          h('td', {}, row.agentVersion ?? '—'),
          h('td', {}, row.agentReplicas),
          h('td', { title: row.lastHeartbeat ?? '' }, ago(row.lastHeartbeat, view.generatedAt)),
          h('td', {}, versions(row)),
          h('td', {}, upToDate(row)),
          h('td', {}, countBadges(row.counts)),
        ),
      ),
    ),
  ];
}

export function matrixPage(view: MatrixView, setFilter: (filter: string) => void): Child[] {
  const seen = new Set<string>();
  for (const row of view.rows) for (const cell of row.cells) if (cell !== null) seen.add(cell.result);
  const columnHead = (c: MatrixView['columns'][number]) =>
    view.grouped
      ? h(
          'th',
          { scope: 'col', 'data-column': c.id },
          h(
            'button',
            { type: 'button', class: 'linkish', onclick: () => setFilter(c.id), title: `Show only ${c.id}` },
            c.id,
          ),
          h('span', { class: 'muted block' }, `${c.connected}/${c.clusters} connected`),
        )
      : h(
          'th',
          { scope: 'col', 'data-column': c.id, class: c.connected === 0 ? 'down' : undefined },
          h('a', { href: link.cluster(c.id) }, c.id),
          c.connected === 0 ? h('span', { class: 'muted block' }, 'disconnected') : null,
        );
  const note = [
    view.grouped
      ? `${view.clusters.toLocaleString('en')} clusters, grouped by name (more than fit as columns): pick a group or type a filter to see its clusters.`
      : null,
    view.hiddenColumns > 0 ? ` ${view.hiddenColumns} more columns not shown: narrow the filter.` : null,
    view.hiddenRows > 0 ? ` ${view.hiddenRows} more sources not shown (best results last).` : null,
  ].filter((n) => n !== null);
  return [
    h('h1', {}, 'Sources × clusters'),
    note.length > 0 ? h('p', { class: 'note' }, note) : null,
    legend(seen),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'matrix' },
        h(
          'caption',
          {},
          `${view.rows.length} sources × ${view.columns.length} ${view.grouped ? 'groups' : 'clusters'}`,
        ),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Source'), view.columns.map(columnHead))),
        h(
          'tbody',
          {},
          view.rows.map((row) =>
            h(
              'tr',
              { 'data-source': row.source.key },
              h(
                'th',
                { scope: 'row' },
                h('a', { href: link.source(row.source.key) }, sourceName(row.source)),
                row.source.errors > 0
                  ? h('span', { class: 'state bad' }, ` ${row.source.errors} error(s)`)
                  : null,
              ),
              row.cells.map((cell, i) => {
                const column = view.columns[i]?.id ?? '';
                if (cell === null)
                  return h('td', { class: 'empty', 'aria-label': `${column}: not selected` }, '·');
                const detail = Object.entries(cell.counts)
                  .map(([r, n]) => `${label(r)} ${n}`)
                  .join(', ');
                return h(
                  'td',
                  { 'data-column': column, 'aria-label': `${column}: ${detail}` },
                  badge(cell.result, { short: true, title: `${column}: ${detail}` }),
                  view.grouped
                    ? h(
                        'span',
                        { class: 'muted' },
                        // How many of the group's copies have the shown (worst) result.
                        ` ${cell.counts[cell.result] ?? 0}/${Object.values(cell.counts).reduce((a, b) => a + b, 0)}`,
                      )
                    : null,
                );
              }),
            ),
          ),
        ),
      ),
    ),
  ];
}

export function sourcePage(page: SourcePage): Child[] {
  const s = page.source;
  return [
    h('h1', {}, sourceName(s)),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Kind'),
      h('dd', {}, `${s.kind} (${s.group || 'core'})`),
      h('dt', {}, 'Annotation'),
      h('dd', {}, h('code', {}, `gloo.solo.io/distribute-to: "${s.distributeTo}"`)),
      Object.keys(s.controls).length === 0
        ? null
        : [
            h('dt', {}, 'Controls'),
            h(
              'dd',
              {},
              Object.entries(s.controls).map(([k, v], i) => [
                i > 0 ? ', ' : '',
                h('code', {}, `${k}: "${v}"`),
              ]),
            ),
          ],
      h('dt', {}, 'Clusters'),
      h(
        'dd',
        {},
        page.clusters.length === 0
          ? 'none'
          : page.clusters.map((c, i) => [i > 0 ? ', ' : '', h('a', { href: link.cluster(c) }, c)]),
      ),
      h('dt', {}, 'Namespaces'),
      h('dd', {}, page.namespaces.join(', ') || '—'),
      h('dt', {}, 'Copies'),
      h('dd', {}, countBadges(page.counts)),
    ),
    page.reports.length === 0
      ? null
      : [
          h('h2', {}, 'Findings'),
          h(
            'ul',
            { class: 'reports' },
            page.reports.map((r) =>
              h('li', { class: r.severity }, h('strong', {}, `${r.severity}: ${r.code}`), ` ${r.message}`),
            ),
          ),
        ],
    page.rollout === null
      ? null
      : [
          h('h2', {}, 'Rollout'),
          h(
            'p',
            { class: `rollout ${page.rollout.phase}`, 'data-rollout': page.rollout.phase },
            h('strong', {}, page.rollout.phase),
            ` (revision ${page.rollout.revision}, waves "${page.rollout.waves}"): ${page.rollout.reason}`,
            page.rollout.soakUntil === null ? '' : ` until ${page.rollout.soakUntil}`,
          ),
          h(
            'ol',
            { class: 'waves' },
            page.rollout.byWave.map((w) =>
              h(
                'li',
                { 'data-wave': w.wave, class: w.reached ? 'reached' : 'waiting' },
                `wave ${w.wave} (${w.reached ? 'reached' : 'not reached yet'}): `,
                w.clusters.length === 0
                  ? 'no selected cluster'
                  : w.clusters.map((c, i) => [i > 0 ? ', ' : '', h('a', { href: link.cluster(c) }, c)]),
              ),
            ),
          ),
        ],
    page.events.length === 0
      ? null
      : table(
          'Recent Events (recorded by this server replica)',
          ['When', 'Reason', 'Message'],
          page.events.map((e) =>
            h(
              'tr',
              { 'data-event': e.reason },
              h('td', { title: e.at }, ago(e.at, page.generatedAt)),
              h('td', {}, e.reason),
              h('td', {}, e.message),
            ),
          ),
        ),
    table(
      `Copies: ${page.copies.length}`,
      ['Cluster', 'Namespace', 'Result', 'Reason'],
      page.copies.map((c) =>
        h(
          'tr',
          { 'data-cluster': c.cluster },
          h('th', { scope: 'row' }, h('a', { href: link.cluster(c.cluster) }, c.cluster)),
          h('td', {}, c.namespace ?? '—'),
          h('td', {}, badge(c.result)),
          h('td', {}, reason(c)),
        ),
      ),
    ),
  ];
}

export function clusterPage(page: ClusterPage): Child[] {
  const row = page.cluster;
  return [
    h('h1', {}, `Cluster ${row.name}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Connection'),
      h('dd', {}, connection(row), row.heldBy ? ` to ${row.heldBy}` : ''),
      h('dt', {}, 'Agent'),
      h(
        'dd',
        {},
        `${row.agentPod ?? '—'} (${row.agentVersion ?? 'version unknown'}), ${row.agentReplicas} replica(s)`,
      ),
      h('dt', {}, 'Last heartbeat'),
      h('dd', { title: row.lastHeartbeat ?? '' }, ago(row.lastHeartbeat, page.generatedAt)),
      h('dt', {}, 'Acked / sent version'),
      h('dd', {}, versions(row)),
      h('dt', {}, 'Up to date'),
      h('dd', {}, upToDate(row)),
      h('dt', {}, 'Copies'),
      h('dd', {}, countBadges(row.counts)),
      row.lastRejected === null
        ? null
        : [
            h('dt', {}, 'Last refused version'),
            h('dd', {}, `${row.lastRejected.version} at ${row.lastRejected.at}: ${row.lastRejected.message}`),
          ],
    ),
    table(
      `Copies: ${page.copies.length}`,
      ['Copy', 'Source', 'Result', 'Reason', 'Drift repairs'],
      page.copies.map((c) =>
        h(
          'tr',
          { 'data-key': c.key },
          h('th', { scope: 'row' }, h('code', {}, c.key)),
          h(
            'td',
            {},
            c.source === null
              ? h('span', { class: 'muted' }, 'gone (orphan)')
              : h('a', { href: link.source(c.source) }, c.source),
          ),
          h('td', {}, badge(c.result)),
          h('td', {}, reason(c)),
          h(
            'td',
            { 'data-repairs': c.repairs?.count ?? 0, title: c.repairs?.last ?? '' },
            c.repairs === null ? '—' : `${c.repairs.count}, last ${ago(c.repairs.last, page.generatedAt)}`,
          ),
        ),
      ),
    ),
    page.rejected.length === 0
      ? null
      : table(
          'Refused connection attempts (by this server replica)',
          ['When', 'Code', 'Reason', 'From'],
          page.rejected.map((r) =>
            h(
              'tr',
              {},
              h('td', { title: r.at }, ago(r.at, page.generatedAt)),
              h('td', {}, r.code),
              h('td', {}, r.reason),
              h('td', {}, r.peer),
            ),
          ),
        ),
  ];
}

function reason(c: { code: string | null; message: string | null }): Child {
  if (c.code === null && c.message === null) return h('span', { class: 'muted' }, '—');
  return [c.code === null ? null : h('code', {}, c.code), c.message === null ? null : ` ${c.message}`];
}
