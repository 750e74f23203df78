import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@kuberelay/agent';
import { ErrorCode } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import { startTestServer, unique } from '../support/testing.js';

// A port that is already taken must stop a program at once with one clear line and a non-zero
// exit code, not leave it running half-started (issue 7: the server logged EADDRINUSE and hung).

let lab: Lab;
let namespace: string;
let holder: Server;
let takenPort: number;

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  namespace = unique('listen');
  await new KubeRest(lab.kubeConfig('mgmt')).request({
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { metadata: { name: namespace } },
  });
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  takenPort = (holder.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => holder?.close(() => resolve()));
});

describe('a taken port', () => {
  it.each([
    { flag: '--http-listen', option: 'httpListen' },
    { flag: '--grpc-listen', option: 'grpcListen' },
    { flag: '--dashboard-listen', option: 'dashboardListen' },
  ] as const)('startMgmtServer rejects with ListenFailed naming $flag', async ({ flag, option }) => {
    const address = `127.0.0.1:${takenPort}`;
    const started = startTestServer(lab, namespace, { [option]: address });
    const error = await started.then(
      async (server) => {
        await server.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: ErrorCode.ListenFailed,
      message: `cannot listen on ${address} (${flag}): the address is already in use (another process listens on that port) (EADDRINUSE)`,
    });
  });

  it('kuberelay-mgmt-server exits with code 1 and one line naming the port and the flag', async () => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'mgmt-server', 'bin', 'kuberelay-mgmt-server.js'),
        '--kubeconfig',
        lab.kubeconfigPath,
        '--context',
        'mgmt',
        '--namespace',
        namespace,
        '--cluster-name',
        'mgmt',
        '--grpc-listen',
        '127.0.0.1:0',
        '--http-listen',
        `127.0.0.1:${takenPort}`,
        '--log-level',
        'silent',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: `kuberelay-mgmt-server: cannot listen on 127.0.0.1:${takenPort} (--http-listen): the address is already in use (another process listens on that port) (EADDRINUSE)\n`,
    });
  }, 30_000);

  it("the agent's startAgent rejects with ListenFailed naming --http-listen", async () => {
    const error = await startAgent({
      kubeConfig: lab.kubeConfig('cluster-1'),
      cluster: 'cluster-1',
      serverAddress: '127.0.0.1:1',
      stateFile: join(await mkdtemp(join(tmpdir(), 'agent-listen-')), 'state.json'),
      httpListen: `127.0.0.1:${takenPort}`,
      podName: 'e2e-agent',
      logger: pino({ level: 'silent' }),
    }).then(
      async (agent) => {
        await agent.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: ErrorCode.ListenFailed,
      message: `cannot listen on 127.0.0.1:${takenPort} (--http-listen): the address is already in use (another process listens on that port) (EADDRINUSE)`,
    });
  });
});
