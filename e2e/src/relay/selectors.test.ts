import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstream } from '../support/examples.js';
import { createOrReplace, RelayFixture } from '../support/relayFixture.js';

// The examples table of docs/spec.md §2, end to end: registered clusters qa, canary, prod-eu, prod-us;
// one Upstream in gloo-mesh whose annotation changes row by row. After each change exactly the
// listed (cluster, namespace) pairs hold a copy: everything else was never created or was pruned.

const CLUSTERS = ['qa', 'canary', 'prod-eu', 'prod-us'] as const;
const NAMESPACES = ['gloo-mesh', 'gloo-system', 'edge', 'a', 'b'] as const;
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-selectors', workloads: CLUSTERS });
  for (const c of CLUSTERS) {
    for (const ns of ['edge', 'a', 'b']) {
      await createOrReplace(f.workload(c), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  }
}, 180_000);
afterAll(async () => {
  await f?.stop();
});

async function placement(): Promise<string[]> {
  const found: string[] = [];
  for (const c of CLUSTERS) {
    for (const ns of NAMESPACES) {
      if (
        await f.get(c, { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', namespace: ns, name: 'selected' })
      )
        found.push(`${c}/${ns}`);
    }
  }
  return found;
}

describe('docs/spec.md §2 examples', () => {
  it.each([
    {
      value: '*/gloo-system',
      expected: ['qa/gloo-system', 'canary/gloo-system', 'prod-eu/gloo-system', 'prod-us/gloo-system'],
    },
    { value: 'qa, canary', expected: ['qa/gloo-mesh', 'canary/gloo-mesh'] },
    { value: 'prod-*/edge', expected: ['prod-eu/edge', 'prod-us/edge'] },
    { value: '*, !prod-*', expected: ['qa/gloo-mesh', 'canary/gloo-mesh'] },
    { value: '!prod-*, *', expected: ['qa/gloo-mesh', 'canary/gloo-mesh'] },
    { value: 'qa/a, qa/b', expected: ['qa/a', 'qa/b'] },
    { value: '{qa,canary}/edge', expected: ['qa/edge', 'canary/edge'] },
    { value: 'qa, not-registered', expected: ['qa/gloo-mesh'] },
    { value: '', expected: [] },
  ])('"$value" → $expected', async ({ value, expected }) => {
    await f.apply(upstream('selected', value));
    await expect
      .poll(async () => (await placement()).sort(), { timeout: 15_000, interval: 100 })
      .toEqual([...expected].sort());
  });
});
