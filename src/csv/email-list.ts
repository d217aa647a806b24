/**
 * A list of emails for `customers remove --file`: a CSV with a header that names an email column
 * (an export of this tool, a report, a spreadsheet), or one address per line without a header.
 * Each email keeps the line of the file it is on (the header is line 1).
 */
import { parse } from 'csv-parse/sync';
import { normaliseHeader } from './headers.js';

const EMAIL_HEADERS = new Set(['email', 'emailaddress', 'mail', 'emailadresse', 'email1value', 'primaryemail', 'emailaddress1', 'email1', 'primaryemailaddress']);

export interface ListedEmail {
  line: number;
  email: string;
}

/** The emails of `text` (a BOM is dropped); throws Error with the reason when the text is not a readable CSV. */
export function readEmailList(text: string): ListedEmail[] {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = ([',', ';', '\t', '|'] as const).reduce((best, d) => (count(firstLine, d) > count(firstLine, best) ? d : best), ',' as string);
  // Lines are counted here, as csv/rows.ts does (csv-parse counts a CRLF in a quoted cell twice):
  // empty lines arrive as [''], so each record starts one line after the previous one ended, and
  // ends as many lines later as its cells hold line breaks.
  const records = parse(body, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: false }) as string[][];
  const rows: { line: number; cells: string[] }[] = [];
  let line = 1;
  for (const cells of records) {
    rows.push({ line, cells: cells.map((c) => c.trim()) });
    line += 1 + cells.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0);
  }
  const filled = rows.filter((r) => r.cells.some((c) => c !== ''));
  if (filled.length === 0) return [];
  const header = filled[0]?.cells ?? [];
  const column = header.findIndex((cell) => EMAIL_HEADERS.has(normaliseHeader(cell)));
  const at = Math.max(column, 0);
  return (column >= 0 ? filled.slice(1) : filled).map((r) => ({ line: r.line, email: r.cells[at] ?? '' })).filter((r) => r.email !== '');
}

function count(line: string, char: string): number {
  return line.split(char).length - 1;
}
