import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigPaths, loadKubeconfig, selectContext } from './kubeconfig.js';

function kubeconfig(contexts: string[], current?: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c, cluster: { server: `https://${c}.example:6443` } })),
    users: contexts.map((c) => ({ name: c, user: { token: 'x' } })),
    contexts: contexts.map((c) => ({ name: c, context: { cluster: c, user: c } })),
    ...(current ? { 'current-context': current } : {}),
  });
}

describe('kubeconfigPaths', () => {
  it.each([
    { flag: '/a', env: { KUBECONFIG: '/b' }, paths: ['/a'] },
    { flag: undefined, env: { KUBECONFIG: `/b${delimiter}${delimiter}/c` }, paths: ['/b', '/c'] },
    { flag: undefined, env: { HOME: '/home/me' }, paths: ['/home/me/.kube/config'] },
  ])('$flag $env', ({ flag, env, paths }) => {
    expect(kubeconfigPaths({ flag, env })).toEqual(paths);
  });
});

describe('loadKubeconfig and selectContext', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relayctl-kc-'));
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  writeFileSync(first, kubeconfig(['mgmt'], 'mgmt'));
  writeFileSync(second, kubeconfig(['cluster-1'], 'cluster-1'));

  it('says a file that is not a kubeconfig is not one', () => {
    const notKubeconfig = join(dir, 'values.yaml');
    writeFileSync(notKubeconfig, 'replicas: 2\nimage: kuberelay\n');
    expect(() => loadKubeconfig([notKubeconfig])).toThrow(
      `${notKubeconfig} is not a kubeconfig: it has no clusters, users or contexts`,
    );
  });

  it('merges files, the first current-context winning', () => {
    const kc = loadKubeconfig([first, join(dir, 'missing'), second]);
    expect(kc.getContexts().map((c) => c.name)).toEqual(['mgmt', 'cluster-1']);
    expect(selectContext(kc, undefined, { flag: '--kubecontext' }).context).toBe('mgmt');
    const other = selectContext(kc, 'cluster-1', { flag: '--remote-context' });
    expect(other.kubeConfig.getCurrentCluster()?.server).toBe('https://cluster-1.example:6443');
    expect(kc.getCurrentContext()).toBe('mgmt');
  });

  it('names the available contexts when one is missing', () => {
    const kc = loadKubeconfig([first, second]);
    expect(() => selectContext(kc, 'nope', { flag: '--remote-context' })).toThrow(
      'context "nope" (--remote-context) is not in the kubeconfig; available contexts: mgmt, cluster-1',
    );
  });

  it('asks for a context when there is no current one', () => {
    const none = join(dir, 'none');
    writeFileSync(none, kubeconfig(['a', 'b']));
    expect(() => selectContext(loadKubeconfig([none]), undefined, { flag: '--kubecontext' })).toThrow(
      'no --kubecontext given and the kubeconfig has no current context; available contexts: a, b',
    );
  });

  it('says where it looked when no file exists', () => {
    expect(() => loadKubeconfig([join(dir, 'x')])).toThrow(`no kubeconfig found at ${join(dir, 'x')}`);
  });
});
