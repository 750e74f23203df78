import { ErrorCode } from '@kuberelay/shared';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FencedKubeRest } from './fencedRest.js';

// The fence refuses a write before anything leaves the process; reads go through. The API server
// here does not exist (port 1): a request that reaches the network fails with a connection error,
// never NotLeader.

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code;

describe('FencedKubeRest', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    'refuses a %s while this replica may not write',
    async (method) => {
      const rest = new FencedKubeRest(kubeConfig(), () => false);
      const error = await rest
        .request({ method, path: '/api/v1/namespaces/x/configmaps/y' })
        .catch((e: unknown) => e);
      expect(codeOf(error)).toBe(ErrorCode.NotLeader);
    },
  );

  it.each<[string, 'GET' | 'POST', boolean]>([
    ['a read while standing by', 'GET', false],
    ['a write while leading', 'POST', true],
  ])('lets %s through to the network', async (_what, method, leading) => {
    const rest = new FencedKubeRest(kubeConfig(), () => leading);
    const error = await rest
      .request({ method, path: '/api/v1/namespaces', timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(codeOf(error)).not.toBe(ErrorCode.NotLeader);
  });

  it('asks at every request: a fence that closes refuses the next write', async () => {
    let open = true;
    const rest = new FencedKubeRest(kubeConfig(), () => open);
    open = false;
    const error = await rest
      .request({ method: 'DELETE', path: '/api/v1/namespaces/x' })
      .catch((e: unknown) => e);
    expect(codeOf(error)).toBe(ErrorCode.NotLeader);
  });
});
