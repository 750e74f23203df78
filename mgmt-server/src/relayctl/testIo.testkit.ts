import type { CliIo, HttpProbe } from './cliIo.js';

/** A CliIo that records what a command writes (for tests). */
export interface RecordingIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

export function recordingIo(
  options: {
    env?: Record<string, string | undefined>;
    now?: () => Date;
    probeHttp?: (url: string) => Promise<HttpProbe>;
  } = {},
): RecordingIo {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: options.env ?? {},
    now: options.now ?? (() => new Date()),
    probeHttp: options.probeHttp ?? (async () => ({ ok: false, error: 'not probed in tests' })),
    out: () => out,
    err: () => err,
  };
}
