import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, forCluster, forSource } from './createLogger.js';

function memory(): { destination: DestinationStream; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    destination: { write: (chunk: string) => void chunks.push(chunk) },
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SOURCE = { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'gloo-mesh', name: 'httpbin' };

describe('createLogger', () => {
  it('writes one JSON object per line with name, level and ISO time', () => {
    const out = memory();
    createLogger({ name: 'mgmt-server', destination: out.destination }).info({ copies: 3 }, 'synced');
    const [line] = out.lines();
    expect(line).toMatchObject({ name: 'mgmt-server', level: 30, msg: 'synced', copies: 3 });
    expect(line?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it.each([
    { level: undefined, written: ['info', 'warn'] },
    { level: 'debug' as const, written: ['debug', 'info', 'warn'] },
    { level: 'warn' as const, written: ['warn'] },
    { level: 'silent' as const, written: [] },
  ])('level $level', ({ level, written }) => {
    const out = memory();
    const logger = createLogger({
      name: 'x',
      destination: out.destination,
      ...(level === undefined ? {} : { level }),
    });
    logger.debug('debug');
    logger.info('info');
    logger.warn('warn');
    expect(out.lines().map((l) => l.msg)).toEqual(written);
  });

  it('binds source and cluster on every line of the children', () => {
    const out = memory();
    const root = createLogger({ name: 'agent', destination: out.destination });
    forCluster(forSource(root, SOURCE), 'qa').warn('conflict');
    forSource(root, { ...SOURCE, namespace: undefined }).info('cluster-scoped');
    expect(out.lines().map(({ source, cluster, msg }) => ({ source, cluster, msg }))).toEqual([
      { source: 'gloo.solo.io/Upstream/gloo-mesh/httpbin', cluster: 'qa', msg: 'conflict' },
      { source: 'gloo.solo.io/Upstream//httpbin', cluster: undefined, msg: 'cluster-scoped' },
    ]);
  });
});
