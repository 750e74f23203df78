import { type CopyPolicy, DriftMode } from './gen/kuberelay/relay/v1/relay.js';

// Copy.policy on the wire ⇄ the policy the programs work with (shared's CopyPolicy, which this
// package cannot import: shared is above it). One place, so server and agent read it alike.

/** The drift modes of docs/spec.md D10.2, by name. */
export type DriftModeName = 'enforce' | 'report';

export interface PolicyFields {
  readonly paused: boolean;
  readonly drift: DriftModeName;
  readonly ignoreFields: readonly string[];
  readonly holdReason: string;
}

/** The wire form; undefined for the default policy, so such copies encode exactly as before. */
export function policyToWire(policy: PolicyFields): CopyPolicy | undefined {
  if (
    !policy.paused &&
    policy.drift === 'enforce' &&
    policy.ignoreFields.length === 0 &&
    policy.holdReason === ''
  )
    return undefined;
  return {
    paused: policy.paused,
    drift: policy.drift === 'report' ? DriftMode.DRIFT_MODE_REPORT : DriftMode.DRIFT_MODE_UNSPECIFIED,
    ignoreFields: [...policy.ignoreFields],
    holdReason: policy.holdReason,
  };
}

/** The policy a Copy carries; an unknown drift mode (a newer server) is read as the default. */
export function policyFromWire(wire: CopyPolicy | undefined): PolicyFields {
  return {
    paused: wire?.paused ?? false,
    drift: wire?.drift === DriftMode.DRIFT_MODE_REPORT ? 'report' : 'enforce',
    ignoreFields: wire?.ignoreFields ?? [],
    holdReason: wire?.holdReason ?? '',
  };
}
