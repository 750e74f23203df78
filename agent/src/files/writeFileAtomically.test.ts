import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, RelayError } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { FileCredentialsStore } from '../identity/credentialsStore.js';
import { writeFileAtomically } from './writeFileAtomically.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'agent-atomic-'));
}

describe('writeFileAtomically', () => {
  it.each([
    { mode: 0o600, label: '0600' },
    { mode: 0o644, label: '0644' },
  ])('replaces the file with mode $label and leaves nothing else', async ({ mode }) => {
    const dir = await tempDir();
    const path = join(dir, 'nested', 'file.txt');
    await writeFileAtomically({ path, content: 'old', mode });
    await writeFileAtomically({ path, content: 'new', mode });
    expect(await readFile(path, 'utf8')).toBe('new');
    expect((await stat(path)).mode & 0o777).toBe(mode);
    expect(await readdir(join(dir, 'nested'))).toEqual(['file.txt']);
  });

  it('removes its temporary file when the rename fails, and says which file', async () => {
    const dir = await tempDir();
    // A non-empty directory where the file should go: rename(2) refuses to replace it.
    const path = join(dir, 'file.txt');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    const error = await writeFileAtomically({ path, content: 'secret', mode: 0o600 }).catch((e) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ code: ErrorCode.Internal, details: { path } });
    expect(error.message).toContain(path);
    expect(await readdir(dir)).toEqual(['file.txt']);
  });
});

describe('FileCredentialsStore.save', () => {
  it('leaves no temporary copy of the private key when the key file cannot be replaced', async () => {
    const dir = await tempDir();
    const files = {
      caFile: join(dir, 'ca.crt'),
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
    };
    await mkdir(files.keyFile);
    await writeFile(join(files.keyFile, 'inside'), 'x');
    const store = new FileCredentialsStore(files);
    await expect(store.save({ keyPem: 'PRIVATE KEY', certPem: 'CERT' })).rejects.toThrow(files.keyFile);
    const left = await readdir(dir);
    expect(left).toEqual(['tls.key']);
  });
});
