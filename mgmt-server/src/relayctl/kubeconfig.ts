import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CliError, CliErrorCode, oneLine } from './cliErrors.js';

/** Where the kubeconfig comes from, kubectl's way: the flag, else $KUBECONFIG (a list), else ~/.kube/config. */
export function kubeconfigPaths(options: {
  readonly flag: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}): string[] {
  if (options.flag !== undefined) return [options.flag];
  const fromEnv = (options.env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (fromEnv.length > 0) return fromEnv;
  return [join(options.env.HOME ?? homedir(), '.kube', 'config')];
}

/**
 * Loads and merges the kubeconfig files. As with kubectl, the first file that sets
 * current-context wins; a missing file in a $KUBECONFIG list is skipped, a missing --kubeconfig
 * is an error.
 */
export function loadKubeconfig(paths: readonly string[]): KubeConfig {
  const existing = paths.filter((p) => existsSync(p));
  const [first, ...others] = existing;
  if (first === undefined) {
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `no kubeconfig found at ${paths.join(', ')} (use --kubeconfig or set KUBECONFIG)`,
    });
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(first);
    notAKubeconfig(first, kc);
    for (const path of others) {
      const next = new KubeConfig();
      next.loadFromFile(path);
      notAKubeconfig(path, next);
      kc.mergeConfig(next, kc.getCurrentContext() !== '' && kc.getCurrentContext() !== undefined);
    }
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `cannot read the kubeconfig (${existing.join(', ')}): ${oneLine(cause)}`,
      cause,
    });
  }
  return kc;
}

/** Any YAML loads as an empty KubeConfig; say that the file is not one instead of "no context". */
function notAKubeconfig(path: string, kc: KubeConfig): void {
  if (kc.getClusters().length === 0 && kc.getContexts().length === 0 && kc.getUsers().length === 0) {
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `${path} is not a kubeconfig: it has no clusters, users or contexts`,
    });
  }
}

/**
 * A KubeConfig whose current context is `context` (default: the kubeconfig's current one), so
 * one KubeRest talks to exactly that cluster. Each call returns a new object: the management
 * and the workload cluster of one command never share state.
 */
export function selectContext(
  base: KubeConfig,
  context: string | undefined,
  options: { readonly flag: string },
): { kubeConfig: KubeConfig; context: string } {
  const names = base.getContexts().map((c) => c.name);
  const wanted = context ?? (base.getCurrentContext() || undefined);
  const available = names.length > 0 ? names.join(', ') : '(none)';
  if (wanted === undefined) {
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `no ${options.flag} given and the kubeconfig has no current context; available contexts: ${available}`,
    });
  }
  if (!names.includes(wanted)) {
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `context "${wanted}" (${options.flag}) is not in the kubeconfig; available contexts: ${available}`,
    });
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: base.getClusters(),
    users: base.getUsers(),
    contexts: base.getContexts(),
    currentContext: wanted,
  });
  if (!kc.getCurrentCluster()) {
    throw new CliError({
      code: CliErrorCode.Kubeconfig,
      message: `context "${wanted}" names a cluster that is not in the kubeconfig`,
    });
  }
  return { kubeConfig: kc, context: wanted };
}
