import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How a lab process's life is tied to ours.
 * - `attached`: dies with the process that started it (Linux parent-death signal via setpriv),
 *   so a killed test runner leaves nothing behind.
 * - `detached`: outlives its starter (`pnpm lab up`); `lab down` or the next start's reaper ends it.
 */
export type Lifetime = 'attached' | 'detached';

export interface StartProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pidFile: string;
  readonly lifetime: Lifetime;
  /** Set on top of this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or null when a signal ended it). Only for processes we started. */
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export function startProcess(options: StartProcessOptions): ManagedProcess {
  const log = openSync(options.logFile, 'a');
  const [command, args] =
    options.lifetime === 'attached' && setpriv
      ? [setpriv, ['--pdeathsig', 'KILL', '--', options.command, ...options.args]]
      : [options.command, [...options.args]];
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ['ignore', log, log],
      detached: true,
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
  // The pid file names the binary so the reaper never kills a recycled pid that is something else.
  writeFileSync(options.pidFile, `${pid} ${options.command}\n`);
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false;
      // Only our own pid file: after a restart (stopApiServer + startApiServer, possibly from
      // another process) the file already names the replacement, which must stay findable.
      if (readPidFile(options.pidFile)?.pid === pid) rmSync(options.pidFile, { force: true });
      resolve(code);
    });
  });
  if (options.lifetime === 'detached') child.unref();
  return {
    name: options.name,
    pid,
    exited,
    isRunning: () => running,
    stop: async ({ timeoutMs = 10_000 } = {}) => {
      if (!running) return;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole process group: the child was started as a group leader
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** True when `pid` is alive and its command line starts with `binary`. */
export function isOurProcess(pid: number, binary: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(binary);
  } catch {
    return false;
  }
}

/** Reads a pid file written by startProcess. */
export function readPidFile(file: string): { pid: number; binary: string } | undefined {
  try {
    const [pid, binary] = readFileSync(file, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 && binary ? { pid: n, binary } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops a process known only by its pid file (one a previous run or `lab up` left), waiting up to
 * `timeoutMs` for it to exit before killing it. Returns whether a live process was found.
 */
export async function stopByPidFile(file: string, timeoutMs = 10_000): Promise<boolean> {
  const entry = readPidFile(file);
  rmSync(file, { force: true });
  if (!entry || !isOurProcess(entry.pid, entry.binary)) return false;
  signalGroup(entry.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isOurProcess(entry.pid, entry.binary)) {
    if (Date.now() > deadline) {
      signalGroup(entry.pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Every `*.pid` file under `dir` (one level of cluster folders deep). */
export function pidFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.pid')) files.push(path);
    if (entry.isDirectory()) {
      for (const inner of readdirSync(path)) if (inner.endsWith('.pid')) files.push(join(path, inner));
    }
  }
  return files;
}
