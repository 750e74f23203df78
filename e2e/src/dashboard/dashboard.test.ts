import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../lab/paths.js';
import { type Browser, findChromium, launchChromium } from '../support/browser.js';
import { copyOf, example, referenceExample, upstream as upstreamSource } from '../support/examples.js';
import { parseExposition } from '../support/exposition.js';
import { RelayFixture } from '../support/relayFixture.js';
import { eventually as until } from '../support/testing.js';

// The dashboard as a person sees it: the real management server (dashboard on) and two real
// agents on the lab, the reference example applied, and Debian's Chromium loading each page. The
// pages must show the three sources applied in both clusters, follow an edit of a source and an
// agent going away without a reload, and leave a screenshot of each page in e2e/artifacts/.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'dashboard');
const chromiumFound = findChromium();
if ('missing' in chromiumFound) process.stderr.write(`dashboard e2e: ${chromiumFound.missing}\n`);

const SOURCES = {
  gateway: 'gateway.networking.k8s.io/Gateway/gloo-mesh/distributed-gateway',
  upstream: 'gloo.solo.io/Upstream/gloo-mesh/httpbin',
  route: 'gateway.networking.k8s.io/HTTPRoute/gloo-mesh/httpbin-mydomain',
};

let f: RelayFixture;
let browser: Browser;
let page: Page;
let base: string;

/** The fleet table as text: cluster → [connection, copies]. */
const fleetRows = () =>
  page.$$eval('tr[data-cluster]', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.getAttribute('data-cluster'),
        [r.cells[1]?.textContent?.trim() ?? '', r.cells[8]?.textContent?.trim() ?? ''],
      ]),
    ),
  );

/** The matrix as data: source key → column → result of the cell's badge ('' for no copy). */
const matrixCells = () =>
  page.$$eval('table.matrix', ([table]) => {
    if (table === undefined) return {};
    const heads = [...table.querySelectorAll('thead th[data-column]')].map((th) =>
      th.getAttribute('data-column'),
    );
    const out: Record<string, Record<string, string>> = {};
    for (const row of table.querySelectorAll('tbody tr')) {
      const cells: Record<string, string> = {};
      [...row.querySelectorAll('td')].forEach((td, i) => {
        cells[heads[i] ?? String(i)] = td.querySelector('.badge')?.getAttribute('data-result') ?? '';
      });
      out[row.getAttribute('data-source') ?? ''] = cells;
    }
    return out;
  });

/** Result of each copy row on a source page: cluster → result. */
const sourceCopies = () =>
  page.$$eval('tr[data-cluster]', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        r.getAttribute('data-cluster'),
        r.querySelector('.badge')?.getAttribute('data-result'),
      ]),
    ),
  );

const screenshot = (name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe.skipIf('missing' in chromiumFound)('the dashboard in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The server runs from its sources here (vitest), so the page must be this checkout's too:
    // bundle it now (a fraction of a second) rather than trust a dist/ from an earlier build.
    execFileSync(process.execPath, [join(repoRoot, 'mgmt-server', 'tools', 'build-dashboard.mjs')], {
      stdio: 'ignore',
    });
    f = await RelayFixture.start({ name: 'dashboard', server: { dashboardListen: '127.0.0.1:0' } });
    for (const obj of example('mgmt-gatewayclass.yaml')) await f.apply(obj);
    const { gateway, upstream, route } = referenceExample();
    for (const o of [gateway, upstream, route]) await f.apply(o);
    for (const cluster of WORKLOADS) {
      await f.waitFor(cluster, copyOf(route, 'httpbin'), (o) => o !== undefined, 30_000);
    }
    base = `http://127.0.0.1:${f.server?.dashboardPort}`;
    expect((await fetch(`${base}/assets/app.js`)).status).toBe(200);
    if ('path' in chromiumFound) browser = await launchChromium(chromiumFound.path);
    page = await browser.context.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.stop();
    await f?.stop();
  });

  it('the fleet page shows both clusters connected with the three copies applied', async () => {
    await page.goto(`${base}/#/`);
    await until('both clusters connected, 3 applied', fleetRows, (rows) =>
      WORKLOADS.every((c) => rows[c]?.[0] === 'Connected' && rows[c]?.[1] === 'Applied 3'),
    );
    expect(await page.title()).toBe('Fleet · Kuberelay');
    expect(await page.locator('[role=status]').textContent()).toMatch(/^Live/);
    await screenshot('fleet');
  });

  it('filters the clusters by a glob typed in, and says when the text is not one', async () => {
    await page.goto(`${base}/#/`);
    await until('two rows', fleetRows, (rows) => Object.keys(rows).length === 2);
    await page.locator('#filter').fill('*-2');
    await until('only cluster-2', fleetRows, (rows) => JSON.stringify(Object.keys(rows)) === '["cluster-2"]');
    expect(page.url()).toContain('#/?filter=*-2');
    await page.locator('#filter').fill('{cluster');
    await until(
      'the problem said, every cluster shown',
      () => page.locator('#filter-problem').textContent(),
      (text) => text?.startsWith('Not a glob: "{cluster"') === true,
    );
    expect(Object.keys(await fleetRows())).toEqual(['cluster-1', 'cluster-2']);
    await page.locator('#filter').fill('');
  });

  it('answers only reads, from memory: no request to the API server per page view, live streams capped', async () => {
    const metrics = async () => {
      const text = await (await fetch(`http://127.0.0.1:${f.server?.httpPort}/metrics`)).text();
      return parseExposition(text)
        .filter((s) => s.name === 'kuberelay_mgmt_kube_requests_total' && s.labels.verb === 'GET')
        .reduce((n, s) => n + s.value, 0);
    };
    const before = await metrics();
    const views = [
      '/api/fleet',
      '/api/matrix?filter=cluster-*',
      `/api/source?key=${encodeURIComponent(SOURCES.route)}`,
      '/api/cluster?name=cluster-1',
    ];
    for (let i = 0; i < 50; i += 1) {
      for (const view of views) expect((await fetch(`${base}${view}`)).status).toBe(200);
    }
    // 200 page views; what the server itself reads meanwhile (a Lease, a re-list) is a handful.
    expect((await metrics()) - before).toBeLessThan(5);

    expect((await fetch(`${base}/api/fleet`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/api/cluster?name=nope`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const index = await fetch(`${base}/`);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");

    // The browser's page holds one stream; the server takes 32 in all, then says 503.
    await page.goto(`${base}/#/`);
    await until(
      'the page live',
      () => page.locator('[role=status]').textContent(),
      (t) => t?.startsWith('Live') === true,
    );
    const aborts = new AbortController();
    const statuses: number[] = [];
    for (let i = 0; i < 35; i += 1) {
      statuses.push((await fetch(`${base}/api/events`, { signal: aborts.signal })).status);
    }
    aborts.abort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(31);
    expect(statuses.slice(31)).toEqual([503, 503, 503, 503]);
  });

  it('the matrix shows each of the three sources applied in both clusters', async () => {
    await page.goto(`${base}/#/matrix`);
    const applied = { 'cluster-1': 'Applied', 'cluster-2': 'Applied' };
    await until('3 sources x 2 clusters applied', matrixCells, (cells) =>
      Object.values(SOURCES).every((key) => JSON.stringify(cells[key]) === JSON.stringify(applied)),
    );
    expect(Object.keys(await matrixCells()).sort()).toEqual(Object.values(SOURCES).sort());
    await screenshot('matrix');
  });

  it("a source's page shows its annotation and its copy in each cluster, applied", async () => {
    await page.goto(`${base}/#/source/${encodeURIComponent(SOURCES.upstream)}`);
    await until(
      'both copies applied',
      sourceCopies,
      (c) => c['cluster-1'] === 'Applied' && c['cluster-2'] === 'Applied',
    );
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('gloo.solo.io/distribute-to: "*/httpbin"');
    expect(facts).toContain('Namespaceshttpbin');
    await screenshot('source');
  });

  it("a cluster's page lists its three copies, applied", async () => {
    await page.goto(`${base}/#/cluster/cluster-1`);
    const copies = await until(
      'three applied copies',
      () =>
        page.$$eval('tr[data-key]', (rows) =>
          rows.map((r) => r.querySelector('.badge')?.getAttribute('data-result')),
        ),
      (results) => results.length === 3 && results.every((r) => r === 'Applied'),
    );
    expect(copies).toHaveLength(3);
    expect(await page.locator('dl.facts').textContent()).toContain('Connected to gloo-mesh/mgmt-server-0');
    await screenshot('cluster');
  });

  it("a cluster's page counts the drift repairs the agent made of each copy", async () => {
    const { upstream } = referenceExample();
    const key = 'gloo.solo.io/Upstream/httpbin/httpbin';
    await page.goto(`${base}/#/cluster/cluster-2`);
    const repairs = () =>
      page.$eval(`tr[data-key="${key}"] td[data-repairs]`, (td) => td.getAttribute('data-repairs'));
    await until('no repair yet', repairs, (n) => n === '0');
    // Someone edits the copy in cluster-2; the agent reverts it, and its next report says so.
    await f.workload('cluster-2').request({
      method: 'PATCH',
      path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/httpbin',
      contentType: 'application/merge-patch+json',
      body: { spec: { kube: { servicePort: 1234 } } },
    });
    await f.waitFor(
      'cluster-2',
      copyOf(upstream, 'httpbin'),
      (o) => (o?.spec?.kube as { servicePort?: number } | undefined)?.servicePort === 8000,
      20_000,
    );
    await until('one repair shown, live', repairs, (n) => n === '1');
    expect(await page.locator(`tr[data-key="${key}"] td[data-repairs]`).textContent()).toMatch(/^1, last /);
    await screenshot('cluster-repaired');
  });

  it('follows an edit of a source live, without a reload', async () => {
    await page.goto(`${base}/#/source/${encodeURIComponent(SOURCES.upstream)}`);
    await until('both copies', sourceCopies, (c) => Object.keys(c).length === 2);
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    const { upstream } = referenceExample();
    const annotations = {
      ...upstream.metadata.annotations,
      'gloo.solo.io/distribute-to': 'cluster-1/httpbin',
    };
    await f.apply({ ...upstream, metadata: { ...upstream.metadata, annotations } });
    await until('only cluster-1 left', sourceCopies, (c) => JSON.stringify(c) === '{"cluster-1":"Applied"}');
    expect(await page.locator('dl.facts').textContent()).toContain('distribute-to: "cluster-1/httpbin"');
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot('source-edited');
    // Back as it was, for the next test.
    await f.apply(upstream);
    await until(
      'both copies again',
      sourceCopies,
      (c) => c['cluster-1'] === 'Applied' && c['cluster-2'] === 'Applied',
    );
  });

  it("shows a failing copy's result, its reason and the Event the server recorded", async () => {
    // Its target namespace exists in no workload cluster: each agent reports NamespaceNotFound.
    const broken = upstreamSource('dash-broken', '*/no-such-namespace');
    const key = 'gloo.solo.io/Upstream/gloo-mesh/dash-broken';
    await f.apply(broken);
    await page.goto(`${base}/#/source/${encodeURIComponent(key)}`);
    await until(
      'both copies failed',
      sourceCopies,
      (c) => c['cluster-1'] === 'Failed' && c['cluster-2'] === 'Failed',
    );
    expect(await page.locator('tr[data-cluster="cluster-1"]').textContent()).toContain('NamespaceNotFound');
    await until(
      'the CopyFailed Event',
      () => page.$$eval('tr[data-event]', (rows) => rows.map((r) => r.getAttribute('data-event'))),
      (reasons) => reasons.includes('CopyFailed'),
    );
    await screenshot('source-failed');
    await page.goto(`${base}/#/matrix`);
    const cells = await until(
      'the failing row first',
      matrixCells,
      (c) => c[key]?.['cluster-1'] === 'Failed',
    );
    expect(Object.keys(cells)[0]).toBe(key);
    await screenshot('matrix-failed');
    await f.remove(broken);
    await until('the failing source gone', matrixCells, (c) => c[key] === undefined);
  });

  it('shows the results issue 12 added, Drifted and Paused, with the colours of their own', async () => {
    const watched = upstreamSource('dash-watched', '*/httpbin');
    const key = 'gloo.solo.io/Upstream/gloo-mesh/dash-watched';
    const annotated = (extra: Record<string, string>) => ({
      ...watched,
      metadata: { ...watched.metadata, annotations: { ...watched.metadata.annotations, ...extra } },
    });
    await f.apply(annotated({ 'kuberelay.dev/drift': 'report' }));
    await f.waitFor('cluster-1', copyOf(watched, 'httpbin'), (o) => o !== undefined, 20_000);
    // Someone edits the copy in cluster-1; the source only asks for drift to be reported.
    await f.workload('cluster-1').request({
      method: 'PATCH',
      path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/dash-watched',
      contentType: 'application/merge-patch+json',
      body: { spec: { kube: { servicePort: 1234 } } },
    });
    await page.goto(`${base}/#/source/${encodeURIComponent(key)}`);
    await until(
      'Drifted in cluster-1 only',
      sourceCopies,
      (c) => c['cluster-1'] === 'Drifted' && c['cluster-2'] === 'Applied',
    );
    expect(await page.locator('dl.facts').textContent()).toContain('kuberelay.dev/drift: "report"');
    expect(await page.locator('#filter').isVisible()).toBe(false);
    await screenshot('source-drifted');
    await f.apply(annotated({ 'kuberelay.dev/drift': 'report', 'kuberelay.dev/paused': 'true' }));
    await until(
      'Paused in both',
      sourceCopies,
      (c) => c['cluster-1'] === 'Paused' && c['cluster-2'] === 'Paused',
    );
    await page.goto(`${base}/#/matrix`);
    await until('the matrix says Paused', matrixCells, (c) => c[key]?.['cluster-1'] === 'Paused');
    const colours = await page.$$eval('.legend .badge', (badges) => {
      // Runs in the page, where getComputedStyle is a global (e2e's own lib has no DOM).
      const win = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } };
      return badges.map((b) => [b.getAttribute('data-result'), win.getComputedStyle(b).backgroundColor]);
    });
    expect(new Set(colours.map(([, c]) => c)).size).toBe(colours.length);
    await screenshot('matrix-paused');
    await f.remove(watched);
    await until('the watched source gone', matrixCells, (c) => c[key] === undefined);
  });

  it('draws a 1,000-cluster matrix as groups a click narrows (the view as the server builds it at that size)', async () => {
    // The lab has two clusters; the grouped page is drawn from a view of the shape buildMatrix
    // returns past 24 clusters (pinned by matrixView.test.ts), served in place of the real one.
    const group = (id: string, clusters: number, connected: number) => ({ id, clusters, connected });
    const cell = (result: string, counts: Record<string, number>) => ({ result, counts });
    const source = (kind: string, name: string) => ({
      key: `x/${kind}/gloo-mesh/${name}`,
      group: 'x',
      kind,
      namespace: 'gloo-mesh',
      name,
      distributeTo: '*/httpbin',
      controls: {},
      errors: 0,
      warnings: 0,
    });
    const grouped = {
      generatedAt: new Date().toISOString(),
      filter: '',
      filterProblem: null,
      grouped: true,
      clusters: 1_000,
      columns: [group('prod-eu-*', 400, 400), group('prod-us-*', 400, 399), group('qa-*', 200, 200)],
      rows: [
        {
          source: source('HTTPRoute', 'checkout'),
          cells: [
            cell('Failed', { Failed: 3, Applied: 397 }),
            cell('NotConnected', { NotConnected: 1, Applied: 399 }),
            null,
          ],
          counts: { Failed: 3, NotConnected: 1, Applied: 796 },
        },
        {
          source: source('Upstream', 'payments'),
          cells: [
            cell('Drifted', { Drifted: 1, Applied: 399 }),
            cell('Applied', { Applied: 400 }),
            cell('Paused', { Paused: 200 }),
          ],
          counts: { Drifted: 1, Paused: 200, Applied: 799 },
        },
        {
          source: source('Gateway', 'edge'),
          cells: [
            cell('Applied', { Applied: 400 }),
            cell('Pending', { Pending: 12, Applied: 388 }),
            cell('Applied', { Applied: 200 }),
          ],
          counts: { Pending: 12, Applied: 988 },
        },
      ],
      hiddenColumns: 0,
      hiddenRows: 0,
    };
    const fake = page.context().newPage();
    const p = await fake;
    await p.route('**/api/matrix?filter=', (route) => route.fulfill({ json: grouped }));
    await p.goto(`${base}/#/matrix`);
    await p.locator('table.matrix button', { hasText: 'prod-eu-*' }).waitFor();
    expect(await p.locator('.note').textContent()).toContain('1,000 clusters, grouped by name');
    const checkout = p.locator('tr[data-source="x/HTTPRoute/gloo-mesh/checkout"] td');
    expect(await checkout.allTextContents()).toEqual(['FAIL 3/400', 'N/C 1/400', '·']);
    expect(await p.locator('th[data-column="prod-us-*"]').textContent()).toContain('399/400 connected');
    await p.screenshot({ path: join(ARTIFACTS, 'matrix-1000-clusters.png'), fullPage: true });
    // A group is a filter: the real server answers it (no lab cluster matches: no columns).
    await p.locator('table.matrix button', { hasText: 'prod-eu-*' }).click();
    await until(
      'the filter set',
      async () => p.url(),
      (url) => url.endsWith('#/matrix?filter=prod-eu-*'),
    );
    expect(await p.locator('#filter').inputValue()).toBe('prod-eu-*');
    await p.close();
  });

  it('follows an agent going away live: its cluster turns disconnected, its cells not connected', async () => {
    await page.goto(`${base}/#/`);
    await until('both connected', fleetRows, (rows) => WORKLOADS.every((c) => rows[c]?.[0] === 'Connected'));
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    await f.stopAgent('cluster-2');
    const rows = await until(
      'cluster-2 disconnected',
      fleetRows,
      (r) => r['cluster-2']?.[0] === 'Disconnected',
    );
    expect(rows['cluster-1']).toEqual(['Connected', 'Applied 3']);
    expect(rows['cluster-2']).toEqual(['Disconnected', 'Not connected 3']);
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot('fleet-agent-stopped');
    await page.goto(`${base}/#/matrix`);
    const cells = await until(
      'cluster-2 cells not connected',
      matrixCells,
      (c) => c[SOURCES.gateway]?.['cluster-2'] === 'NotConnected',
    );
    for (const key of Object.values(SOURCES)) {
      expect(cells[key]).toEqual({ 'cluster-1': 'Applied', 'cluster-2': 'NotConnected' });
    }
    expect(await page.locator('th[data-column="cluster-2"]').textContent()).toContain('disconnected');
    await screenshot('matrix-agent-stopped');
  });
});
