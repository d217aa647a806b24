import { errorBody, messageOf, RunError, UsageError } from '../core/errors.js';
import type { Colors } from './colors.js';
import type { Output } from './output.js';

/**
 * What a command returns: its exit code, its JSON keys (after `ok` and `command`, which are added
 * here and nowhere else), and its words. A command prints nothing of its result itself: `render`
 * is the one place that writes the result's JSON object or words and decides the exit code.
 */
export interface CommandResult {
  /** The exit code (docs/contract.md, "Exit codes"); `ok` is true exactly when it is 0. */
  exit: number;
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
  if (result.json !== undefined) out.jsonResult(envelope(command, result.exit === 0, result.json));
  const text = result.text;
  if (text !== undefined) {
    if (!out.json && !out.quiet) out.result(typeof text === 'string' ? text : text(out.color));
  }
  if (out.quiet && !out.json && result.quietWords !== undefined && (result.exit === 1 || result.exit === 3)) out.always(result.quietWords(out.errColor));
  for (const note of result.notes ?? []) out.note(note);
  for (const error of result.errors ?? []) out.errorWords(error);
  return result.exit;
}

/** A result that stops at an error the command names itself (exit by the error's kind unless given). */
export function failed(error: RunError, json: Record<string, unknown> = {}, exit: number = error.exitCode): CommandResult {
  return { exit, json: { ...json, error: errorBody(error) }, errors: [error] };
}

/** The one rendering of an error that stopped a command: its words on stderr, its JSON object under --json. */
export function renderError(out: Output, command: string, error: RunError): number {
  // The words first (stderr), then the JSON object (stdout).
  out.errorWords(error);
  out.jsonResult(envelope(command, false, { error: errorBody(error) }));
  return error.exitCode;
}

/** What an error nothing named becomes: `internal-error`, exit 1 (said once, here). */
export function internalError(error: unknown): RunError {
  return new UsageError('internal-error', `internal error: ${messageOf(error)}`, 'set JSM_PROVISION_DEBUG=1 to see where, and report it with that output');
}
