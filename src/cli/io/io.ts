import { AsyncLocalStorage } from 'node:async_hooks';
import { isAbsolute, resolve } from 'node:path';

/** A stream the CLI writes to, with what it knows of the terminal behind it. */
export interface OutStream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
  /** The terminal's width, when it is one. */
  columns?: number;
  /** True while the stream's buffer is full (a progress line then waits). */
  writableNeedDrain?: boolean;
  on?(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/** Standard input, with whether it is a terminal. */
export type InStream = NodeJS.ReadableStream & { isTTY?: boolean; destroy?(): void };

/**
 * Everything a run of the CLI takes from the world it runs in. bin/ builds it from `process`;
 * tests build one per run, so two runs in one test file never see each other's streams, variables
 * or folder. Nothing under src/ reads `process.env`, `process.stdout`, `process.cwd()` and the like:
 * it reads these, through `io()`, or is given what it needs.
 */
export interface CliIo {
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
  /** The working directory: relative paths (CSV files, --target, --outbox, --report, the config file, the state folder) resolve here. */
  cwd: string;
  /** The clock, in epoch milliseconds. */
  now(): number;
  /** Interrupts (SIGINT/SIGTERM in a process): each call of `interrupts.deliver` is one signal. */
  interrupts: Interrupts;
  /**
   * Stops this process where it stands (SIGSTOP), for the crash tests' hooks; and writes a hook's
   * line before it does, synchronously. Absent in process: hooks then write to stderr and never stop.
   */
  stopSelf?: () => void;
  writeErrSync?: (text: string) => void;
}

/**
 * The first interrupt (SIGINT/SIGTERM) stops taking new rows and lets in-flight ones finish (the
 * run then records everything and exits 130). A second one, or one that comes while no run is
 * under way, stops at once: every store write is atomic and the journal is append-only, so the
 * store is still valid. bin/ makes one before anything loads, so that a signal that comes before a
 * run begins ends the process the same way; tests make one and call `deliver` themselves.
 */
export class Interrupts {
  readonly #controller = new AbortController();
  #running = 0;
  #stream: OutStream | null = null;
  #beforeStop: (signal: string) => void = () => undefined;
  #onStop: () => void = () => undefined;

  /** Aborted by the first interrupt that comes while a run is under way. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Where the interrupt's words go, and what to print before stopping at once (main's JSON object). */
  attach(stderr: OutStream, beforeStop: (signal: string) => void, onStop: () => void): void {
    this.#stream = stderr;
    this.#beforeStop = beforeStop;
    this.#onStop = onStop;
  }

  /** Runs `fn` as a run that a first interrupt asks to wind down, rather than stopping at once. */
  async asRun<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await fn(this.#controller.signal);
    } finally {
      this.#running--;
    }
  }

  /**
   * One interrupt. 'wind-down': the run under way finishes its rows in flight and stops (exit 130);
   * 'stop': the caller stops now with exit 130 (a process exits).
   */
  deliver(signal: string, fallback: OutStream): 'wind-down' | 'stop' {
    const stderr = this.#stream ?? fallback;
    if (this.#controller.signal.aborted || this.#running === 0) {
      stderr.write(this.#running === 0 ? `${signal}: stopped\n` : `${signal} again: stopping now. Run the same command again to finish.\n`);
      this.#beforeStop(signal);
      this.#onStop();
      return 'stop';
    }
    stderr.write(`${signal}: finishing the rows in flight, then stopping (press Ctrl-C again to stop at once)\n`);
    this.#controller.abort();
    return 'wind-down';
  }
}

interface Bound {
  io: CliIo;
  /** The command line's words after the program's name. */
  args: readonly string[];
  /** The exit code the command set (action.ts), read by main() when the command returns. */
  exitCode?: number;
  /** What main() does when the command has ended (its runs end with it). */
  atEnd: (() => void)[];
}

const current = new AsyncLocalStorage<Bound>();

function bound(): Bound {
  const run = current.getStore();
  if (run === undefined) throw new Error('no CLI io bound: this code runs only inside main()');
  return run;
}

/** The io of the run under way (main() binds it for the run's whole async life). */
export function io(): CliIo {
  return bound().io;
}

/** The run's command line, after the program's name. */
export function runArgs(): readonly string[] {
  return bound().args;
}

/** The command's exit code: main() returns it. */
export function setExitCode(code: number): void {
  bound().exitCode = code;
}

export function exitCodeSet(): number | undefined {
  return bound().exitCode;
}

/** `fn` is called when the command has ended (main returns). */
export function onRunEnd(fn: () => void): void {
  bound().atEnd.push(fn);
}

/** Runs `fn` with `value` as its io (and that of everything it starts). */
export async function withIo<T>(value: CliIo, args: readonly string[], fn: () => Promise<T>): Promise<T> {
  const run: Bound = { io: value, args, atEnd: [] };
  try {
    return await current.run(run, fn);
  } finally {
    for (const end of run.atEnd.splice(0)) end();
  }
}

/** A path the user gave, resolved against the run's working directory (absolute paths stay). */
export function inCwd(path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(io().cwd, path);
}

/** The run's environment variable `name`. */
export function envOf(name: string): string | undefined {
  return io().env[name];
}
