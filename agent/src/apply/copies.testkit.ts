import { type CopyPolicy, createKindRegistry, DEFAULT_KINDS, type KubeObject } from '@kuberelay/shared';
import { parseReceivedCopy, type ReceivedCopy } from './receivedCopy.js';

// A copy as the agent receives it, for the apply unit tests (not shipped: *.testkit.ts).

export const AGENT = 'kuberelay-agent';
export const SOURCE = 'gloo://mgmt/ns/default/kind/Upstream/name/u';

/** An Upstream copy of `SOURCE` in namespace `apps`, as the server would send it. */
export const upstreamCopyObject: KubeObject = {
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name: 'u',
    namespace: 'apps',
    labels: { 'relay.solo.io/cluster': 'mgmt' },
    annotations: { 'gloo.solo.io/distributed-source': SOURCE },
  },
  spec: { static: { hosts: [{ addr: 'a.example.com', port: 80 }] } },
};

/** `object` parsed as the agent does, with content hash `hash`. */
export function receivedCopyOf(
  object: KubeObject,
  options: { hash: string; overwrite?: boolean; policy?: Partial<CopyPolicy> },
): ReceivedCopy {
  const parsed = parseReceivedCopy({
    key: 'gloo.solo.io/Upstream/apps/u',
    hash: options.hash,
    overwrite: options.overwrite ?? false,
    policy: options.policy,
    manifest: JSON.stringify(object),
    kinds: createKindRegistry(DEFAULT_KINDS),
  });
  if (!parsed.ok) throw parsed.errors[0];
  return parsed.value;
}
