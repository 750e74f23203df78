import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLab } from './lab.js';
import { repoRoot } from './paths.js';

/**
 * Where the end-to-end tests keep their lab: apart from the `pnpm lab up` one, so neither
 * disturbs the other. KUBERELAY_E2E_LAB_DIR gives concurrent runs (two developers' checkouts,
 * parallel workers) a lab each.
 */
export const e2eLabDir = process.env.KUBERELAY_E2E_LAB_DIR ?? join(repoRoot, '.lab', 'e2e');

declare module 'vitest' {
  export interface ProvidedContext {
    labDir: string;
  }
}

/**
 * Starts one lab for the whole e2e run; tests attach to it with `attachLab(inject('labDir'))`.
 * The processes carry a parent-death signal, so a killed runner leaves none behind; any a crash
 * still left are stopped by the next run's start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = await startLab({
    dir: e2eLabDir,
    clusters: ['mgmt', 'cluster-1', 'cluster-2'],
    lifetime: 'attached',
    onProgress: (m) => process.stderr.write(`lab: ${m}\n`),
  });
  project.provide('labDir', lab.dir);
  return async () => {
    await lab.stop();
  };
}
