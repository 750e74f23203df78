import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { goTool } from '../support/goTools.js';
import { chartDir } from './chartValues.js';

const run = promisify(execFile);

/** The helm binary (support/goTools.ts: $KUBERELAY_HELM, else built and cached). */
export const helmBinary = (): string => goTool('helm');

/** A failed helm command: its arguments and what it printed on stderr. */
export class HelmError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.join(' ')} failed: ${stderr.trim()}`);
  }
}

/** Runs helm; resolves with stdout, rejects with a HelmError carrying stderr. */
export async function helm(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(helmBinary(), [...args], {
      maxBuffer: 64 * 1024 * 1024,
      // No repositories or plugins of the user's: a clean Helm home under the lab's temp dirs.
      env: {
        ...process.env,
        HELM_CACHE_HOME: '/tmp/kuberelay-helm/cache',
        HELM_CONFIG_HOME: '/tmp/kuberelay-helm/config',
        HELM_DATA_HOME: '/tmp/kuberelay-helm/data',
      },
    });
    return stdout;
  } catch (error) {
    throw new HelmError(args, (error as { stderr?: string }).stderr ?? String(error));
  }
}

/** A rendered object (only the fields the tests read are typed). */
export interface Rendered {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** `helm template` of the chart with `--set`/`--set-string` style arguments; the parsed objects. */
export async function renderChart(options: {
  readonly namespace: string;
  readonly args?: readonly string[];
  readonly release?: string;
}): Promise<Rendered[]> {
  const text = await helm([
    'template',
    options.release ?? 'kuberelay',
    chartDir,
    '--namespace',
    options.namespace,
    '--include-crds',
    ...(options.args ?? []),
  ]);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

/** The one rendered object of this kind and name. */
export function pick<T = Rendered>(objects: readonly Rendered[], kind: string, name: string): Rendered & T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`the chart rendered no ${kind} ${name}`);
  return found as Rendered & T;
}

/** Where a release of the chart lives on the lab: a kubeconfig context and a namespace. */
export interface ReleaseTarget {
  readonly kubeconfig: string;
  readonly context: string;
  readonly namespace: string;
}

/**
 * `helm install|upgrade|uninstall|get manifest` of the release `kuberelay` of this chart at
 * `target` (install creates the namespace); resolves with helm's stdout.
 */
export function release(
  verb: 'install' | 'upgrade' | 'uninstall' | 'manifest',
  target: ReleaseTarget,
  values: readonly string[] = [],
): Promise<string> {
  const where = [
    '--namespace',
    target.namespace,
    '--kube-context',
    target.context,
    '--kubeconfig',
    target.kubeconfig,
  ];
  switch (verb) {
    case 'install':
      return helm(['install', 'kuberelay', chartDir, ...where, '--create-namespace', ...values]);
    case 'upgrade':
      return helm(['upgrade', 'kuberelay', chartDir, ...where, ...values]);
    case 'uninstall':
      return helm(['uninstall', 'kuberelay', ...where]);
    case 'manifest':
      return helm(['get', 'manifest', 'kuberelay', ...where]);
  }
}
