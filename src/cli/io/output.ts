import type { RunError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import { colors, type Colors } from './colors.js';
import { io, type OutStream } from './io.js';

/** The colour codes of colors.ts (SGR): the only escape sequences this tool prints itself. */
const SGR = /(\u001b\[[0-9;]*m)/;

/**
 * The last guard before a terminal: every line goes through `printable` (values from input are
 * already shown as U+XXXX where they are rendered; this catches any that were missed). Line breaks
 * stay, and so do the colour codes when colour is on.
 */
export function safeText(text: string, keepColor: boolean): string {
  const parts = keepColor ? text.split(SGR) : [text];
  return parts.map((part, i) => (i % 2 === 1 ? part : part.split('\n').map((line) => printable(line)).join('\n'))).join('');
}

/**
 * JSON as printed and written: values stay exact (a program parsing it gets the input's
 * characters), but no control or bidirectional character appears raw in the bytes. JSON.stringify
 * escapes C0 controls; this escapes DEL, C1 controls, line/paragraph separators and bidi controls.
 */
export function safeJson(text: string): string {
  return text.replace(/[\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

/**
 * Where a command's words go. stdout carries the result: the human summary, or under --json
 * exactly one JSON object and nothing else. stderr carries progress, notes, warnings and errors.
 * Colour only on a terminal, never under NO_COLOR nor on a TERM=dumb terminal.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: Colors;
  readonly errColor: Colors;
  readonly stderrIsTTY: boolean;

  constructor(options: OutputOptions, private readonly stdout: OutStream = io().stdout, private readonly stderr: OutStream = io().stderr, env: Readonly<Record<string, string | undefined>> = io().env) {
    this.json = options.json;
    this.quiet = options.quiet;
    // NO_COLOR, or a terminal that says it cannot show colour (TERM=dumb: an editor's shell buffer).
    const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
    this.color = colors(!noColor && Boolean(stdout.isTTY));
    this.errColor = colors(!noColor && Boolean(stderr.isTTY));
    this.stderrIsTTY = Boolean(stderr.isTTY);
  }

  /** The human result on stdout (not under --json or --quiet). */
  result(text: string): void {
    if (this.json || this.quiet) return;
    const safe = safeText(text, this.color.level > 0);
    this.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
  }

  /** The one JSON object of --json. */
  jsonResult(value: unknown): void {
    if (this.json) this.stdout.write(`${safeJson(JSON.stringify(value, null, 2))}\n`);
  }

  /** A note for people on stderr (not under --json or --quiet). */
  note(text: string): void {
    if (this.json || this.quiet) return;
    this.stderr.write(`${safeText(text, this.errColor.level > 0)}\n`);
  }

  /** A warning on stderr (kept under --json, dropped under --quiet). */
  warn(text: string): void {
    if (this.quiet) return;
    this.stderr.write(`${this.errColor.yellow('warning:')} ${safeText(text, this.errColor.level > 0)}\n`);
  }

  /** Always shown on stderr, whatever the flags: for a secret shown once, an error. */
  always(text: string): void {
    this.stderr.write(`${safeText(text, this.errColor.level > 0)}\n`);
  }

  /** An error's words on stderr ("error: …", then its hint), whatever the flags: also where the JSON object has it already. */
  errorWords(error: RunError): void {
    const keep = this.errColor.level > 0;
    const hint = error.hint ? `\n  ${this.errColor.dim('→')} ${safeText(error.hint, keep)}` : '';
    this.stderr.write(`${this.errColor.red('error:')} ${safeText(error.message, keep)}${hint}\n`);
  }
}
