import { CopyOutcome, type CopyResult } from '@kuberelay/proto';
import {
  Annotation,
  type ClusterCondition,
  type ClusterCopies,
  CopyOutcomeName,
  type CopyStatus,
  compareStrings,
  ErrorCode,
  type KubernetesClusterStatus,
  MAX_STATUS_COPIES,
} from '@kuberelay/shared';

/** What this replica knows about one cluster's agent. */
export interface AgentState {
  readonly connected: boolean;
  readonly agentVersion: string;
  readonly agentPod: string;
  /** When this replica's stream of the agent started (ms since the epoch). */
  readonly connectedAt: number;
  /** Agent replicas alive, as the connected agent (its leader) last said; 1 when it says nothing. */
  readonly agentReplicas: number;
  /** ms since the epoch. */
  readonly lastHeartbeatAt: number | undefined;
  readonly sentVersion: number | undefined;
  readonly ackedVersion: number | undefined;
  readonly ackedDigest: string | undefined;
  /** Latest result per copy key, from Acks and Reports. */
  readonly results: ReadonlyMap<string, CopyResult>;
  readonly lastRejected:
    | { readonly version: number; readonly message: string; readonly at: number }
    | undefined;
}

export interface BuildClusterStatusInput {
  readonly agent: AgentState;
  /** The cluster's current desired copies and their digest. */
  readonly desired: { readonly copies: ClusterCopies; readonly digest: string } | undefined;
  /** `<namespace>/<pod>` of this replica. */
  readonly serverPod: string;
  /** `<pod>/<start id>` of this process (its Lease's holderIdentity). */
  readonly serverInstance: string;
  readonly distributionEnabled: boolean;
  readonly now: number;
  /** Conditions last written, so lastTransitionTime only moves when a status flips. */
  readonly previousConditions: readonly ClusterCondition[] | undefined;
}

const MESSAGE_MAX = 4096;
const OUTCOME_ORDER: readonly CopyOutcomeName[] = [
  CopyOutcomeName.failed,
  CopyOutcomeName.conflict,
  CopyOutcomeName.drifted,
  CopyOutcomeName.paused,
  CopyOutcomeName.pending,
  CopyOutcomeName.applied,
];

/** One copy's outcome: the agent's result for the content it should hold now, else Pending. */
export function copyOutcome(result: CopyResult | undefined, hash: string): CopyOutcomeName {
  if (result === undefined || result.hash !== hash) return CopyOutcomeName.pending;
  switch (result.outcome) {
    case CopyOutcome.COPY_OUTCOME_APPLIED:
      return CopyOutcomeName.applied;
    case CopyOutcome.COPY_OUTCOME_FAILED:
      return CopyOutcomeName.failed;
    case CopyOutcome.COPY_OUTCOME_CONFLICT:
      return CopyOutcomeName.conflict;
    case CopyOutcome.COPY_OUTCOME_DRIFTED:
      return CopyOutcomeName.drifted;
    case CopyOutcome.COPY_OUTCOME_PAUSED:
      return CopyOutcomeName.paused;
    default:
      return CopyOutcomeName.pending;
  }
}

/**
 * The `KubernetesCluster.status` this replica writes (design.md "Status"). Pure. Counts cover every
 * desired copy; `copies` lists at most MAX_STATUS_COPIES, failures and conflicts first, so the
 * entries a person needs are never the ones cut. Every field is always present, so a merge patch
 * of the result replaces what an earlier write said.
 */
export function buildClusterStatus(
  input: BuildClusterStatusInput,
): Required<Omit<KubernetesClusterStatus, 'lastRejectedAttempt'>> &
  Pick<KubernetesClusterStatus, 'lastRejectedAttempt'> {
  const { agent, desired } = input;
  const counts = {
    applied: 0,
    failed: 0,
    conflict: 0,
    drifted: 0,
    paused: 0,
    pending: 0,
    warnings: 0,
    notPruned: 0,
  };
  const copies: CopyStatus[] = [];
  for (const copy of desired?.copies.values() ?? []) {
    const result = agent.results.get(copy.key);
    const outcome = copyOutcome(result, copy.hash);
    counts[outcomeCountKey(outcome)] += 1;
    const source = copy.object.metadata.annotations?.[Annotation.DistributedSource];
    // Applied with a code is applied with a warning: its reason is kept like a failure's.
    const explained = outcome !== CopyOutcomeName.pending && result?.code !== undefined && result.code !== '';
    if (explained && outcome === CopyOutcomeName.applied) counts.warnings += 1;
    copies.push({
      key: copy.key,
      ...(source === undefined ? {} : { source }),
      hash: copy.hash,
      outcome,
      ...(explained && result?.code ? { code: result.code } : {}),
      ...(explained && result?.message ? { message: result.message.slice(0, MESSAGE_MAX) } : {}),
    });
  }
  // Orphans: copies no longer desired that the agent could not delete. Shown until it reports
  // them removed, since their sources are gone and nothing else would name them.
  for (const result of agent.results.values()) {
    if (result.code !== ErrorCode.PruneFailed || desired?.copies.has(result.key) === true) continue;
    counts.notPruned += 1;
    copies.push({
      key: result.key,
      outcome: CopyOutcomeName.failed,
      code: result.code,
      message: result.message.slice(0, MESSAGE_MAX),
    });
  }
  // Failures first, then warnings, so the entries a person needs are never the ones cut.
  copies.sort(
    (a, b) =>
      OUTCOME_ORDER.indexOf(a.outcome) - OUTCOME_ORDER.indexOf(b.outcome) ||
      Number(b.code !== undefined) - Number(a.code !== undefined) ||
      compareStrings(a.key, b.key),
  );
  const upToDate = agent.connected && desired !== undefined && agent.ackedDigest === desired.digest;
  const conditions = [
    condition(input, {
      type: 'Connected',
      status: agent.connected ? 'True' : 'False',
      reason: agent.connected ? 'AgentConnected' : 'AgentDisconnected',
      message: agent.connected
        ? `agent ${agent.agentPod} (${agent.agentVersion}) connected to ${input.serverPod}`
        : 'no agent stream',
    }),
    condition(input, {
      type: 'UpToDate',
      status: upToDate ? 'True' : 'False',
      reason: !input.distributionEnabled
        ? 'DistributionDisabled'
        : upToDate
          ? 'Acknowledged'
          : agent.connected
            ? 'VersionPending'
            : 'AgentDisconnected',
      message: upToDate
        ? // No version in the text: it would make every acknowledged edit a change to write.
          'the agent acknowledged the current desired state (ackedVersion)'
        : !input.distributionEnabled
          ? 'the ConfigDistribution feature gate is off: nothing is sent'
          : 'the agent has not acknowledged the current desired state',
    }),
  ];
  return {
    connected: agent.connected,
    connectedPod: agent.connected ? input.serverPod : '',
    serverInstance: agent.connected ? input.serverInstance : '',
    connectedSince: agent.connected ? new Date(agent.connectedAt).toISOString() : '',
    agentVersion: agent.agentVersion,
    agentPod: agent.agentPod,
    // 0 while disconnected: no replica is known to be alive.
    agentReplicas: agent.connected ? agent.agentReplicas : 0,
    lastHeartbeat: new Date(agent.lastHeartbeatAt ?? input.now).toISOString(),
    sentVersion: String(agent.sentVersion ?? 0),
    ackedVersion: String(agent.ackedVersion ?? 0),
    counts,
    conditions,
    copies: copies.slice(0, MAX_STATUS_COPIES),
    ...(agent.lastRejected === undefined
      ? {}
      : {
          lastRejectedAttempt: {
            version: String(agent.lastRejected.version),
            message: agent.lastRejected.message.slice(0, 32_768),
            time: new Date(agent.lastRejected.at).toISOString(),
          },
        }),
  };
}

function outcomeCountKey(
  outcome: CopyOutcomeName,
): 'applied' | 'failed' | 'conflict' | 'drifted' | 'paused' | 'pending' {
  switch (outcome) {
    case CopyOutcomeName.drifted:
      return 'drifted';
    case CopyOutcomeName.paused:
      return 'paused';
    case CopyOutcomeName.applied:
      return 'applied';
    case CopyOutcomeName.failed:
      return 'failed';
    case CopyOutcomeName.conflict:
      return 'conflict';
    case CopyOutcomeName.pending:
      return 'pending';
  }
}

function condition(
  input: BuildClusterStatusInput,
  next: Omit<ClusterCondition, 'lastTransitionTime'>,
): ClusterCondition {
  const before = input.previousConditions?.find((c) => c.type === next.type);
  const lastTransitionTime =
    before !== undefined && before.status === next.status
      ? before.lastTransitionTime
      : new Date(input.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...next, lastTransitionTime };
}
