import { Chalk, type ChalkInstance } from 'chalk';
import { RunError } from '../core/errors.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

/**
 * Where a command's words go. stdout carries the result: the human summary, or under --json
 * exactly one JSON object and nothing else. stderr carries progress, notes, warnings and errors.
 * Colour only on a terminal and never under NO_COLOR.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: ChalkInstance;
  readonly errColor: ChalkInstance;
  readonly stderrIsTTY: boolean;

  constructor(options: OutputOptions, private readonly stdout = process.stdout, private readonly stderr = process.stderr) {
    this.json = options.json;
    this.quiet = options.quiet;
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
    this.color = new Chalk({ level: !noColor && stdout.isTTY ? 1 : 0 });
    this.errColor = new Chalk({ level: !noColor && stderr.isTTY ? 1 : 0 });
    this.stderrIsTTY = Boolean(stderr.isTTY);
  }

  /** The human result on stdout (not under --json or --quiet). */
  result(text: string): void {
    if (this.json || this.quiet) return;
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The one JSON object of --json. */
  jsonResult(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for people on stderr (not under --json or --quiet). */
  note(text: string): void {
    if (this.json || this.quiet) return;
    this.stderr.write(`${text}\n`);
  }

  /** A warning on stderr (kept under --json, dropped under --quiet). */
  warn(text: string): void {
    if (this.quiet) return;
    this.stderr.write(`${this.errColor.yellow('warning:')} ${text}\n`);
  }

  /** Always shown on stderr, whatever the flags: for a secret shown once, an error. */
  always(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** An error that stopped the command: words on stderr, and the JSON error object under --json. */
  error(command: string, error: RunError): void {
    const hint = error.hint ? `\n  ${this.errColor.dim('→')} ${error.hint}` : '';
    this.stderr.write(`${this.errColor.red('error:')} ${error.message}${hint}\n`);
    if (this.json) {
      const body: Record<string, string> = { code: error.code, message: error.message };
      if (error.hint) body.hint = error.hint;
      this.stdout.write(`${JSON.stringify({ ok: false, command, error: body }, null, 2)}\n`);
    }
  }
}
