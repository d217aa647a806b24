import { io } from '../io/io.js';

export { Interrupts } from '../io/io.js';

/**
 * Runs `fn` as a run that a first interrupt (SIGINT/SIGTERM) asks to wind down, rather than
 * stopping at once: see Interrupts in io.ts.
 */
export async function asRun<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return io().interrupts.asRun(fn);
}
