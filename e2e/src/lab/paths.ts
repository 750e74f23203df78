import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: e2e/src/lab (sources) or e2e/dist/lab (build) sit three levels below it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where `pnpm lab up` and the demo keep their lab; the kubeconfig is always `<this>/kubeconfig`. */
export const defaultLabDir = join(repoRoot, '.lab');

/** The product's own CRDs (KubernetesCluster), which users install too; the lab installs them all. */
export const crdDir = join(repoRoot, 'deploy', 'charts', 'kuberelay', 'crds');

/**
 * CRDs of the Gloo kinds the relay distributes, written for the tests in the shape of Gloo 1.18's
 * (Gloo's modules are not on the Go module proxy, so the lab cannot fetch the real ones).
 */
export const glooCrdFixtureDir = join(repoRoot, 'e2e', 'fixtures', 'crds');

/** Where downloads and builds are cached: the same rule as ./dev and the scripts in e2e/tools. */
export function cacheDir(): string {
  return (
    process.env.KUBERELAY_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kuberelay')
  );
}

/** The Kubernetes release the lab runs, as pinned in e2e/tools/versions.env. */
export function k8sVersion(): string {
  return pinnedVersion('K8S_VERSION');
}

/** A version pinned in e2e/tools/versions.env, which the scripts in e2e/tools read too. */
export function pinnedVersion(name: 'K8S_VERSION' | 'GATEWAY_API_VERSION'): string {
  const env = readFileSync(join(repoRoot, 'e2e', 'tools', 'versions.env'), 'utf8');
  const match = new RegExp(`^${name}=(\\S+)$`, 'm').exec(env);
  if (!match?.[1]) throw new Error(`e2e/tools/versions.env does not set ${name}`);
  return match[1];
}

/** Same rule as e2e/tools/build-lab-binaries.sh: binaries are cached outside the repo, by version. */
export function labBinDir(): string {
  return join(cacheDir(), 'k8s', k8sVersion());
}
