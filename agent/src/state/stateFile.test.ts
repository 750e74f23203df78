import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadState, type PersistedState, saveState } from './stateFile.js';

const state: PersistedState = {
  version: 1_700_000_000_123,
  digest: 'abc',
  mgmtCluster: 'mgmt',
  copies: [
    {
      key: 'gloo.solo.io/Upstream/apps/u',
      hash: 'h1',
      overwrite: false,
      manifest: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        metadata: { name: 'u', namespace: 'apps' },
      },
    },
  ],
};

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'agent-state-'));
}

describe('state file', () => {
  it('round-trips and leaves no temporary file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'nested', 'state.json');
    await saveState(path, state);
    await saveState(path, { ...state, version: state.version + 1 });
    expect(await loadState(path)).toEqual({
      status: 'loaded',
      state: { ...state, version: state.version + 1 },
    });
    expect(await readdir(join(dir, 'nested'))).toEqual(['state.json']);
  });

  it('keeps a copy policy: a paused copy stays paused across a restart (docs/spec.md D10.1)', async () => {
    const path = join(await tempDir(), 'state.json');
    const first = state.copies[0];
    if (first === undefined) throw new Error('no copy');
    const withPolicy: PersistedState = {
      ...state,
      copies: [{ ...first, policy: { paused: true, drift: 'report', ignoreFields: ['spec.a'] } }],
    };
    await saveState(path, withPolicy);
    expect(await loadState(path)).toEqual({ status: 'loaded', state: withPolicy });
  });

  it('reports a missing file as missing', async () => {
    expect(await loadState(join(await tempDir(), 'none.json'))).toEqual({ status: 'missing' });
  });

  it.each([
    { name: 'torn JSON', text: '{"version": 1, "dig', reason: 'is not valid JSON' },
    { name: 'not an object', text: '[]', reason: 'is not a JSON object' },
    { name: 'bad version', text: '{"version": -1}', reason: 'has no valid "version"' },
    {
      name: 'bad copy',
      text: JSON.stringify({ ...state, copies: [{ key: 'k', hash: 'h', overwrite: 'no', manifest: {} }] }),
      reason: 'has an invalid copy at index 0',
    },
    {
      name: 'bad policy',
      text: JSON.stringify({
        ...state,
        copies: [{ ...state.copies[0], policy: { paused: true, drift: 'sometimes', ignoreFields: [] } }],
      }),
      reason: 'has an invalid copy at index 0',
    },
  ])('reports a corrupt file ($name) without throwing', async ({ text, reason }) => {
    const path = join(await tempDir(), 'state.json');
    await writeFile(path, text);
    const result = await loadState(path);
    expect(result.status).toBe('corrupt');
    if (result.status === 'corrupt') {
      expect(result.error.code).toBe('InvalidConfig');
      expect(result.error.message).toBe(`state file ${path} ${reason}; ignoring it`);
    }
  });
});
