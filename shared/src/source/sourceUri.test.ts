import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSourceUri, parseSourceUri, type SourceUri } from './sourceUri.js';

describe('formatSourceUri / parseSourceUri', () => {
  it.each<{ uri: SourceUri; text: string }>([
    {
      uri: { mgmtCluster: 'management-cluster', namespace: 'default', kind: 'Gateway', name: 'my-gateway' },
      text: 'gloo://management-cluster/ns/default/kind/Gateway/name/my-gateway',
    },
    {
      uri: { mgmtCluster: 'mgmt', kind: 'GatewayClass', name: 'gloo-gateway-distribute' },
      text: 'gloo://mgmt/kind/GatewayClass/name/gloo-gateway-distribute',
    },
  ])('$text', ({ uri, text }) => {
    expect(formatSourceUri(uri)).toBe(text);
    expect(parseSourceUri(text)).toEqual({ ok: true, value: uri });
  });

  it('treats an empty namespace as cluster-scoped', () => {
    expect(formatSourceUri({ mgmtCluster: 'm', namespace: '', kind: 'K', name: 'n' })).toBe(
      'gloo://m/kind/K/name/n',
    );
  });

  it.each([
    { value: 'http://m/kind/K/name/n', reason: 'must start with gloo://' },
    { value: 'gloo://m/ns//kind/K/name/n', reason: 'has an empty segment' },
    { value: 'gloo://m/kind/K/name/n/', reason: 'has an empty segment' },
    { value: 'gloo:///kind/K/name/n', reason: 'has an empty segment' },
    {
      value: 'gloo://m/kind/K/name/n/extra',
      reason: 'expected gloo://<cluster>[/ns/<namespace>]/kind/<kind>/name/<name>',
    },
    {
      value: 'gloo://m/namespace/a/kind/K/name/n',
      reason: 'expected gloo://<cluster>[/ns/<namespace>]/kind/<kind>/name/<name>',
    },
    {
      value: 'gloo://m/name/n/kind/K',
      reason: 'expected gloo://<cluster>[/ns/<namespace>]/kind/<kind>/name/<name>',
    },
    { value: 'gloo://m', reason: 'expected gloo://<cluster>[/ns/<namespace>]/kind/<kind>/name/<name>' },
  ])('rejects $value', ({ value, reason }) => {
    const result = parseSourceUri(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => [e.code, e.message])).toEqual([
        ['InvalidSourceUri', `distributed-source "${value}" ${reason}`],
      ]);
    }
  });

  it('round-trips any names without "/"', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9.-]{1,20}$/);
    fc.assert(
      fc.property(
        segment,
        fc.option(segment, { nil: undefined }),
        segment,
        segment,
        (mgmtCluster, namespace, kind, name) => {
          const uri: SourceUri =
            namespace === undefined ? { mgmtCluster, kind, name } : { mgmtCluster, namespace, kind, name };
          expect(parseSourceUri(formatSourceUri(uri))).toEqual({ ok: true, value: uri });
        },
      ),
    );
  });
});
