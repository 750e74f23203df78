import { parseArgs } from 'node:util';
import { DEFAULT_RELAY_NAMESPACE } from '@kuberelay/shared';
import { UsageError } from './cliErrors.js';

/** One option of parseArgs' configuration. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Flags every command accepts (kubectl style). */
export const GLOBAL_OPTIONS = {
  kubeconfig: { type: 'string' },
  kubecontext: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const satisfies OptionSpecs;

export const GLOBAL_FLAGS_HELP = `Global flags:
      --kubeconfig PATH     kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --kubecontext NAME    context of the management cluster (default: the current context)
  -n, --namespace NS        namespace of the management server (default: ${DEFAULT_RELAY_NAMESPACE})
  -o, --output FORMAT       table or json (default: table)
      --debug               show stack traces of errors
  -h, --help                show this help`;

export const OutputFormat = { table: 'table', json: 'json' } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

/** The global flags after parsing and defaulting. */
export interface GlobalFlags {
  readonly kubeconfig: string | undefined;
  readonly kubecontext: string | undefined;
  readonly namespace: string;
  readonly output: OutputFormat;
  readonly debug: boolean;
}

export interface ParsedCommandLine {
  readonly globals: GlobalFlags;
  /** Command-specific string flags that were given. */
  readonly strings: Readonly<Record<string, string>>;
  /** Command-specific boolean flags that were given. */
  readonly booleans: ReadonlySet<string>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** Names of the options (long and short) that take a value, to find the command among flags. */
function valueOptionTokens(specs: OptionSpecs): Set<string> {
  const tokens = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type !== 'string') continue;
    tokens.add(`--${name}`);
    if (spec.short) tokens.add(`-${spec.short}`);
  }
  return tokens;
}

/**
 * Splits `argv` into the command name and the rest. Global flags may come before the command
 * (`relayctl --kubecontext mgmt check`), so the values of flags that take one are skipped.
 */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const takesValue = valueOptionTokens(GLOBAL_OPTIONS);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (takesValue.has(token)) i++;
      continue;
    }
    return { command: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

/** True when -h/--help is among the flags (checked before anything else is validated). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((t) => t === '-h' || t === '--help');
}

/**
 * Parses a command's flags: the global ones plus `specs`. Unknown flags, missing values and
 * bad values are usage errors (exit 2).
 */
export function parseCommandLine(options: {
  readonly command: string;
  readonly argv: readonly string[];
  readonly specs: OptionSpecs;
}): ParsedCommandLine {
  const { command, argv, specs } = options;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_OPTIONS, ...specs },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(parseArgsProblem(error), { command });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (name: string): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '')
      throw new UsageError(`option --${name} needs a value`, { command });
    return v;
  };
  const output = text('output') ?? OutputFormat.table;
  if (output !== OutputFormat.table && output !== OutputFormat.json) {
    throw new UsageError(`--output must be table or json, not "${output}"`, { command });
  }
  const strings: Record<string, string> = {};
  const booleans = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    const v = spec.type === 'string' ? text(name) : undefined;
    if (v !== undefined) strings[name] = v;
    if (spec.type === 'boolean' && values[name] === true) booleans.add(name);
  }
  return {
    globals: {
      kubeconfig: text('kubeconfig'),
      kubecontext: text('kubecontext'),
      namespace: text('namespace') ?? DEFAULT_RELAY_NAMESPACE,
      output,
      debug: values.debug === true,
    },
    strings,
    booleans,
    positionals: parsed.positionals,
    help: values.help === true,
  };
}

/** parseArgs' messages are long and suggest `--` tricks; say the essential in a few words. */
function parseArgsProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${option ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option && /argument missing/.test(message)
        ? `flag ${option} needs a value`
        : `invalid value: ${message}`;
    default:
      return message;
  }
}

/** Exactly `count` positional arguments, named for the error message. */
export function requirePositionals(
  parsed: ParsedCommandLine,
  command: string,
  names: readonly string[],
  options: { optional?: number } = {},
): string[] {
  const min = names.length - (options.optional ?? 0);
  const got = parsed.positionals;
  if (got.length < min) {
    throw new UsageError(
      `missing argument ${names
        .slice(got.length)
        .map((n) => `<${n}>`)
        .join(' ')}`,
      {
        command,
      },
    );
  }
  if (got.length > names.length) {
    throw new UsageError(`unexpected argument "${got[names.length]}"`, { command });
  }
  return [...got];
}
