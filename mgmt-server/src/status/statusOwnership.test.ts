import type { KubernetesClusterStatus } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { mayOverwrite } from './statusOwnership.js';

const self = { pod: 'gloo-mesh/mgmt-0', instance: 'mgmt-0/a1' };
const T1 = '2026-12-03T10:00:01.000Z';
const T2 = '2026-12-03T10:00:02.000Z';

const connected = (instance: string, since?: string): KubernetesClusterStatus => ({
  connected: true,
  connectedPod: `gloo-mesh/${instance.split('/')[0]}`,
  serverInstance: instance,
  ...(since === undefined ? {} : { connectedSince: since }),
});
const disconnected: KubernetesClusterStatus = {
  connected: false,
  connectedPod: '',
  serverInstance: '',
  connectedSince: '',
};

describe('mayOverwrite', () => {
  it.each<[string, KubernetesClusterStatus | undefined, KubernetesClusterStatus, boolean]>([
    ['no status yet', undefined, connected('mgmt-0/a1', T1), true],
    ['a disconnected status', disconnected, connected('mgmt-0/a1', T1), true],
    ['our own status', connected('mgmt-0/a1', T1), connected('mgmt-0/a1', T2), true],
    ['our own status, disconnecting', connected('mgmt-0/a1', T1), disconnected, true],
    ['another holder, disconnecting', connected('mgmt-1/b1', T1), disconnected, false],
    ['an older stream on another replica', connected('mgmt-1/b1', T1), connected('mgmt-0/a1', T2), true],
    ['a newer stream on another replica', connected('mgmt-1/b1', T2), connected('mgmt-0/a1', T1), false],
    [
      'our predecessor (same pod, older stream)',
      connected('mgmt-0/old', T1),
      connected('mgmt-0/a1', T2),
      true,
    ],
    ['a server older than connectedSince', connected('mgmt-1/b1'), connected('mgmt-0/a1', T1), true],
    ['ours without a start time, another holder', connected('mgmt-1/b1', T1), connected('mgmt-0/a1'), false],
    [
      'the same millisecond, a smaller instance name',
      connected('mgmt-0/a0', T1),
      connected('mgmt-0/a1', T1),
      true,
    ],
    [
      'the same millisecond, a greater instance name',
      connected('mgmt-1/b1', T1),
      connected('mgmt-0/a1', T1),
      false,
    ],
    [
      'a status without an instance from this pod (older server)',
      { connected: true, connectedPod: 'gloo-mesh/mgmt-0' },
      disconnected,
      true,
    ],
    [
      'a status without an instance from another pod (older server)',
      { connected: true, connectedPod: 'gloo-mesh/mgmt-1' },
      disconnected,
      false,
    ],
  ])('%s: write %s', (_name, live, ours, write) => {
    expect(mayOverwrite({ live, ours, self }).write).toBe(write);
  });

  it('names the holder and why, when it does not write', () => {
    expect(
      mayOverwrite({ live: connected('mgmt-1/b1', T2), ours: connected('mgmt-0/a1', T1), self }),
    ).toEqual({
      write: false,
      holder: 'mgmt-1/b1',
      reason: `mgmt-1/b1 holds a newer stream (since ${T2}; ours since ${T1})`,
    });
  });
});
