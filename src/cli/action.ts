import { messageOf, RunError } from '../core/errors.js';
import type { Target } from '../core/target.js';
import type { CommonOptions } from './options.js';
import { Output } from './output.js';
import { io, setExitCode } from './io.js';
import { writeFailure } from '../util/atomic-file.js';

/**
 * Wraps a command's body: builds its Output from --json/--quiet, turns the errors that stop a run
 * into their exit codes (UsageError 2, TargetError 3) and sets the run's exit code (main returns it). Nothing deeper
 * decides exit codes.
 */
export function action<A extends unknown[], O extends CommonOptions>(
  command: string,
  body: (out: Output, options: O, ...args: A) => Promise<number>,
): (...argsAndOptions: [...A, O, unknown]) => Promise<void> {
  return async (...argsAndOptions) => {
    // commander passes the positional arguments, then the options object, then the Command.
    const options = argsAndOptions[argsAndOptions.length - 2] as O;
    const args = argsAndOptions.slice(0, -2) as unknown as A;
    const out = new Output({ json: Boolean(options.json), quiet: Boolean(options.quiet) });
    setExitCode(await runBody(command, out, () => body(out, options, ...args)));
  };
}

async function runBody(command: string, out: Output, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof RunError) {
      out.error(command, error);
      return error.exitCode;
    }
    if (isPromptCancel(error)) {
      out.always('cancelled: nothing was written');
      out.jsonResult({ ok: false, command, error: { code: 'cancelled', message: 'the question was cancelled: nothing was written' } });
      return 130;
    }
    const named = fileSystemRefusal(error);
    if (named !== undefined) {
      out.error(command, named);
      return named.exitCode;
    }
    const message = messageOf(error);
    out.always(`internal error: ${message}`);
    if (io().env.JSM_PROVISION_DEBUG && error instanceof Error) out.always(error.stack ?? '');
    else out.always('set JSM_PROVISION_DEBUG=1 to see where, and report it with that output');
    out.jsonResult({ ok: false, command, error: { code: 'internal-error', message: `internal error: ${message}`, hint: 'set JSM_PROVISION_DEBUG=1 to see where, and report it with that output' } });
    return 1;
  }
}

/**
 * A file system's refusal (a full disk or quota, permissions, a read-only or failing disk) that
 * no layer below named: named here by the file the error names, never an internal error.
 */
export function fileSystemRefusal(error: unknown): RunError | undefined {
  const errno = error as NodeJS.ErrnoException | null;
  if (typeof errno?.path !== 'string' || typeof errno.syscall !== 'string') return undefined;
  if (!/^E(NOSPC|DQUOT|ACCES|PERM|ROFS|IO)$/.test(errno.code ?? '')) return undefined;
  return writeFailure(errno.path, error);
}

function isPromptCancel(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

/** Runs `fn` with a target and always closes it (making what was done durable). */
export async function withTarget<T>(open: () => Promise<Target>, fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await open();
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}
