import { createCa } from '@kuberelay/shared/pki';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HeldClusterFacts } from '../status/clusterStatusReporter.js';
import { registerFleetMetrics } from './fleetMetrics.js';

const facts = (cluster: string, applied: number): HeldClusterFacts => ({
  cluster,
  copies: { Applied: applied, Failed: 1, Conflict: 0, Drifted: 0, Paused: 0, Pending: 0 },
  notPruned: 0,
  behindSeconds: 2.5,
});

async function setup(held: () => readonly HeldClusterFacts[]) {
  const registry = new Registry();
  const ca = await createCa({ commonName: 'test ca', validityMs: 86_400_000, now: 0 });
  let now = 0;
  registerFleetMetrics({
    registers: [registry],
    registered: () => ['a', 'b', 'c'],
    held,
    certificates: () => ({ 'relay-ca': ca.certPem }),
    ready: () => true,
    now: () => now,
  });
  return { registry, advance: (ms: number) => (now += ms) };
}

describe('fleet metrics', () => {
  it('give every registered cluster a connected series, and the held ones their facts', async () => {
    const { registry } = await setup(() => [facts('a', 3)]);
    const text = await registry.metrics();
    expect(text).toContain('kuberelay_mgmt_cluster_connected{cluster="a"} 1');
    expect(text).toContain('kuberelay_mgmt_cluster_connected{cluster="b"} 0');
    expect(text).toContain('kuberelay_mgmt_cluster_connected{cluster="c"} 0');
    expect(text).toContain('kuberelay_mgmt_cluster_copies{cluster="a",outcome="Applied"} 3');
    expect(text).toContain('kuberelay_mgmt_cluster_copies{cluster="a",outcome="Pending"} 0');
    expect(text).not.toContain('kuberelay_mgmt_cluster_copies{cluster="b"');
    expect(text).toContain('kuberelay_mgmt_cluster_behind_seconds{cluster="a"} 2.5');
    expect(text).toContain('kuberelay_mgmt_copies{outcome="Failed"} 1');
    expect(text).toContain(
      'kuberelay_mgmt_certificate_expiry_timestamp_seconds{certificate="relay-ca"} 86400',
    );
    expect(text).toContain('kuberelay_mgmt_ready 1');
  });

  it('compute the facts once per scrape, and again for the next one', async () => {
    let calls = 0;
    const { registry, advance } = await setup(() => {
      calls += 1;
      return [facts('a', calls)];
    });
    await registry.metrics();
    expect(calls).toBe(1);
    advance(30_000);
    const text = await registry.metrics();
    expect(calls).toBe(2);
    expect(text).toContain('kuberelay_mgmt_cluster_copies{cluster="a",outcome="Applied"} 2');
    expect(text).toContain('kuberelay_mgmt_copies{outcome="Applied"} 2');
  });
});
