import { KubeApiError } from '@kuberelay/shared/kube';

/**
 * relayctl's errors. Every failure reaches the user as one line (`relayctl: error: ...`) and an
 * exit code; the stack only with --debug. Kubernetes and network failures are turned into a
 * CliError at the edge (kubeClient.ts) with the context they happened in.
 */

export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem, or failed. */
  failure: 1,
  /** The command line is wrong (unknown command or flag, bad value). */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable codes, for tests and for `--debug` output. */
export const CliErrorCode = {
  Usage: 'Usage',
  Kubeconfig: 'Kubeconfig',
  Unreachable: 'Unreachable',
  KubeApi: 'KubeApi',
  NotFound: 'NotFound',
  NotInstalled: 'NotInstalled',
  MissingValue: 'MissingValue',
  /** An object exists that belongs to something else; relayctl will not take it over. */
  Conflict: 'Conflict',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export interface CliErrorOptions {
  readonly code: CliErrorCode;
  readonly message: string;
  readonly cause?: unknown;
}

export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly code: CliErrorCode;

  constructor(options: CliErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }

  get exitCode(): ExitCode {
    return this.code === CliErrorCode.Usage ? ExitCode.usage : ExitCode.failure;
  }
}

/** A wrong command line; exits 2 and points at the command's help. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';

  constructor(message: string, options: { command?: string | undefined } = {}) {
    const help = options.command ? `relayctl ${options.command} --help` : 'relayctl --help';
    super({ code: CliErrorCode.Usage, message: `${message} (see ${help})` });
  }
}

/** A Kubernetes 403 (possibly wrapped in a CliError). */
export function isForbidden(error: unknown): boolean {
  const api = error instanceof CliError ? error.cause : error;
  return api instanceof KubeApiError && api.status === 403;
}

/** The message of anything thrown, on one line. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** How an error is shown: one line, or with --debug the stack and the chain of causes. */
export function describeError(error: unknown, options: { debug: boolean }): string {
  if (!options.debug) return `relayctl: error: ${oneLine(error)}\n`;
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const prefix = depth === 0 ? 'relayctl: error: ' : 'caused by: ';
    lines.push(
      current instanceof Error
        ? `${prefix}${current.stack ?? current.message}`
        : `${prefix}${String(current)}`,
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return `${lines.join('\n')}\n`;
}
