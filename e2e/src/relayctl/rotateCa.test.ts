import { RelayCaKey } from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { splitPemBundle } from '@kuberelay/shared/pki';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  createNamespace,
  createRelayCa,
  decode,
  getJson,
  getRelayCa,
  relayctl,
  rest,
  type Secret,
  unique,
} from './harness.js';

// relayctl rotate-ca against the lab: the relay CA Secret is created the way the management server
// creates it at first start, then rotated in its three steps.

let lab: Lab;
let mgmt: KubeRest;
beforeAll(() => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
});

/** The CAs of the Secret's bundle, signing CA first, each as one PEM block. */
const bundleOf = (secret: Secret): string[] => splitPemBundle(decode(secret, RelayCaKey.bundle));
const pem = (text: string): string => splitPemBundle(text)[0] ?? '';

describe('relayctl rotate-ca', () => {
  // Against a real API server: rotate-ca replaces the Secret it read (a compare-and-swap on its
  // resourceVersion); it once tried to create it and failed at every step.
  it('begin adds a CA to the bundle, switch makes it sign, finish drops the old one', async () => {
    const ns = unique('rctl-rotate');
    await createNamespace(mgmt, ns);
    const oldCa = pem(await createRelayCa(mgmt, ns));
    const created = await getRelayCa(mgmt, ns);
    const flags = ['--kubecontext', 'mgmt', '-n', ns];

    const outOfOrder = await relayctl(lab, ['rotate-ca', 'switch', ...flags]);
    expect(outOfOrder.code).toBe(1);
    expect(outOfOrder.err).toBe(
      'relayctl: error: no rotation has begun: run "relayctl rotate-ca begin" first\n',
    );

    // begin: a new CA is trusted next to the old one, which still signs.
    const begin = await relayctl(lab, ['rotate-ca', 'begin', ...flags, '-o', 'json']);
    expect(begin.code).toBe(0);
    expect(JSON.parse(begin.out)).toEqual({
      kind: 'RelayctlRotateCa',
      schemaVersion: 1,
      step: 'begin',
      namespace: ns,
      context: 'mgmt',
      bundle: 2,
      next: true,
    });
    expect(begin.err).toContain(
      `✔ rotate-ca begin: 2 CA(s) trusted in ${ns}/kuberelay-relay-ca (context "mgmt"). Next:`,
    );
    const begun = await getRelayCa(mgmt, ns);
    const newCa = pem(decode(begun, RelayCaKey.nextCert));
    expect(newCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(newCa).not.toBe(oldCa);
    expect(decode(begun, RelayCaKey.nextKey)).toContain('PRIVATE KEY');
    expect(pem(decode(begun, RelayCaKey.cert))).toBe(oldCa);
    expect(bundleOf(begun)).toEqual([oldCa, newCa]);
    expect(begun.type).toBe('kubernetes.io/tls');
    // The Secret is updated in place, never re-created.
    expect(begun.metadata.uid).toBe(created.metadata.uid);

    // An agent registered mid-rotation trusts both CAs.
    const agentNs = unique('rctl-agent');
    const reg = await relayctl(lab, [
      ...['register', 'cluster-1', ...flags, '--remote-context', 'cluster-1'],
      ...['--remote-namespace', agentNs, '--server', 'relay.example:9900', '--mgmt-cluster', 'mgmt'],
    ]);
    expect(reg.code).toBe(0);
    const creds = await getJson<Secret>(
      rest(lab, 'cluster-1'),
      `/api/v1/namespaces/${agentNs}/secrets/kuberelay-agent-credentials`,
    );
    expect(splitPemBundle(decode(creds, 'ca.crt')).sort()).toEqual([oldCa, newCa].sort());

    const early = await relayctl(lab, ['rotate-ca', 'finish', ...flags]);
    expect(early.code).toBe(1);
    expect(early.err).toBe(
      'relayctl: error: the new CA does not sign yet: run "relayctl rotate-ca switch" before finish\n',
    );

    // switch: the new CA signs, listed first; the old one stays trusted.
    const sw = await relayctl(lab, ['rotate-ca', 'switch', ...flags]);
    expect(sw.code).toBe(0);
    expect(sw.out).toBe('');
    expect(sw.err).toContain('✔ rotate-ca switch: 2 CA(s) trusted');
    const switched = await getRelayCa(mgmt, ns);
    expect(pem(decode(switched, RelayCaKey.cert))).toBe(newCa);
    expect(decode(switched, RelayCaKey.key)).toBe(decode(begun, RelayCaKey.nextKey));
    expect(bundleOf(switched)).toEqual([newCa, oldCa]);
    expect(Object.keys(switched.data ?? {}).sort()).toEqual(
      [RelayCaKey.bundle, RelayCaKey.cert, RelayCaKey.key].sort(),
    );

    // finish: only the new CA is trusted.
    const finish = await relayctl(lab, ['rotate-ca', 'finish', ...flags]);
    expect(finish.code).toBe(0);
    expect(finish.err).toContain('✔ rotate-ca finish: 1 CA(s) trusted');
    expect(finish.err).toContain('The rotation is complete.');
    const finished = await getRelayCa(mgmt, ns);
    expect(pem(decode(finished, RelayCaKey.cert))).toBe(newCa);
    expect(bundleOf(finished)).toEqual([newCa]);
    expect(finished.metadata.uid).toBe(created.metadata.uid);
  });

  it('says when there is no relay CA to rotate, and refuses an unknown step', async () => {
    const ns = unique('rctl-rotate');
    await createNamespace(mgmt, ns);
    const missing = await relayctl(lab, ['rotate-ca', 'begin', '--kubecontext', 'mgmt', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(
      `relayctl: error: the relay CA Secret ${ns}/kuberelay-relay-ca does not exist in context "mgmt": start the management server first\n`,
    );
    const wrong = await relayctl(lab, ['rotate-ca', 'restart', '--kubecontext', 'mgmt', '-n', ns]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('rotate-ca step must be begin, switch or finish, not "restart"');
  });
});
