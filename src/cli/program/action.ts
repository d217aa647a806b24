import { RunError } from '../../core/errors.js';
import type { Target } from '../../core/target.js';
import type { CommonOptions } from '../settings/options.js';
import { Output } from '../io/output.js';
import { io, setExitCode } from '../io/io.js';
import { internalError, render, renderCancelled, renderError, type CommandResult } from '../io/result.js';
import { writeFailure } from '../../util/atomic-file.js';

/**
 * Wraps a command's body: builds its Output from --json/--quiet, renders the result the body
 * returns (result.ts), turns the errors that stop a run into their exit codes (UsageError 2,
 * TargetError 3) and sets the run's exit code (main returns it). Nothing deeper decides exit codes.
 */
export function action<A extends unknown[], O extends CommonOptions>(
  command: string,
  body: (out: Output, options: O, ...args: A) => Promise<CommandResult>,
): (...argsAndOptions: [...A, O, unknown]) => Promise<void> {
  return async (...argsAndOptions) => {
    // commander passes the positional arguments, then the options object, then the Command.
    const options = argsAndOptions[argsAndOptions.length - 2] as O;
    const args = argsAndOptions.slice(0, -2) as unknown as A;
    const out = new Output({ json: Boolean(options.json), quiet: Boolean(options.quiet) });
    setExitCode(await runBody(command, out, () => body(out, options, ...args)));
  };
}

async function runBody(command: string, out: Output, body: () => Promise<CommandResult>): Promise<number> {
  let result: CommandResult;
  try {
    result = await body();
  } catch (error) {
    return renderFailure(out, command, error);
  }
  return render(out, command, result);
}

/**
 * Whatever stopped a command (here, or before it ran: main.ts): a RunError by its code; a cancelled
 * prompt 130; a file system's refusal by its file; anything else an internal error (exit 1).
 */
export function renderFailure(out: Output, command: string, error: unknown): number {
  if (error instanceof RunError) return renderError(out, command, error);
  if (isPromptCancel(error)) return renderCancelled(out, command);
  const named = fileSystemRefusal(error);
  if (named !== undefined) return renderError(out, command, named);
  renderError(out, command, internalError(error));
  if (io().env.JSM_PROVISION_DEBUG && error instanceof Error) out.always(error.stack ?? '');
  return 1;
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
