import { NackReason, policyFromWire, type VersionContent } from '@kuberelay/proto';
import type { KindRegistry } from '@kuberelay/shared';
import { type DigestFormat, stateDigest } from '@kuberelay/shared';
import { parseReceivedCopy, type ReceivedCopy } from '../apply/receivedCopy.js';

export type NextDesiredSet =
  | { readonly ok: true; readonly copies: ReadonlyMap<string, ReceivedCopy>; readonly digest: string }
  | { readonly ok: false; readonly reason: NackReason; readonly message: string };

/**
 * The complete desired set after a version: `held` (what the agent acknowledged, which is what it
 * told the server it has) with the version's removals and upserts, or the upserts alone for a
 * `replace` version. Pure. The result's digest must equal the version's, computed exactly as the
 * server does (shared stateDigest over key, hash, overwrite, policy); otherwise the version is rejected
 * and nothing of it is applied, so a gap in the stream can never prune a wanted copy.
 */
export function nextDesiredSet(options: {
  readonly held: ReadonlyMap<string, ReceivedCopy>;
  readonly version: VersionContent;
  readonly kinds: KindRegistry;
  /** The stream's digest format (Welcome.digest_format). */
  readonly digestFormat: DigestFormat;
}): NextDesiredSet {
  const { version } = options;
  const next = new Map<string, ReceivedCopy>(version.replace ? [] : options.held);
  for (const key of version.removes) next.delete(key);
  const problems: string[] = [];
  for (const copy of version.upserts) {
    const parsed = parseReceivedCopy({
      key: copy.key,
      hash: copy.hash,
      overwrite: copy.overwrite,
      policy: policyFromWire(copy.policy),
      manifest: Buffer.from(copy.manifest).toString('utf8'),
      kinds: options.kinds,
    });
    if (parsed.ok) next.set(copy.key, parsed.value);
    else problems.push(...parsed.errors.map((e) => e.message));
  }
  if (problems.length > 0) {
    return { ok: false, reason: NackReason.NACK_REASON_INVALID_MANIFEST, message: problems.join('; ') };
  }
  const digest = stateDigest(next, options.digestFormat);
  if (digest !== version.digest) {
    return {
      ok: false,
      reason: NackReason.NACK_REASON_DIGEST_MISMATCH,
      message: `after version ${version.version} the agent holds ${next.size} copies with digest ${digest}, the server expects ${version.digest}`,
    };
  }
  return { ok: true, copies: next, digest };
}
