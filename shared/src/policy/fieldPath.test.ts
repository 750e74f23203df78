import { describe, expect, it } from 'vitest';
import { ANY_INDEX, FIELD_PATH_LIMITS, formatFieldPath, isIgnored, parseFieldPath } from './fieldPath.js';

const parsed = (text: string) => {
  const result = parseFieldPath(text);
  if (!result.ok) throw new Error(result.errors[0].message);
  return result.value;
};
const problem = (text: string) => {
  const result = parseFieldPath(text);
  return result.ok ? undefined : result.errors[0].message;
};

describe('parseFieldPath', () => {
  it.each([
    ['spec.replicas', ['spec', 'replicas']],
    ['.spec.replicas', ['spec', 'replicas']],
    ['$.spec.replicas', ['spec', 'replicas']],
    ['spec.static.hosts[0].port', ['spec', 'static', 'hosts', 0, 'port']],
    ['spec.hosts[*].weight', ['spec', 'hosts', ANY_INDEX, 'weight']],
    ['metadata.annotations["example.com/owner"]', ['metadata', 'annotations', 'example.com/owner']],
    ["metadata.labels['team']", ['metadata', 'labels', 'team']],
    ['spec["with.dot"].x', ['spec', 'with.dot', 'x']],
    ['spec.options_v2-b', ['spec', 'options_v2-b']],
  ])('reads %s', (text, steps) => {
    expect(parsed(text)).toEqual(steps);
  });

  it.each([
    ['', 'must start with a field name'],
    ['[0].x', 'must start with a field name'],
    ['spec..x', 'unexpected "."'],
    ['spec.', 'ends with "."'],
    ['spec x', 'unexpected " "'],
    ['spec[01]', 'neither an index'],
    ['spec[-1]', 'neither an index'],
    ['spec[abc]', 'neither an index'],
    ['spec["x"', 'unclosed'],
    ['spec[0', 'unclosed'],
    ['spec[""]', 'empty key'],
    ['status.conditions', 'status is never compared or written'],
    ['kind', 'the kind of a copy'],
    ['metadata.name', 'other than labels or annotations'],
    ['metadata.labels', 'must name one key'],
    ['metadata.labels["a"].b', 'must name one key'],
    ['metadata.annotations["gloo.solo.io/distributed-source"]', 'which the relay sets on every copy'],
    ['metadata.annotations["kuberelay.dev/copy-hash"]', 'which the relay sets on every copy'],
    ['metadata.labels["relay.solo.io/cluster"]', 'which the relay sets on every copy'],
  ])('refuses %j (%s)', (text, reason) => {
    expect(problem(text)).toContain(reason);
    expect(problem(text)).toContain(JSON.stringify(text));
  });

  it('is bounded in length and steps', () => {
    expect(problem(`spec.${'a'.repeat(FIELD_PATH_LIMITS.characters)}`)).toContain('longer than');
    expect(problem(`spec${'.a'.repeat(FIELD_PATH_LIMITS.steps)}`)).toContain('more than');
    expect(problem(`spec${'.a'.repeat(FIELD_PATH_LIMITS.steps - 1)}`)).toBeUndefined();
  });

  it('formats what it reads, so a drift path pastes back unchanged', () => {
    for (const text of [
      'spec.static.hosts[0].port',
      'spec.hosts[*].weight',
      'metadata.annotations["example.com/owner"]',
    ]) {
      expect(formatFieldPath(parsed(text))).toBe(text);
    }
    expect(formatFieldPath(parsed("$.metadata.labels['team']"))).toBe('metadata.labels.team');
  });
});

describe('isIgnored', () => {
  const ignored = [parsed('spec.replicas'), parsed('spec.hosts[*].weight'), parsed('spec.list[1]')];
  it.each([
    [['spec', 'replicas'], true],
    [['spec', 'replicas', 'nested'], true],
    [['spec', 'hosts', 3, 'weight'], true],
    [['spec', 'hosts', 3, 'port'], false],
    [['spec', 'hosts', 'x', 'weight'], false],
    [['spec', 'hosts'], false],
    [['spec', 'list', 1], true],
    [['spec', 'list', 0], false],
    [['spec'], false],
  ] as const)('%j: %s', (location, expected) => {
    expect(isIgnored(location, ignored)).toBe(expected);
  });
});
