// Public API of @kuberelay/shared: the pure core of distribution (selection, copies, references,
// desired state, diffs) and the small edges every program needs (logger, clock, backoff).

export {
  type BuildCopyOptions,
  buildCopy,
  DEFAULT_CLASS_MAPPING,
  type GatewayClassMapping,
} from './copy/buildCopy.js';
export { formatClassMapping, parseClassMapping } from './copy/classMapping.js';
export { deepFreeze, setIn } from './copy/immutable.js';
export {
  formatPath,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  type KubeObject,
  type ObjectMeta,
  type PathSegment,
} from './copy/kubeObject.js';
export {
  type FoundReference,
  findReferences,
  ReferenceRole,
  type ResolvedReference,
  referencedSources,
} from './copy/references.js';
export {
  type Placement,
  type RewriteReferencesOptions,
  type RewriteResult,
  rewriteReferences,
} from './copy/rewriteReferences.js';
export { validateSource } from './copy/validateSource.js';
export { computeDesiredState, type DesiredStateInput } from './desired/computeDesiredState.js';
export { CONTENT_HASH_HEX_LENGTH, canonicalJson, contentHash, hashText } from './desired/contentHash.js';
export { CopySet } from './desired/copySet.js';
export {
  type ClusterCopies,
  type DesiredCopy,
  type DesiredState,
  type ReportItem,
  Severity,
  type SourceReport,
} from './desired/desiredState.js';
export {
  DesiredStateEngine,
  type DesiredStateEngineOptions,
  type EngineInput,
  type EngineUpdate,
  type RolloutAdmission,
} from './desired/desiredStateEngine.js';
export { type Baseline, baselineFromHave, type CopiesDiff, diffCopies } from './desired/diffCopies.js';
export { planSource, type SourcePlan, targetsOf, type ValidPlan } from './desired/planSource.js';
export { type DigestEntry, DigestFormat, stateDigest } from './desired/stateDigest.js';
export { type ClusterMatcher, compileClusterPattern } from './distributeTo/clusterMatcher.js';
export { globProblem, splitEntries } from './distributeTo/globSyntax.js';
export {
  type DistributeTo,
  type DistributeToInclude,
  type ParseDistributeToOptions,
  parseDistributeTo,
} from './distributeTo/parseDistributeTo.js';
export {
  type RegisteredClusters,
  registeredClusters,
  type SelectTargetsOptions,
  selectTargets,
  type Target,
  type TargetSelection,
} from './distributeTo/selectTargets.js';
export { ErrorCode } from './errors/errorCode.js';
export {
  type ErrorDetails,
  isRelayError,
  RelayError,
  type RelayErrorOptions,
  type ToRelayErrorOptions,
  toRelayError,
} from './errors/relayError.js';
export {
  combineResults,
  type Err,
  err,
  isNonEmpty,
  mapResult,
  type NonEmptyArray,
  type Ok,
  ok,
  type Result,
  resultFrom,
} from './errors/result.js';
export { type CrdLike, crdNameOf, crdServes, type ServedKind } from './kinds/crdServes.js';
export {
  ApiGroup,
  apiVersionOf,
  createKindRegistry,
  DEFAULT_KINDS,
  groupKindOf,
  type KindInfo,
  KindName,
  type KindRegistry,
  splitApiVersion,
} from './kinds/kindInfo.js';
export { formatKindsAnnotation, parseKindsAnnotation } from './kinds/kindsAnnotation.js';
export { type NeighbourKind, undistributableKinds } from './kinds/neighbourKinds.js';
export { KindScope, parseKindsFlag } from './kinds/parseKindsFlag.js';
export {
  type CreateLoggerOptions,
  createLogger,
  forCluster,
  forSource,
  type Logger,
} from './logging/createLogger.js';
export {
  DNS_LABEL_MAX_LENGTH,
  DNS_SUBDOMAIN_MAX_LENGTH,
  dnsLabelProblem,
  isDnsLabel,
  isDnsSubdomain,
} from './names/kubeNames.js';
export * from './net/listenAddress.js';
export {
  type CopyPolicy,
  copyPolicy,
  DEFAULT_POLICY,
  DriftMode,
  IGNORE_FIELDS_LIMITS,
  ignoredFieldPaths,
  isDefaultPolicy,
  policyToken,
  samePolicy,
  sourcePolicy,
} from './policy/copyPolicy.js';
export {
  ANY_INDEX,
  FIELD_PATH_LIMITS,
  type FieldPath,
  type FieldStep,
  formatFieldPath,
  isIgnored,
  parseFieldPath,
} from './policy/fieldPath.js';
export { keepLiveValues } from './policy/keepLiveValues.js';
export { runMain, untilStopSignal } from './process/program.js';
export * from './rbac/index.js';
export * from './registration/index.js';
export {
  decodeRevisions,
  encodeRevisions,
  fitsRecord,
  REVISION_LIMITS,
  type RecordedRevision,
  type RevisionContent,
  type RevisionRecord,
  ROLLOUT_REVISIONS_CONFIGMAP,
  recordComplete,
  restoreRevision,
  revisionContent,
  revisionKey,
  undoTarget,
} from './rollout/revisions.js';
export {
  ROLLOUT_LIMITS,
  type Rollout,
  rolloutRevision,
  sourceRollout,
  waveOf,
} from './rollout/rollout.js';
export {
  type ClusterStanding,
  clustersByWave,
  RolloutPhase,
  type RolloutProgress,
  rolloutProgress,
} from './rollout/rolloutProgress.js';
export {
  Annotation,
  ConflictResolution,
  KUBERELAY_PREFIX,
  Label,
  MANAGED_BY_AGENT,
} from './source/annotations.js';
export { type ObjectRef, objectKey, objectRefOf, type SourceRef, sourceRefOf } from './source/objectRef.js';
export { formatSourceUri, parseSourceUri, SOURCE_URI_SCHEME, type SourceUri } from './source/sourceUri.js';
export { type Backoff, type BackoffOptions, createBackoff } from './timing/backoff.js';
export { type Clock, systemClock } from './timing/clock.js';
export { createManualClock, type ManualClock } from './timing/manualClock.js';
export { type RetryAttempt, type RetryLoopOptions, retryLoop } from './timing/retryLoop.js';
export { compareStrings } from './util/compare.js';
export { parseDurationFlag } from './util/durationFlag.js';
