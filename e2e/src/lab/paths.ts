import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: e2e/src/lab (sources) or e2e/dist/lab (build) sit three levels below it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where `pnpm lab up` and the demo keep their lab; the kubeconfig is always `<this>/kubeconfig`. */
export const defaultLabDir = join(repoRoot, '.lab');

/** The CRDs users install too; the lab installs every file in this folder into every cluster. */
export const crdDir = join(repoRoot, 'deploy', 'crds');

/** The Kubernetes release the lab runs, as pinned in e2e/tools/versions.env. */
export function k8sVersion(): string {
  const env = readFileSync(join(repoRoot, 'e2e', 'tools', 'versions.env'), 'utf8');
  const match = /^K8S_VERSION=(\S+)$/m.exec(env);
  if (!match?.[1]) throw new Error('e2e/tools/versions.env does not set K8S_VERSION');
  return match[1];
}

/** Same rule as e2e/tools/build-lab-binaries.sh: binaries are cached outside the repo, by version. */
export function labBinDir(): string {
  const cache =
    process.env.KUBERELAY_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kuberelay');
  return join(cache, 'k8s', k8sVersion());
}
