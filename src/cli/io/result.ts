import { errorBody, messageOf, RunError, UsageError } from '../../core/errors.js';
import type { Colors } from './colors.js';
import type { Output } from './output.js';

/**
 * What became of a command, in the words its exit code stands for (docs/contract.md, "Exit
 * codes"): done; finished with problems (rows, invitations, or the answer is no); a setting that
 * cannot work; the target refused; a plan that no longer holds (`apply`); stopped by the person
 * (interrupted, or declined at a question).
 */
export type Outcome = 'done' | 'problems' | 'unusable' | 'refused' | 'stale' | 'stopped';

/** The one mapping of outcomes to exit codes. */
const EXIT_CODES: Readonly<Record<Outcome, number>> = { done: 0, problems: 1, unusable: 2, refused: 3, stale: 4, stopped: 130 };

export function exitCodeOf(outcome: Outcome): number {
  return EXIT_CODES[outcome];
}

/** An error's outcome: a UsageError is a setting or input that cannot work (2), a TargetError a refusal (3), a StalePlan a stale plan (4). */
export function outcomeOf(error: RunError): Outcome {
  return error.exitCode === 3 ? 'refused' : error.exitCode === 4 ? 'stale' : 'unusable';
}

/**
 * What a command returns: its outcome, its JSON keys (after `ok` and `command`, which are added
 * here and nowhere else), and its words. A command prints nothing of its result itself: `render`
 * is the one place that writes the result's JSON object or words and decides the exit code.
 */
export interface CommandResult {
  /** What became of it: gives the exit code (EXIT_CODES); `ok` is true exactly when it is `done`. */
  outcome: Outcome;
  /**
   * The JSON object's keys after `ok` and `command` (target, project, totals, ...). Absent only for
   * a command whose data is its stdout (`customers export` without --output, which refuses --json).
   */
  json?: Record<string, unknown>;
  /** The human result on stdout, in the stream's colours. */
  text?: string | ((c: Colors) => string);
  /** Under --quiet (which prints only errors), a failed result's (exit 1 or 3) words on stderr. */
  quietWords?: (c: Colors) => string;
  /** Notes for people after the words (stderr; not under --json or --quiet). */
  notes?: readonly string[];
  /** Errors the run ended with after it wrote its result (a report that failed): their words on stderr. */
  errors?: readonly RunError[];
}

/** The one JSON object of `--json`: `ok` and `command` first, then the command's keys. */
export function envelope(command: string, ok: boolean, body: Record<string, unknown>): Record<string, unknown> {
  return { ok, command, ...body };
}

/** Writes a command's result (the JSON object or the words) and returns its exit code. */
export function render(out: Output, command: string, result: CommandResult): number {
  if (result.json !== undefined) out.jsonResult(envelope(command, result.outcome === 'done', result.json));
  const text = result.text;
  if (text !== undefined) {
    if (!out.json && !out.quiet) out.result(typeof text === 'string' ? text : text(out.color));
  }
  if (out.quiet && !out.json && result.quietWords !== undefined && (result.outcome === 'problems' || result.outcome === 'refused')) out.always(result.quietWords(out.errColor));
  for (const note of result.notes ?? []) out.note(note);
  for (const error of result.errors ?? []) out.errorWords(error);
  return exitCodeOf(result.outcome);
}

/** A result that stops at an error the command names itself (its outcome by the error's kind unless given). */
export function failed(error: RunError, json: Record<string, unknown> = {}, outcome: Outcome = outcomeOf(error)): CommandResult {
  return { outcome, json: { ...json, error: errorBody(error) }, errors: [error] };
}

/** The one rendering of an error that stopped a command: its words on stderr, its JSON object under --json. */
export function renderError(out: Output, command: string, error: RunError): number {
  // The words first (stderr), then the JSON object (stdout).
  out.errorWords(error);
  out.jsonResult(envelope(command, false, { error: errorBody(error) }));
  return exitCodeOf(outcomeOf(error));
}

/** A question the person cancelled (Ctrl-C or Esc at a prompt): nothing was written; exit 130. */
export function renderCancelled(out: Output, command: string): number {
  out.always('cancelled: nothing was written');
  out.jsonResult(envelope(command, false, { error: { code: 'cancelled', message: 'the question was cancelled: nothing was written' } }));
  return exitCodeOf('stopped');
}

/** What an error nothing named becomes: `internal-error`, exit 1 (said once, here). */
export function internalError(error: unknown): RunError {
  return new UsageError('internal-error', `internal error: ${messageOf(error)}`, 'set JSM_PROVISION_DEBUG=1 to see where, and report it with that output');
}
