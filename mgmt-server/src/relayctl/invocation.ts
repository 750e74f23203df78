import { basename } from 'node:path';

/** relayctl's release; a unit test keeps it equal to mgmt-server/package.json's version. */
export const RELAYCTL_VERSION = '0.1.0';

/** The name kubectl gives the plugin: `kubectl relay ARGS` runs `kubectl-relay ARGS`. */
export const KUBECTL_PLUGIN = 'kubectl-relay';

/**
 * What relayctl was started as and what runs it, shown by --help and --version so a user reads
 * the command they actually type.
 */
export interface Invocation {
  /** `relayctl`, or `kubectl relay` when run as the kubectl plugin. */
  readonly program: string;
  /** The runtime, for --version (e.g. `Node.js v24.21.0, linux/x64, single executable`). */
  readonly runtime?: string;
}

export const DEFAULT_INVOCATION: Invocation = { program: 'relayctl' };

/**
 * The program name from the path it was started by: bin/relayctl and bin/kubectl-relay pass
 * theirs in RELAYCTL_INVOKED_AS (node itself only sees the script), a single executable renamed
 * kubectl-relay is its own path.
 */
export const programName = (invokedAs: string | undefined): string =>
  invokedAs !== undefined && basename(invokedAs) === KUBECTL_PLUGIN ? 'kubectl relay' : 'relayctl';

/**
 * Help and error text names relayctl; as the plugin it says `kubectl relay` instead. Only text
 * relayctl wrote itself goes through here, never a command's result (a Secret's managed-by label
 * says relayctl whatever the name).
 */
export const nameProgram = (text: string, invocation: Invocation): string =>
  invocation.program === DEFAULT_INVOCATION.program
    ? text
    : text.replace(/\brelayctl\b/g, invocation.program);

export const versionLine = (invocation: Invocation): string =>
  `${invocation.program} ${RELAYCTL_VERSION}${invocation.runtime ? ` (${invocation.runtime})` : ''}\n`;
