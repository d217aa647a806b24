import type { Output } from './output.js';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * The first SIGINT/SIGTERM stops taking new rows and lets in-flight ones finish (the run then
 * records everything and exits 130). A second one exits at once: every store write is atomic,
 * so the store is still valid.
 */
export function onInterrupt(out: Output): Interrupt {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      out.always(`${signal} again: stopping now. Run the same command again to finish.`);
      process.exit(130);
    }
    out.always(`${signal}: finishing the rows in flight, then stopping (press Ctrl-C again to stop at once)`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
