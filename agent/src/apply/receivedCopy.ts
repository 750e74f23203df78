import {
  Annotation,
  type CopyPolicy,
  copyPolicy,
  ErrorCode,
  err,
  type FieldPath,
  isJsonObject,
  type KindRegistry,
  type KubeObject,
  objectKey,
  objectRefOf,
  ok,
  parseFieldPath,
  RelayError,
  type Result,
  splitApiVersion,
} from '@kuberelay/shared';

/**
 * One copy the agent must hold, as received from the server (or the state file). Immutable.
 * (Not shared's DesiredCopy, the server's view of a copy: the agent knows only the manifest.)
 * `manifest` is the exact JSON the server sent; `object` its parsed form.
 */
export interface ReceivedCopy {
  readonly key: string;
  readonly hash: string;
  readonly overwrite: boolean;
  /** Paused, drift mode, ignored fields (docs/spec.md §10); part of the digest when not default. */
  readonly policy: CopyPolicy;
  /** policy.ignoreFields, parsed. */
  readonly ignored: readonly FieldPath[];
  readonly manifest: string;
  readonly object: KubeObject;
  readonly target: CopyTarget;
}

/** Where a copy lives in the workload cluster's REST API. */
export interface CopyTarget {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Undefined when the kind is not one of the agent's kinds (the copy then fails alone). */
  readonly plural: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string;
}

export interface ParseCopyOptions {
  readonly key: string;
  readonly hash: string;
  readonly overwrite: boolean;
  /** Absent: the default policy (a state file from before per-source policy (§10)). */
  readonly policy?: Partial<CopyPolicy> | undefined;
  readonly manifest: string;
  readonly kinds: KindRegistry;
}

/**
 * Validates one manifest at the boundary: JSON, a Kubernetes object with apiVersion, kind and a
 * name, whose identity matches the key the server gave it. Anything else makes the whole version
 * invalid (the server built it, so it is a bug there, not a property of this copy).
 */
export function parseReceivedCopy(options: ParseCopyOptions): Result<ReceivedCopy> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(options.manifest);
  } catch (error) {
    return invalid(options.key, 'is not valid JSON', error);
  }
  if (!isKubeObject(parsed)) {
    return invalid(options.key, 'is not a Kubernetes object (apiVersion, kind and metadata.name)');
  }
  const ref = objectRefOf(parsed);
  const actualKey = objectKey(ref);
  if (actualKey !== options.key) {
    return invalid(options.key, `describes ${actualKey}`);
  }
  const policy = copyPolicy(options.policy ?? {});
  const ignored: FieldPath[] = [];
  for (const text of policy.ignoreFields) {
    const path = parseFieldPath(text);
    if (!path.ok)
      return invalid(options.key, `has an ignored field the agent cannot read: ${path.errors[0].message}`);
    ignored.push(path.value);
  }
  const { group, version } = splitApiVersion(parsed.apiVersion);
  const info = options.kinds.byGroupKind(group, parsed.kind);
  return ok({
    key: options.key,
    hash: options.hash,
    overwrite: options.overwrite,
    policy,
    ignored,
    manifest: options.manifest,
    object: parsed,
    target: {
      group,
      version,
      kind: parsed.kind,
      plural: info?.plural,
      namespace: ref.namespace,
      name: ref.name,
    },
  });
}

/** The distributed-source URI the copy carries: what makes a live object ours. */
export function sourceUriOf(object: KubeObject): string | undefined {
  return object.metadata.annotations?.[Annotation.DistributedSource];
}

function isKubeObject(value: unknown): value is KubeObject {
  if (!isJsonObject(value)) return false;
  const metadata = value.metadata;
  return (
    typeof value.apiVersion === 'string' &&
    value.apiVersion !== '' &&
    typeof value.kind === 'string' &&
    value.kind !== '' &&
    isJsonObject(metadata) &&
    typeof metadata.name === 'string' &&
    metadata.name !== '' &&
    (metadata.namespace === undefined || typeof metadata.namespace === 'string')
  );
}

function invalid(key: string, reason: string, cause?: unknown): Result<ReceivedCopy> {
  return err(
    new RelayError({
      code: ErrorCode.InvalidMessage,
      message: `manifest of copy ${key} ${reason}`,
      details: { copy: key },
      ...(cause === undefined ? {} : { cause }),
    }),
  );
}
