import { checkCommand } from './check.js';
import { CliError, describeError, ExitCode, UsageError } from './cliErrors.js';
import type { CliIo } from './cliIo.js';
import type { Command } from './command.js';
import { createCommandContext } from './commandContext.js';
import { deregisterCommand } from './deregister.js';
import { explainCommand } from './explain.js';
import { GLOBAL_FLAGS_HELP, parseCommandLine, splitCommand, wantsHelp } from './flags.js';
import { DEFAULT_INVOCATION, type Invocation, nameProgram, versionLine } from './invocation.js';
import { planCommand } from './plan.js';
import { registerCommand } from './register.js';
import { rolloutCommand } from './rollout.js';
import { rotateCaCommand } from './rotateCa.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly Command[] = [
  registerCommand,
  deregisterCommand,
  rotateCaCommand,
  checkCommand,
  statusCommand,
  planCommand,
  explainCommand,
  rolloutCommand,
];

export function topUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `relayctl: operate Kuberelay, the multicluster config-distribution relay.

Usage:
  relayctl COMMAND [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  help${' '.repeat(width - 4)}  show the help of a command

Annotations on a source (docs/spec.md §2, §4, §10):
  gloo.solo.io/distribute-to: "<globs>/<ns>, ..."  where its copies go
  kuberelay.dev/conflict-resolution: overwrite     take over an object the relay does not own
  kuberelay.dev/paused: "true"                     freeze its copies: no update, prune or drift repair
  kuberelay.dev/drift: report                      report drift in its copies (Drifted), never revert it
  kuberelay.dev/ignore-fields: "spec.a, spec.l[*].b, metadata.labels['k']"
                                                   fields the agent neither compares nor writes
  kuberelay.dev/rollout: "canary-*; prod-eu-*; *"  waves a change reaches one after the other
  kuberelay.dev/rollout-soak: 5m                   how long a wave runs it before the next gets it

relayctl plan shows what a change would do; status and explain show drifted and paused copies;
rollout status shows where a rollout stands.

${GLOBAL_FLAGS_HELP}

Run relayctl COMMAND --help for a command's flags; relayctl --version prints the version.
`;
}

const VERSION_FLAG = { version: { type: 'boolean' } } as const;

export const commandUsage = (command: Command): string => `${command.usage}\n\n${GLOBAL_FLAGS_HELP}\n`;

/**
 * Runs relayctl with `argv` (without the node and script paths) and returns the exit code.
 * Never throws: every error is written to stderr as one line (the stack only with --debug).
 * `invocation` names the program in help and errors (`kubectl relay` as the kubectl plugin).
 */
export async function runRelayctl(
  argv: readonly string[],
  io: CliIo,
  invocation: Invocation = DEFAULT_INVOCATION,
): Promise<number> {
  const debug = argv.includes('--debug');
  // Help and relayctl's own errors name the program; a command's output is left as it is.
  const named = (text: string) => nameProgram(text, invocation);
  try {
    const { command: name, rest } = splitCommand(argv);
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? splitCommand(rest).command : undefined;
      const command = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
      if (topic !== undefined && command === undefined) throw new UsageError(`unknown command "${topic}"`);
      if (name === undefined && !wantsHelp(rest)) {
        if (rest.length > 0) {
          // Flags only: still validate them, so a typo is reported rather than ignored.
          const flags = parseCommandLine({ command: '', argv: rest, specs: VERSION_FLAG });
          if (flags.booleans.has('version')) {
            io.stdout(versionLine(invocation));
            return ExitCode.ok;
          }
        }
        io.stderr(named(topUsage()));
        return ExitCode.usage;
      }
      io.stdout(named(command ? commandUsage(command) : topUsage()));
      return ExitCode.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    }
    if (wantsHelp(rest)) {
      io.stdout(named(commandUsage(command)));
      return ExitCode.ok;
    }
    const parsed = parseCommandLine({ command: command.name, argv: rest, specs: command.options });
    return await command.run(createCommandContext(io, parsed.globals), parsed);
  } catch (error) {
    io.stderr(named(describeError(error, { debug })));
    return error instanceof CliError ? error.exitCode : ExitCode.failure;
  }
}
export type { CliIo, HttpProbe } from './cliIo.js';
export { processIo } from './cliIo.js';
export { RELAYCTL_VERSION } from './invocation.js';
