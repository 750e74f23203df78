import { readFileSync } from 'node:fs';
import type { ManagedProcess } from './processes.js';

/** The last lines of a process's log, for a failure message. */
export function logTail(file: string, lines = 30): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The JSON (pino) lines of a log whose `msg` is exactly `msg`, parsed. */
export function loggedLines(file: string, msg: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.msg === msg ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Waits until `proc` logs a line with this `msg` and returns it. Fails at once, with the log's
 * tail, when the process exits first, and with the tail after `timeoutMs`: a bare timeout says
 * nothing of why a process did not get there.
 */
export async function waitForLogLine(
  proc: ManagedProcess,
  file: string,
  msg: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const started = Date.now();
  for (;;) {
    const [line] = loggedLines(file, msg);
    if (line !== undefined) return line;
    if (!proc.isRunning()) throw new Error(`${proc.name} exited before logging "${msg}":\n${logTail(file)}`);
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${proc.name} did not log "${msg}" within ${timeoutMs} ms:\n${logTail(file)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
