import { execFile } from 'node:child_process';
import { AGENT_CREDENTIALS_SECRET } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { describe, expect, inject, it } from 'vitest';
import { bin } from '../demo/relayProcesses.js';
import { attachLab } from '../lab/lab.js';

// The agent program started with a credentials Secret that has several problems: it must exit 1
// and say every problem once (issue 9: the error was printed three times and named only the first
// bad key).

describe('the agent program with bad credentials', () => {
  it('exits 1 and names every bad key, each once', async () => {
    const lab = attachLab(inject('labDir'));
    const rest = new KubeRest(lab.kubeConfig('cluster-1'));
    const namespace = `cred-errors-${Date.now().toString(36)}`;
    await rest.request({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { metadata: { name: namespace } },
    });
    try {
      // No cluster, a server that is not host:port, and neither a certificate nor a token.
      await rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${namespace}/secrets`,
        body: {
          metadata: { name: AGENT_CREDENTIALS_SECRET },
          stringData: { server: 'https://not-host-port/', mgmtCluster: 'mgmt' },
        },
      });
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            bin.agent,
            `--kubeconfig=${lab.kubeconfigPath}`,
            '--context=cluster-1',
            `--namespace=${namespace}`,
          ],
          { timeout: 30_000 },
          (error, stdout, stderr) => {
            const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
            resolve({ code: exit, output: `${stdout}${stderr}` });
          },
        );
      });
      expect(code, output).toBe(1);
      const count = (text: string) => output.split(text).length - 1;
      expect(count('missing cluster'), output).toBe(1);
      expect(count('https://not-host-port/'), output).toBe(1);
      expect(count('neither a client certificate'), output).toBe(1);
      expect(output).toContain('InvalidConfig');
      // One line that says it all; no stack trace for a problem the operator fixes in the Secret.
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      await rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}` });
    }
  });
});
