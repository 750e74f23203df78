/**
 * Everything a command touches outside its arguments, injected so commands can be called from
 * tests with captured output and a fixed clock. `stdout` carries the result (tables, JSON, the
 * credentials YAML of `register`); `stderr` carries progress, hints and errors.
 */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Environment variables (KUBECONFIG, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => Date;
  /** GET `url` with a short deadline: the HTTP status, or the reason it could not be reached. */
  readonly probeHttp: (url: string) => Promise<HttpProbe>;
  /** Reads a file a command was given (`-`: stdin); the file system when not set. */
  readonly readInput?: (path: string) => Promise<string>;
}

export type HttpProbe =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly error: string };

/** How long `check` waits for a server's /readyz. */
export const PROBE_TIMEOUT_MS = 2_000;

async function fetchProbe(url: string): Promise<HttpProbe> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return { ok: true, status: res.status };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    return { ok: false, error: cause ?? (error instanceof Error ? error.message : String(error)) };
  }
}

/** The real process: its streams, environment and clock. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    now: () => new Date(),
    probeHttp: fetchProbe,
  };
}
