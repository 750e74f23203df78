import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, type KubeResponseInfo, KubeRest } from './kubeRest.js';

// What an API server (or whatever stands in its place: a proxy, a load balancer) may answer, and
// what KubeRest makes of it. A plain HTTP server on loopback stands in for it.

const answers: Record<string, { status: number; body: string }> = {
  '/ok': { status: 200, body: '{"kind":"Thing","spec":{"a":1}}' },
  '/empty': { status: 200, body: '' },
  '/html': { status: 200, body: '<html>proxy</html>' },
  '/status': {
    status: 409,
    body: '{"kind":"Status","reason":"Conflict","message":"the object has been modified","details":{"name":"x"}}',
  },
  '/odd-status': { status: 404, body: '{"kind":"Status","reason":7,"message":null}' },
  '/gateway': { status: 502, body: '<html>bad gateway</html>' },
};

let server: Server;
let rest: KubeRest;
const responses: KubeResponseInfo[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = answers[req.url ?? ''] ?? { status: 404, body: '' };
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  rest = new KubeRest(kc, { onResponse: (response) => responses.push(response) });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const failure = (path: string) =>
  rest.request({ method: 'GET', path }).then(
    () => undefined,
    (error: unknown) => error,
  );

describe('KubeRest.request', () => {
  it('returns the JSON body, or undefined for an empty one', async () => {
    expect(await rest.request({ method: 'GET', path: '/ok' })).toEqual({ kind: 'Thing', spec: { a: 1 } });
    expect(await rest.request({ method: 'GET', path: '/empty' })).toBeUndefined();
  });

  it('turns a body that is not JSON into a KubeApiError, not a SyntaxError', async () => {
    const error = await failure('/html');
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ reason: 'InvalidResponse', status: 200 });
    expect((error as Error).message).toContain('<html>proxy</html>');
  });

  it('tells onResponse of every answer, failures included', async () => {
    responses.length = 0;
    await rest.request({ method: 'GET', path: '/ok' });
    await failure('/status');
    await rest.request({ method: 'PATCH', path: '/empty', body: {} });
    expect(responses).toEqual([
      { method: 'GET', status: 200 },
      { method: 'GET', status: 409 },
      { method: 'PATCH', status: 200 },
    ]);
  });

  it('reads a Status answer', async () => {
    expect(await failure('/status')).toMatchObject({
      status: 409,
      reason: 'Conflict',
      message: 'the object has been modified',
      details: { name: 'x' },
    });
  });

  it.each([
    ['a Status with fields of the wrong type', '/odd-status', 404, 'Unknown'],
    ['an HTML error page', '/gateway', 502, 'Unknown'],
  ])('describes %s by its HTTP status', async (_what, path, status, reason) => {
    const error = await failure(path);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status, reason });
    expect(typeof (error as Error).message).toBe('string');
  });
});
