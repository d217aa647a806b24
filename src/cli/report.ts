import { extname } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { RowResult, RunSummary } from '../core/results.js';
import { writeFailure, writeFileAtomically } from '../util/atomic-file.js';

const COLUMNS = ['line', 'email', 'fullName', 'status', 'invitation', 'reason'] as const;

/** Checks the report's file name before the run, so a typo does not cost a whole import. */
export function reportFormat(file: string): 'csv' | 'json' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new UsageError('bad-report', `--report ${file}: the file name must end in .csv or .json`);
}

/** Writes every row with its line, email, full name, status, invitation and reason. */
export async function writeReport(file: string, summary: RunSummary, rows: readonly RowResult[]): Promise<void> {
  const text = reportFormat(file) === 'csv' ? reportCsv(rows) : reportJson(summary, rows);
  try {
    await writeFileAtomically(file, text);
  } catch (error) {
    // The cause in words (a full disk says so), naming the file; the old report, if any, is kept.
    const failure = writeFailure(file, error);
    throw new UsageError('report-unwritable', `the report was not written: ${failure.message}`, `the run itself is recorded; ${failure.hint ?? 'choose another --report path'}`);
  }
}

function reportJson(summary: RunSummary, rows: readonly RowResult[]): string {
  const { problems: _problems, ...head } = summary;
  const body = rows.map((r) => ({ line: r.line, email: r.email, fullName: r.fullName, status: r.status, invitation: r.invitation, reason: r.reason ?? null }));
  return `${JSON.stringify({ ...head, rows: body }, null, 2)}\n`;
}

export function reportCsv(rows: readonly RowResult[]): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(COLUMNS.map((column) => csvCell(String(row[column] ?? ''))).join(','));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

/**
 * A cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading
 * apostrophe so it shows as text (OWASP's CSV injection advice); then RFC 4180 quoting.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}
