import { DEFAULT_KINDS } from '@kuberelay/shared';
import { type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { REFERENCE_GRANT, referenceGrant } from '../support/referenceGrant.js';
import { startTestServer } from '../support/testing.js';
import { createNamespace, relayctl, rest, unique } from './harness.js';

// A server started with an added kind (--kinds) announces its kinds on its Lease, and relayctl
// status lists the sources of exactly those kinds: a ReferenceGrant source is not missing.

let lab: Lab;
let mgmt: KubeRest;
let ns: string;
let src: string;
let stopServer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
  ns = unique('rctl-kinds');
  src = unique('rctl-kinds-src');
  await createNamespace(mgmt, ns);
  await createNamespace(mgmt, src);
  const server = await startTestServer(lab, ns, { kinds: [...DEFAULT_KINDS, REFERENCE_GRANT] });
  stopServer = () => server.stop();
  await server.ready;
  await mgmt.request({
    method: 'POST',
    path: resourcePath({ ...REFERENCE_GRANT, namespace: src }),
    body: referenceGrant({ name: 'grant', namespace: src, distributeTo: '*' }),
  });
}, 60_000);

afterAll(async () => {
  await stopServer?.();
});

const base = () => ['--kubecontext', 'mgmt', '-n', ns, '--source-namespace', src];

describe('relayctl status with the kinds the server announces', () => {
  it('shows a source of a kind the server was started with in addition to the defaults', async () => {
    const r = await relayctl(lab, ['status', ...base(), '-o', 'json']);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const doc = JSON.parse(r.out) as {
      kinds: string[];
      kindsFrom: string;
      sources: { kind: string; name: string; distributeTo: string }[];
    };
    expect(doc.kindsFrom).toBe('Lease kuberelay-mgmt-server-mgmt-server-0');
    expect(doc.kinds).toContain('ReferenceGrant.gateway.networking.k8s.io');
    expect(doc.sources.map((s) => [s.kind, s.name, s.distributeTo])).toEqual([
      ['ReferenceGrant', 'grant', '*'],
    ]);

    const one = await relayctl(lab, ['status', 'referencegrant/grant', ...base()]);
    expect(one.code).toBe(0);
    expect(one.out).toContain(`ReferenceGrant ${src}/grant`);
  });

  it('KIND that the server does not distribute is a usage error listing the kinds it does', async () => {
    const r = await relayctl(lab, ['status', 'widget/x', ...base()]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'relayctl: error: "widget" is not a distributable kind (one of: GatewayClass, Gateway, HTTPRoute, GatewayParameters, HttpListenerOption, ListenerOption, RouteOption, VirtualHostOption, Upstream, ReferenceGrant) (see relayctl status --help)\n',
    );
  });

  it('falls back to the default kinds, and says so, when no server Lease announces kinds', async () => {
    const empty = unique('rctl-kinds-none');
    await createNamespace(mgmt, empty);
    const r = await relayctl(lab, [
      'status',
      '--kubecontext',
      'mgmt',
      '-n',
      empty,
      '--source-namespace',
      src,
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      '(no management server Lease announces its kinds (annotation kuberelay.dev/kinds); showing the default kinds)\n',
    );
    const doc = JSON.parse(r.out) as { kindsFrom: string; sources: unknown[] };
    expect(doc).toMatchObject({ kindsFrom: 'default', sources: [] });
  });
});
