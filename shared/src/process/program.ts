import type { Logger } from '../logging/createLogger.js';

/**
 * Resolves on the first SIGINT or SIGTERM, logging it with `message`. Both handlers go at once,
 * so a second signal ends the process the default way: someone who presses Ctrl-C twice while a
 * graceful stop waits on a hung API server means it.
 */
export function untilStopSignal(logger: Logger, message: string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      logger.info({ signal }, message);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Runs a program's `main`: the code it resolves with becomes the exit code. What it throws is a
 * bug (reasons an operator can fix are returned as codes with one line on stderr), so it is
 * printed with its stack under the program's name and exits with `failureCode`.
 */
export function runMain(program: string, main: () => Promise<number>, failureCode = 1): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `${program}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = failureCode;
    },
  );
}
