import { describe, expect, it } from 'vitest';
import { DEFAULT_KINDS, type KindInfo } from './kindInfo.js';
import { formatKindsAnnotation, parseKindsAnnotation } from './kindsAnnotation.js';

const GRANT: KindInfo = {
  group: 'gateway.networking.k8s.io',
  version: 'v1beta1',
  kind: 'ReferenceGrant',
  plural: 'referencegrants',
  namespaced: true,
};

describe('kinds annotation', () => {
  it.each([
    { name: 'the default set', kinds: DEFAULT_KINDS },
    { name: 'an added kind', kinds: [...DEFAULT_KINDS, GRANT] },
    {
      name: 'a core kind, cluster-scoped',
      kinds: [{ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }],
    },
  ])('round-trips $name', ({ kinds }) => {
    const parsed = parseKindsAnnotation(formatKindsAnnotation(kinds));
    expect(parsed).toEqual({ ok: true, value: kinds });
  });

  it('is compact JSON with the scope spelled as in --kinds', () => {
    expect(formatKindsAnnotation([GRANT])).toBe(
      '[{"group":"gateway.networking.k8s.io","version":"v1beta1","kind":"ReferenceGrant","plural":"referencegrants","scope":"Namespaced"}]',
    );
  });

  it.each([
    { value: 'Gateway', message: 'kuberelay.dev/kinds: not JSON' },
    { value: '{}', message: 'kuberelay.dev/kinds: not a JSON array' },
    { value: '[{"kind":"Gateway"}]', message: 'kuberelay.dev/kinds: entry 0 needs string group' },
    {
      value: '[{"group":"x.io","version":"v1","kind":"Foo","plural":"foos","scope":"Global"}]',
      message: 'scope "Global" must be Namespaced or Cluster',
    },
    { value: '[]', message: 'the list of kinds is empty' },
  ])('rejects $value', ({ value, message }) => {
    const parsed = parseKindsAnnotation(value);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.errors.map((e) => e.message).join('; ')).toContain(message);
  });
});
