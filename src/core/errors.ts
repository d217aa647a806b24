/**
 * Errors that stop a whole run. Only the CLI entry point turns them into exit codes:
 * UsageError -> 2 (nothing was written), TargetError -> 3 (the target refused the run), StalePlan -> 4
 * (a plan no longer holds: nothing was written).
 * Row-level failures are values (a row's result carries its reason), never exceptions.
 */
export abstract class RunError extends Error {
  abstract readonly exitCode: 2 | 3 | 4;
  /** A stable machine-readable code for `--json` (`error.code`). */
  readonly code: string;
  /** What the user should do next; printed after the message. */
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** Bad usage, configuration or unreadable input: exit 2, nothing was written. */
export class UsageError extends RunError {
  readonly exitCode = 2 as const;
  override readonly name = 'UsageError';
}

/** The target refused the run (auth, unknown project, unreachable, unsupported): exit 3. */
export class TargetError extends RunError {
  readonly exitCode = 3 as const;
  override readonly name = 'TargetError';
}

/** A plan that no longer holds (the target or the input changed since it was made, or it was applied already): exit 4, nothing was written. */
export class StalePlan extends RunError {
  readonly exitCode = 4 as const;
  override readonly name = 'StalePlan';
}

/** An error's `--json` object: `{"code", "message"}` and `"hint"` when it has one. */
export function errorBody(error: RunError): { code: string; message: string; hint?: string } {
  return error.hint ? { code: error.code, message: error.message, hint: error.hint } : { code: error.code, message: error.message };
}

/** The words of anything thrown: an Error's message, else the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
