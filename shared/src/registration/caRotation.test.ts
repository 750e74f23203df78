import { describe, expect, it } from 'vitest';
import { createCa } from '../pki/issueCertificate.js';
import { splitPemBundle } from '../pki/pem.js';
import { rotateCa } from './caRotation.js';
import { RelayCaKey } from './names.js';
import { newCaSecret, type RelayCa, relayCaOf } from './relayCa.js';

const now = Date.parse('2030-01-01T00:00:00Z');
const pems = (bundle: string) => splitPemBundle(bundle).map((pem) => pem.trim());

const load = (data: Readonly<Record<string, string>>): RelayCa => {
  const parsed = relayCaOf({
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
  if (!parsed.ok) throw parsed.errors[0];
  return parsed.value;
};

describe('rotateCa', async () => {
  const oldCa = await createCa({ commonName: 'old', validityMs: 86_400_000, now });
  const newCa = await createCa({ commonName: 'new', validityMs: 86_400_000, now });
  const start = relayCaOf(newCaSecret({ namespace: 'ns', ca: oldCa, createdAt: 'x' }));
  if (!start.ok) throw start.errors[0];

  it('begin → switch → finish moves trust and signing without a gap', () => {
    const begun = rotateCa({ step: 'begin', current: start.value, newCa });
    if (!begun.ok) throw begun.errors[0];
    const afterBegin = load(begun.value);
    expect(afterBegin.signing.certPem.trim()).toBe(oldCa.certPem.trim());
    expect(pems(afterBegin.bundlePem)).toEqual([oldCa.certPem.trim(), newCa.certPem.trim()]);

    const switched = rotateCa({ step: 'switch', current: afterBegin });
    if (!switched.ok) throw switched.errors[0];
    const afterSwitch = load(switched.value);
    expect(afterSwitch.signing.certPem.trim()).toBe(newCa.certPem.trim());
    expect(afterSwitch.next).toBeUndefined();
    // The signing CA first, the old one still trusted.
    expect(pems(afterSwitch.bundlePem)).toEqual([newCa.certPem.trim(), oldCa.certPem.trim()]);

    const finished = rotateCa({ step: 'finish', current: afterSwitch });
    if (!finished.ok) throw finished.errors[0];
    expect(pems(finished.value[RelayCaKey.bundle] ?? '')).toEqual([newCa.certPem.trim()]);
  });

  it.each([{ step: 'switch', message: 'run "relayctl rotate-ca begin" first' }] as const)(
    'refuses $step out of order',
    ({ step, message }) => {
      const result = rotateCa({ step, current: start.value });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors[0].message).toContain(message);
    },
  );

  it('refuses begin twice and finish before switch', () => {
    const begun = rotateCa({ step: 'begin', current: start.value, newCa });
    if (!begun.ok) throw begun.errors[0];
    const afterBegin = load(begun.value);
    expect(rotateCa({ step: 'begin', current: afterBegin, newCa }).ok).toBe(false);
    expect(rotateCa({ step: 'finish', current: afterBegin }).ok).toBe(false);
  });
});
