import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, RelayError } from '@kuberelay/shared';

export interface WriteFileAtomicallyOptions {
  readonly path: string;
  readonly content: string;
  /** Mode of the new file, e.g. 0o600 for a private key or the agent's state. */
  readonly mode: number;
}

/**
 * Replaces `path` with `content` so that a crash at any point leaves either the old file or the
 * new one, never a torn one: a temporary file in the same folder, fsync, rename over the old file,
 * fsync of the folder.
 *
 * Invariants the callers rely on: the temporary file has `mode` from the moment it exists (it may
 * hold a private key, so it is never world-readable, not even briefly), and on ANY failure after
 * it was created it is removed, so no copy of the content is left lying next to the target.
 * Failures are thrown as a RelayError with code Internal and the file system error as cause.
 */
export async function writeFileAtomically(options: WriteFileAtomicallyOptions): Promise<void> {
  const { path, content, mode } = options;
  const dir = dirname(path);
  // Random, not pid + time: two writers in one process within a millisecond must not collide,
  // and `wx` below refuses to reuse (or follow a symlink at) an existing name.
  const temporary = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    await mkdir(dir, { recursive: true });
    handle = await open(temporary, 'wx', mode);
    // open() applies the umask, which can only remove bits; chmod makes the mode exact.
    await handle.chmod(mode);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    // force: the temporary file may not exist (open failed); a failing rm must not hide `error`.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new RelayError({
      code: ErrorCode.Internal,
      message: `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
      details: { path },
      cause: error,
    });
  }
  await syncFolder(dir);
}

/** Makes the rename itself durable. */
async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await folder.close();
  }
}
