import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';
import type { CertificateAndKey } from '../pki/issueCertificate.js';
import { joinPemBundle } from '../pki/pem.js';
import { RelayCaKey } from './names.js';
import type { RelayCa } from './relayCa.js';

export const RotationStep = { begin: 'begin', switch: 'switch', finish: 'finish' } as const;
export type RotationStep = (typeof RotationStep)[keyof typeof RotationStep];

/** The CA Secret's data (PEM text, not base64) after a rotation step. */
export type CaSecretData = Readonly<Record<string, string>>;

/**
 * The three steps of a CA rotation (docs/design.md "Mutual TLS"), as a pure function of the
 * current CA. No step deletes or re-creates a copy; each only changes what is trusted or signs:
 *
 * - begin: the new CA joins the bundle (next.crt/next.key); the old one still signs. The server
 *   pushes the bundle, so agents trust the new CA before anything is signed by it.
 * - switch: the new CA signs; the old one stays in the bundle so certificates it issued still
 *   work. The bundle lists the signing CA first (its text changes, so it is pushed again); an
 *   agent whose issuer is no longer the first CA of the bundle renews.
 * - finish: the bundle is the signing CA alone; certificates of the old CA stop working.
 *
 * Refuses a step out of order with a message that names the step to run instead.
 */
export function rotateCa(options: {
  readonly step: RotationStep;
  readonly current: RelayCa;
  /** Required for `begin`: the new CA. */
  readonly newCa?: CertificateAndKey;
}): Result<CaSecretData> {
  const { current } = options;
  switch (options.step) {
    case RotationStep.begin: {
      if (current.next !== undefined) {
        return refuse('a rotation has already begun: run "relayctl rotate-ca switch" next');
      }
      if (options.newCa === undefined) return refuse('begin needs a new CA');
      return ok({
        [RelayCaKey.cert]: current.signing.certPem,
        [RelayCaKey.key]: current.signing.keyPem,
        [RelayCaKey.nextCert]: options.newCa.certPem,
        [RelayCaKey.nextKey]: options.newCa.keyPem,
        [RelayCaKey.bundle]: joinPemBundle([current.bundlePem, options.newCa.certPem]),
      });
    }
    case RotationStep.switch: {
      const next = current.next;
      if (next === undefined) return refuse('no rotation has begun: run "relayctl rotate-ca begin" first');
      return ok({
        [RelayCaKey.cert]: next.certPem,
        [RelayCaKey.key]: next.keyPem,
        [RelayCaKey.bundle]: joinPemBundle([next.certPem, current.bundlePem]),
      });
    }
    case RotationStep.finish: {
      if (current.next !== undefined) {
        return refuse('the new CA does not sign yet: run "relayctl rotate-ca switch" before finish');
      }
      return ok({
        [RelayCaKey.cert]: current.signing.certPem,
        [RelayCaKey.key]: current.signing.keyPem,
        [RelayCaKey.bundle]: current.signing.certPem,
      });
    }
  }
}

function refuse(message: string): Result<CaSecretData> {
  return err(new RelayError({ code: ErrorCode.InvalidConfig, message }));
}
