/**
 * The first SIGINT/SIGTERM stops taking new rows and lets in-flight ones finish (the run then
 * records everything and exits 130). A second one exits at once: every store write is atomic and
 * the journal is append-only, so the store is still valid. Installed once, when the CLI starts,
 * so that a signal that comes before a run begins still ends the process the same way.
 */
let controller: AbortController | null = null;
/** Whether a bulk run is under way: outside one there is nothing to finish, so a signal ends at once. */
let running = 0;

/** Runs `fn` as a run that a first signal asks to wind down, rather than ending the process. */
export async function asRun<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = interruptSignal();
  running++;
  try {
    return await fn(signal);
  } finally {
    running--;
  }
}

/** Called just before a signal ends the process at once (main prints the JSON object there). */
let beforeExit: (signal: NodeJS.Signals) => void = () => undefined;

export function onInterruptExit(report: (signal: NodeJS.Signals) => void): void {
  beforeExit = report;
}

export function interruptSignal(): AbortSignal {
  if (!controller) {
    const installed = new AbortController();
    controller = installed;
    const handler = (signal: NodeJS.Signals): void => {
      if (installed.signal.aborted || running === 0) {
        process.stderr.write(running === 0 ? `${signal}: stopped\n` : `${signal} again: stopping now. Run the same command again to finish.\n`);
        beforeExit(signal);
        process.exit(130);
      }
      process.stderr.write(`${signal}: finishing the rows in flight, then stopping (press Ctrl-C again to stop at once)\n`);
      process.exitCode = 130;
      installed.abort();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
  return controller.signal;
}
