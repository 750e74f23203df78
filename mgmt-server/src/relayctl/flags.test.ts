import { describe, expect, it } from 'vitest';
import { CliError } from './cliErrors.js';
import { parseCommandLine, requirePositionals, splitCommand, wantsHelp } from './flags.js';

describe('splitCommand', () => {
  it.each([
    { argv: ['check'], command: 'check', rest: [] },
    {
      argv: ['--kubecontext', 'mgmt', 'check', '-o', 'json'],
      command: 'check',
      rest: ['--kubecontext', 'mgmt', '-o', 'json'],
    },
    { argv: ['-n', 'ns', 'register', 'qa'], command: 'register', rest: ['-n', 'ns', 'qa'] },
    { argv: ['--kubecontext=mgmt', 'status'], command: 'status', rest: ['--kubecontext=mgmt'] },
    { argv: ['--debug', 'status'], command: 'status', rest: ['--debug'] },
    { argv: ['-h'], command: undefined, rest: ['-h'] },
    { argv: [], command: undefined, rest: [] },
  ])('$argv', ({ argv, command, rest }) => {
    expect(splitCommand(argv)).toEqual({ command, rest });
  });
});

describe('wantsHelp', () => {
  it.each([
    { argv: ['-h'], help: true },
    { argv: ['qa', '--help'], help: true },
    { argv: ['--', '-h'], help: false },
    { argv: ['qa'], help: false },
  ])('$argv → $help', ({ argv, help }) => {
    expect(wantsHelp(argv)).toBe(help);
  });
});

describe('parseCommandLine', () => {
  const specs = { server: { type: 'string' } } as const;

  it('applies the defaults', () => {
    const parsed = parseCommandLine({ command: 'register', argv: ['qa'], specs });
    expect(parsed).toEqual({
      globals: {
        kubeconfig: undefined,
        kubecontext: undefined,
        namespace: 'gloo-mesh',
        output: 'table',
        debug: false,
      },
      strings: {},
      booleans: new Set(),
      positionals: ['qa'],
      help: false,
    });
  });

  it('reads global and command flags in any order', () => {
    const parsed = parseCommandLine({
      command: 'register',
      argv: ['--server=a:1', 'qa', '-n', 'relay', '-o', 'json', '--kubeconfig', '/k', '--kubecontext', 'm'],
      specs,
    });
    expect(parsed.globals).toEqual({
      kubeconfig: '/k',
      kubecontext: 'm',
      namespace: 'relay',
      output: 'json',
      debug: false,
    });
    expect(parsed.strings).toEqual({ server: 'a:1' });
    expect(parsed.positionals).toEqual(['qa']);
  });

  it.each([
    { argv: ['--bogus'], message: 'unknown flag --bogus (see relayctl register --help)' },
    { argv: ['-x'], message: 'unknown flag -x (see relayctl register --help)' },
    { argv: ['--server'], message: 'flag --server needs a value (see relayctl register --help)' },
    {
      argv: ['-o', 'yaml'],
      message: '--output must be table or json, not "yaml" (see relayctl register --help)',
    },
    { argv: ['--server='], message: 'option --server needs a value (see relayctl register --help)' },
  ])('$argv is a usage error', ({ argv, message }) => {
    const run = () => parseCommandLine({ command: 'register', argv, specs });
    expect(run).toThrow(CliError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (e) {
      expect((e as CliError).exitCode).toBe(2);
    }
  });
});

describe('requirePositionals', () => {
  const parse = (argv: string[]) => parseCommandLine({ command: 'status', argv, specs: {} });
  it.each([
    { argv: [], names: ['cluster'], optional: 0, error: 'missing argument <cluster>' },
    { argv: ['a', 'b'], names: ['cluster'], optional: 0, error: 'unexpected argument "b"' },
    { argv: [], names: ['KIND/NAME'], optional: 1, error: undefined },
    { argv: ['x'], names: [], optional: 0, error: 'unexpected argument "x"' },
  ])('$argv for $names', ({ argv, names, optional, error }) => {
    const run = () => requirePositionals(parse(argv), 'status', names, { optional });
    if (error) expect(run).toThrow(error);
    else expect(run()).toEqual(argv);
  });
});
