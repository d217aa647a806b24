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
  const records = parse(body, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, bom: false }) as unknown as { record: string[]; info: { lines: number } }[];
  if (records.length === 0) return [];
  const header = records[0]?.record ?? [];
  const column = header.findIndex((cell) => EMAIL_HEADERS.has(normaliseHeader(cell)));
  const rows = column >= 0 ? records.slice(1) : records;
  const at = Math.max(column, 0);
  // csv-parse's `lines` is where a record ends: a quoted cell may span lines, an email never does.
  return rows.map(({ record, info }) => ({ line: info.lines, email: record[at] ?? '' })).filter((r) => r.email !== '');
}

function count(line: string, char: string): number {
  return line.split(char).length - 1;
}
