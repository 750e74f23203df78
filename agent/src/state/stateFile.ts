import { readFile } from 'node:fs/promises';
import { DriftMode, ErrorCode, isJsonObject, type JsonObject, RelayError } from '@kuberelay/shared';
import { writeFileAtomically } from '../files/writeFileAtomically.js';

/** One copy as persisted: what the server sent, so it can be enforced without the server. */
export interface PersistedCopy {
  readonly key: string;
  readonly hash: string;
  readonly overwrite: boolean;
  /** Absent: the default policy (and every file written before per-source policy (§10)). */
  readonly policy?: PersistedPolicy;
  /** The copy as a JSON object (not a string, so operators can read the file). */
  readonly manifest: JsonObject;
}

export interface PersistedPolicy {
  readonly paused: boolean;
  readonly drift: DriftMode;
  readonly ignoreFields: readonly string[];
  /** Absent in files from before rollouts (docs/spec.md D10.5). */
  readonly holdReason?: string;
}

/**
 * The last version the agent acknowledged. Invariant: `digest` is stateDigest over `copies`, and
 * `copies` is the complete desired set of `version` (not only what applied successfully).
 */
export interface PersistedState {
  readonly version: number;
  readonly digest: string;
  readonly mgmtCluster: string;
  readonly copies: readonly PersistedCopy[];
}

export type LoadStateResult =
  | { readonly status: 'missing' }
  | { readonly status: 'loaded'; readonly state: PersistedState }
  | { readonly status: 'corrupt'; readonly error: RelayError };

/**
 * Reads the state file. A missing file is normal (first start); an unreadable or malformed one is
 * returned as `corrupt` for the caller to report, never thrown: the agent then starts as if it
 * held nothing and the server sends everything again.
 */
export async function loadState(path: string): Promise<LoadStateResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { status: 'missing' };
    return corrupt(path, 'cannot be read', error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return corrupt(path, 'is not valid JSON', error);
  }
  const problem = validate(parsed);
  if (problem !== undefined) return corrupt(path, problem);
  return { status: 'loaded', state: parsed as PersistedState };
}

/**
 * Writes the state atomically (see writeFileAtomically): a crash at any point leaves either the
 * old or the new file, never a torn one, and no temporary file.
 */
export async function saveState(path: string, state: PersistedState): Promise<void> {
  await writeFileAtomically({ path, content: `${JSON.stringify(state, null, 1)}\n`, mode: 0o600 });
}

function validate(value: unknown): string | undefined {
  if (!isJsonObject(value)) return 'is not a JSON object';
  if (typeof value.version !== 'number' || !Number.isSafeInteger(value.version) || value.version < 0) {
    return 'has no valid "version"';
  }
  if (typeof value.digest !== 'string') return 'has no "digest"';
  if (typeof value.mgmtCluster !== 'string' || value.mgmtCluster === '') return 'has no "mgmtCluster"';
  if (!Array.isArray(value.copies)) return 'has no "copies" list';
  for (const [i, copy] of (value.copies as unknown[]).entries()) {
    if (
      !isJsonObject(copy) ||
      typeof copy.key !== 'string' ||
      typeof copy.hash !== 'string' ||
      typeof copy.overwrite !== 'boolean' ||
      !isJsonObject(copy.manifest) ||
      (copy.policy !== undefined && !isPolicy(copy.policy))
    ) {
      return `has an invalid copy at index ${i}`;
    }
  }
  return undefined;
}

function isPolicy(value: unknown): boolean {
  return (
    isJsonObject(value) &&
    typeof value.paused === 'boolean' &&
    (Object.values(DriftMode) as unknown[]).includes(value.drift) &&
    Array.isArray(value.ignoreFields) &&
    value.ignoreFields.every((path) => typeof path === 'string') &&
    (value.holdReason === undefined || typeof value.holdReason === 'string')
  );
}

function corrupt(path: string, reason: string, cause?: unknown): LoadStateResult {
  return {
    status: 'corrupt',
    error: new RelayError({
      code: ErrorCode.InvalidConfig,
      message: `state file ${path} ${reason}; ignoring it`,
      details: { path },
      ...(cause === undefined ? {} : { cause }),
    }),
  };
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
