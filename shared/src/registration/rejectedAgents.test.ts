import { describe, expect, it } from 'vitest';
import type { RejectedAgent } from './clusterStatus.js';
import {
  completeRejectedAgent,
  decodeRejectedAgents,
  encodeRejectedAgents,
  rejectedAgentKey,
} from './rejectedAgents.js';

const entry: RejectedAgent = {
  lastAttempt: '2026-01-01T00:08:00Z',
  reason: 'cluster cluster-9 is not registered',
  code: 'PERMISSION_DENIED',
  peer: '10.1.2.3:5555',
  count: 4,
};

describe('rejected-agents ConfigMap codec', () => {
  it.each([
    [undefined, '_unknown'],
    ['qa', 'qa'],
    ['we ird/name', 'we_ird_name'],
    ['..', '_unknown'],
  ])('key for %s is %s', (claimed, key) => {
    expect(rejectedAgentKey(claimed)).toBe(key);
  });

  it('reads back what it writes', () => {
    const [record] = decodeRejectedAgents(encodeRejectedAgents(new Map([['cluster-9', entry]])));
    expect(record).toEqual({ cluster: 'cluster-9', entry });
    expect(record && completeRejectedAgent(record)).toEqual(entry);
  });

  it.each([
    { value: '{not json', problem: 'not valid JSON', entry: {} },
    { value: '[]', problem: 'not a JSON object', entry: {} },
    {
      value: '{"count":"x","code":"UNAUTHENTICATED"}',
      problem: undefined,
      entry: { code: 'UNAUTHENTICATED' },
    },
    { value: '{"count":-1,"peer":7}', problem: undefined, entry: {} },
  ])('keeps only well-typed fields of $value', ({ value, problem, entry: fields }) => {
    const records = decodeRejectedAgents({ c: value });
    expect(records).toEqual([{ cluster: 'c', entry: fields, ...(problem ? { problem } : {}) }]);
    expect(records[0] && completeRejectedAgent(records[0])).toBeUndefined();
  });
});
