import type { CommandContext } from './commandContext.js';
import type { OptionSpecs, ParsedCommandLine } from './flags.js';

/** One relayctl command: its flags, its help, and what it does. Returns the exit code. */
export interface Command {
  readonly name: string;
  /** One line for `relayctl --help`. */
  readonly summary: string;
  /** The full `relayctl <name> --help` text (global flags are appended). */
  readonly usage: string;
  readonly options: OptionSpecs;
  run(ctx: CommandContext, parsed: ParsedCommandLine): Promise<number>;
}
