import type { CliIo } from './cliIo.js';
import type { GlobalFlags } from './flags.js';
import { KubeClient } from './kubeClient.js';
import { kubeconfigPaths, loadKubeconfig, selectContext } from './kubeconfig.js';

/** What every command gets: its I/O, the global flags, and clients made on demand. */
export interface CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalFlags;
  /** The management cluster (--kubecontext, default: the kubeconfig's current context). */
  readonly mgmt: () => KubeClient;
  /** Another context of the same kubeconfig (a workload cluster), named by `flag` in errors. */
  readonly client: (context: string, flag: string) => KubeClient;
}

export function createCommandContext(io: CliIo, globals: GlobalFlags): CommandContext {
  let base: ReturnType<typeof loadKubeconfig> | undefined;
  const kubeconfig = () => {
    base ??= loadKubeconfig(kubeconfigPaths({ flag: globals.kubeconfig, env: io.env }));
    return base;
  };
  let mgmt: KubeClient | undefined;
  return {
    io,
    globals,
    mgmt: () => {
      mgmt ??= new KubeClient(selectContext(kubeconfig(), globals.kubecontext, { flag: '--kubecontext' }));
      return mgmt;
    },
    client: (context, flag) => new KubeClient(selectContext(kubeconfig(), context, { flag })),
  };
}
