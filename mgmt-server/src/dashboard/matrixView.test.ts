import { CopyOutcome } from '@kuberelay/proto';
import { describe, expect, it } from 'vitest';
import { type ClusterSpec, input, keyOf, upstream } from './dashboard.testkit.js';
import { buildMatrix, groupOf, MAX_CLUSTER_COLUMNS, MAX_COLUMNS } from './matrixView.js';
import { buildSourcePage } from './sourceView.js';

const a = upstream('a', '*/httpbin');
const b = upstream('b', 'cluster-1/httpbin');
const broken = upstream('broken', '{oops/httpbin');

describe('buildMatrix', () => {
  it('has a column per cluster and a cell per source and cluster it selects, worst rows first', () => {
    const view = buildMatrix(
      input([a, b, broken], {
        'cluster-1': { stream: 'here', answers: { b: { outcome: CopyOutcome.COPY_OUTCOME_FAILED } } },
        'cluster-2': { stream: 'gone' },
      }),
    );
    expect(view.grouped).toBe(false);
    expect(view.columns).toEqual([
      { id: 'cluster-1', clusters: 1, connected: 1 },
      { id: 'cluster-2', clusters: 1, connected: 0 },
    ]);
    expect(
      view.rows.map((r) => ({
        name: r.source.name,
        errors: r.source.errors,
        cells: r.cells.map((c) => c?.result ?? null),
      })),
    ).toEqual([
      // The invalid annotation is an error of the desired state: it ranks with failures.
      { name: 'b', errors: 0, cells: ['Failed', null] },
      { name: 'broken', errors: 1, cells: [null, null] },
      { name: 'a', errors: 0, cells: ['Applied', 'NotConnected'] },
    ]);
  });

  it('shows a result name it does not know, between the failures and Pending', () => {
    const view = buildMatrix(
      input([a, b], {
        'cluster-1': {
          stream: 'elsewhere',
          status: {
            connected: true,
            serverInstance: 'other/1',
            copies: [
              { key: 'gloo.solo.io/Upstream/httpbin/a', outcome: 'Drifted' as never },
              { key: 'gloo.solo.io/Upstream/httpbin/b', outcome: 'Shiny' as never },
            ],
          },
        },
      }),
    );
    expect(view.rows.map((r) => [r.source.name, r.cells[0]?.result])).toEqual([
      ['a', 'Drifted'],
      ['b', 'Shiny'],
    ]);
  });

  it(`groups more than ${MAX_CLUSTER_COLUMNS} clusters by name prefix, each cell the group's worst result with counts`, () => {
    const clusters: Record<string, ClusterSpec> = {};
    for (let i = 0; i < 600; i += 1) clusters[`prod-eu-${i}`] = { stream: 'here' };
    for (let i = 0; i < 400; i += 1) clusters[`qa-${i}`] = { stream: i === 7 ? 'gone' : 'here' };
    clusters['prod-eu-42'] = { stream: 'here', answers: { a: { outcome: CopyOutcome.COPY_OUTCOME_FAILED } } };
    const view = buildMatrix(input([a], clusters));
    expect(view.grouped).toBe(true);
    expect(view.clusters).toBe(1_000);
    expect(view.columns).toEqual([
      { id: 'prod-eu-*', clusters: 600, connected: 600 },
      { id: 'qa-*', clusters: 400, connected: 399 },
    ]);
    expect(view.rows[0]?.cells).toEqual([
      { result: 'Failed', counts: { Failed: 1, Applied: 599 } },
      { result: 'NotConnected', counts: { NotConnected: 1, Applied: 399 } },
    ]);
    // The group's id is a filter: applying it shows that group's clusters, one column each if few.
    expect(buildMatrix(input([a], clusters), 'qa-{1,2,3}').columns.map((c) => c.id)).toEqual([
      'qa-1',
      'qa-2',
      'qa-3',
    ]);
  });

  it(`shows at most ${MAX_COLUMNS} columns and counts the rest`, () => {
    const clusters: Record<string, ClusterSpec> = {};
    for (let i = 0; i < 100; i += 1) clusters[`region${i}-1`] = { stream: 'here' };
    const view = buildMatrix(input([a], clusters));
    expect(view.columns).toHaveLength(MAX_COLUMNS);
    expect(view.hiddenColumns).toBe(100 - MAX_COLUMNS);
    expect(view.rows[0]?.cells).toHaveLength(MAX_COLUMNS);
  });

  it.each([
    ['prod-eu-17', 'prod-eu-*'],
    ['cluster-1', 'cluster-*'],
    ['edge.paris.3', 'edge.paris.*'],
    ['mgmt', 'mgmt'],
    ['-x', '-x'],
  ])('puts %s in group %s', (cluster, group) => {
    expect(groupOf(cluster)).toBe(group);
  });
});

describe('buildSourcePage', () => {
  it('lists what the annotation selects and each copy with its result and reason', () => {
    const page = buildSourcePage(
      input([a], {
        'cluster-1': { stream: 'here' },
        'cluster-2': {
          stream: 'here',
          answers: {
            a: { outcome: CopyOutcome.COPY_OUTCOME_FAILED, code: 'NamespaceNotFound', message: 'no httpbin' },
          },
        },
      }),
      keyOf(a),
    );
    expect(page).toMatchObject({
      source: { kind: 'Upstream', namespace: 'gloo-mesh', name: 'a', distributeTo: '*/httpbin', errors: 0 },
      clusters: ['cluster-1', 'cluster-2'],
      namespaces: ['httpbin'],
      counts: { Failed: 1, Applied: 1 },
      copies: [
        {
          cluster: 'cluster-2',
          namespace: 'httpbin',
          result: 'Failed',
          code: 'NamespaceNotFound',
          message: 'no httpbin',
        },
        { cluster: 'cluster-1', namespace: 'httpbin', result: 'Applied', code: null, message: null },
      ],
      reports: [],
      events: [],
    });
  });

  it('shows the Events this replica recorded on the source', () => {
    const event = {
      at: '2026-12-04T11:59:00.000Z',
      reason: 'CopyFailed',
      message: 'copy ... NamespaceNotFound',
    };
    const page = buildSourcePage(
      input(
        [a],
        { 'cluster-1': { stream: 'here' } },
        {
          events: (key) => (key === keyOf(a) ? [event] : []),
          rejected: () => [],
        },
      ),
      keyOf(a),
    );
    expect(page?.events).toEqual([event]);
  });

  it("shows the desired state's findings about a source that selects nothing", () => {
    const page = buildSourcePage(input([broken], { 'cluster-1': { stream: 'here' } }), keyOf(broken));
    expect(page?.copies).toEqual([]);
    expect(page?.reports).toEqual([expect.objectContaining({ severity: 'error', code: expect.any(String) })]);
  });

  it("shows the source's kuberelay.dev/ controls, whatever their name", () => {
    const base = upstream('p', '*/httpbin');
    const annotations = {
      ...base.metadata.annotations,
      'kuberelay.dev/paused': 'true',
      'kuberelay.dev/some-future-control': 'x',
      'example.com/unrelated': 'y',
    };
    const paused = { ...base, metadata: { ...base.metadata, annotations } };
    const page = buildSourcePage(input([paused], { 'cluster-1': { stream: 'here' } }), keyOf(paused));
    expect(page?.source.controls).toEqual({
      'kuberelay.dev/paused': 'true',
      'kuberelay.dev/some-future-control': 'x',
    });
  });

  it('is undefined for a key no annotated source has', () => {
    expect(buildSourcePage(input([a], {}), 'gloo.solo.io/Upstream/gloo-mesh/nope')).toBeUndefined();
  });
});
