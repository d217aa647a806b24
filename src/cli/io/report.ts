import { randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { RowResult, RunSummary } from '../../core/results.js';
import { safeJson } from './output.js';
import { syncFolder, writeAll, writeAllSync, writeFailure } from '../../util/atomic-file.js';
import { inCwd } from './io.js';

const COLUMNS = ['line', 'email', 'fullName', 'status', 'invitation', 'reason', 'organizations'] as const;

/** A line of a report: a row's result, or a row of a command's own kind (import-mail's `skipped`). */
export interface ReportRow {
  /** Input order: spilled rows and the rows given at the end are merged by it. */
  index: number;
  line: number | string;
  email: string;
  fullName: string;
  status: string;
  invitation: string;
  reason?: string;
  organizations?: string[];
}

/** A command's columns after the standard ones (import-mail: `messages`), with each row's values. */
export interface ReportColumns<R extends ReportRow> {
  names: readonly string[];
  /** The row's values for `names`, in their order. */
  cells(row: R): readonly (string | number)[];
}

/** Checks the report's file name before the run, so a typo does not cost a whole import. */
export function reportFormat(file: string): 'csv' | 'json' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  const base = printable(ext === '' ? file : file.slice(0, -ext.length));
  throw new UsageError('bad-report', `--report ${printable(file)}: the file name must end in .csv or .json`, `e.g. --report ${base}.csv (a spreadsheet opens it), or --report ${base}.json`);
}

/** Rows are gathered to about this size before each write. */
const WRITE_BATCH = 1 << 16;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function tempName(file: string, what: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.${what}.tmp`);
}

function unwritable(file: string, error: unknown, hint?: (failure: UsageError) => string): UsageError {
  if (error instanceof UsageError && error.code === 'report-unwritable') return error;
  // The cause in words (a full disk, a quota, an I/O error, a read-only disk), as for every file.
  const failure = writeFailure(file, error);
  return new UsageError('report-unwritable', `the report was not written: ${printable(failure.message)}`, hint?.(failure) ?? failure.hint ?? 'choose another --report path');
}

/**
 * The report of a run, written as rows finish rather than held in memory: rows that are final
 * while the input is read (invalid, duplicate) go at once to a spill file beside the report; at
 * the end they are merged, in input order, with the rows the run applied, into a temp file that
 * is fsync'd and renamed over the report. Opening it is the preflight check that the report's
 * folder takes a file; a run that stops before the end leaves no report (`discard`).
 */
export class ReportWriter<R extends ReportRow = RowResult> {
  #pending: string[] = [];
  #size = 0;
  #spilled = 0;
  #closed = false;

  private constructor(
    readonly file: string,
    readonly format: 'csv' | 'json',
    private readonly spillPath: string,
    private readonly spillFd: number,
    private readonly extra: ReportColumns<R> | undefined,
  ) {}

  /** Creates the spill file in the report's folder: proves now that the report can be written. */
  static open<R extends ReportRow = RowResult>(file: string, extra?: ReportColumns<R>): ReportWriter<R> {
    const format = reportFormat(file);
    const path = inCwd(file);
    const spill = tempName(path, 'rows');
    let fd: number;
    try {
      fd = openSync(spill, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
    } catch (error) {
      throw unwritable(file, error);
    }
    return new ReportWriter<R>(path, format, spill, fd, extra);
  }

  /** A row that is final before the run applies anything (rows arrive in input order). */
  add(row: R): void {
    // Spilled as the report's own text, after the row's index: the merge copies it without parsing.
    this.#pending.push(`${row.index}\t${this.#format(row)}\n`);
    this.#size += this.#pending[this.#pending.length - 1]?.length ?? 0;
    this.#spilled++;
    if (this.#size >= WRITE_BATCH) this.#flushSpill();
  }

  #flushSpill(): void {
    if (this.#pending.length === 0) return;
    try {
      writeAllSync(this.spillFd, this.#pending.join(''));
    } catch (error) {
      // Thrown while the input is read, before anything is written: the run stops with exit 2.
      throw unwritable(this.file, error);
    }
    this.#pending = [];
    this.#size = 0;
  }

  /**
   * Writes the report: the spilled rows and `rows` (both in input order), merged by index.
   * `head`: keys a JSON report holds after the summary's (import-mail: `messages`).
   */
  async finish(summary: RunSummary, rows: readonly R[], head: Record<string, unknown> = {}): Promise<void> {
    this.#flushSpill();
    this.#closeSpill();
    const temp = tempName(this.file, 'report');
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
      const out = new BatchedWriter(handle, temp);
      const json = this.format === 'json';
      // A dry run's report is marked: "dryRun": true in JSON, a dryRun column in CSV (docs/csv-input.md, "The report").
      const dryMark = summary.dryRun ? ',true' : '';
      const names = [...COLUMNS, ...(this.extra?.names ?? [])];
      await out.write(json ? jsonHead(summary, head) : `\ufeff${names.join(',')}${summary.dryRun ? ',dryRun' : ''}\r\n`);
      let first = true;
      const emit = async (text: string) => {
        await out.write(json ? `${first ? '' : ',\n'}    ${text}` : `${text}${dryMark}\r\n`);
        first = false;
      };
      // An invitation written to the outbox as an .eml file was not sent: the report says `outbox`.
      const toOutbox = summary.invitations.outbox !== null;
      const format = (row: R): string => this.#format(toOutbox && row.invitation === 'sent' ? { ...row, invitation: 'outbox' } : row);
      let i = 0;
      for await (const [index, text] of this.#readSpill()) {
        while (i < rows.length && (rows[i] as R).index < index) await emit(format(rows[i++] as R));
        await emit(text);
      }
      while (i < rows.length) await emit(format(rows[i++] as R));
      await out.write(json ? `${first ? '' : '\n'}  ]\n}\n` : '');
      await out.flush();
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, this.file);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true });
      // The way out is the cause's own (space, permissions, a read-only disk), then the same command.
      throw unwritable(this.file, error, (cause) => {
        const fix = cause.code === 'disk-full' ? 'free some space' : (cause.hint ?? 'choose another --report path').replace(/[,;]? *(and|then) run the same command again$/, '');
        return `the run itself is done and recorded; ${fix}, then run the same command again (it changes nothing and writes the report)`;
      });
    } finally {
      await rm(this.spillPath, { force: true });
    }
    await syncFolder(dirname(this.file));
  }

  /** Removes what was written so far: the run stopped before its end. */
  async discard(): Promise<void> {
    this.#closeSpill();
    await rm(this.spillPath, { force: true });
  }

  #closeSpill(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.spillFd);
  }

  /** One row as the report's text, without its line break (no value holds a raw one: see printable and safeJson). */
  #format(row: R): string {
    const extra = this.extra;
    if (extra === undefined) return this.format === 'json' ? jsonRow(row) : csvRow(row);
    const values = extra.cells(row);
    if (this.format === 'json') return jsonRow(row, Object.fromEntries(extra.names.map((name, i) => [name, values[i]])));
    return `${csvRow(row)}${values.map((value) => `,${csvCell(printable(String(value)))}`).join('')}`;
  }

  async *#readSpill(): AsyncIterable<[number, string]> {
    if (this.#spilled === 0) return;
    const lines = createInterface({ input: createReadStream(this.spillPath, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      const tab = line.indexOf('\t');
      if (tab > 0) yield [Number(line.slice(0, tab)), line.slice(tab + 1)];
    }
  }
}

class BatchedWriter {
  #pending: string[] = [];
  #size = 0;
  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}
  async write(text: string): Promise<void> {
    this.#pending.push(text);
    this.#size += text.length;
    if (this.#size >= WRITE_BATCH) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#size = 0;
    await writeAll(this.handle, this.path, text);
  }
}



function jsonHead(summary: RunSummary, extra: Record<string, unknown>): string {
  const { problems: _problems, problemsOmitted: _omitted, ...head } = summary;
  // Values stay exact in a JSON report (a program reads it); safeJson keeps raw control characters out of its bytes.
  const text = safeJson(JSON.stringify({ ...head, ...extra, rows: [] }, null, 2));
  // `"rows": []\n}` at the end: open the array, the rows follow.
  return `${text.slice(0, text.lastIndexOf('[]'))}[\n`;
}

/** One row per line: a report of 100,000 rows stays a file a person can scroll and `grep`. */
function jsonRow(r: ReportRow, extra: Record<string, unknown> = {}): string {
  const body = { line: r.line, email: r.email, fullName: r.fullName, status: r.status, invitation: r.invitation, reason: r.reason ?? null, organizations: r.organizations ?? [], ...extra };
  return safeJson(JSON.stringify(body));
}

/**
 * A CSV report is read by people (a spreadsheet, `cat`): control and bidirectional characters from
 * the input are shown as `U+XXXX` (printable), as on the terminal; the row's line finds the original.
 */
function csvRow(row: ReportRow): string {
  // Several organizations in one cell, separated by "; " as in the input.
  return COLUMNS.map((column) => csvCell(printable(column === 'organizations' ? (row.organizations ?? []).join('; ') : String(row[column] ?? '')))).join(',');
}

/**
 * A cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading
 * apostrophe so it shows as text (OWASP's CSV injection advice); then RFC 4180 quoting.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}
