/**
 * CSV input: bytes -> decoded text -> records with the line each starts on.
 * Streams: only the first 64 KiB are read before `records` is iterated.
 */
import { UsageError } from '../core/errors.js';
import { checkEncodingOption, decodeSource, REPLACEMENT } from './decode.js';
import { checkMap, resolveColumns, type Columns } from './headers.js';
import { MAX_ROW_CHARS, parseRows, type ParsedRow } from './rows.js';
import { delimiterName, parseDelimiterOption, sniffDelimiter } from './sniff.js';
import { openSource } from './source.js';

export { parseMapOption } from './headers.js';
export type { Columns, Field } from './headers.js';

/** One data row. */
export interface CsvRecord {
  /** Line of the file where the row starts (the header is line 1; blank and quoted lines count). */
  line: number;
  /** The email cell as written ('' if empty or missing). */
  email: string;
  /** The full-name cell as written, or first and last name (each trimmed) joined by a space. */
  fullName: string;
  /** The password cell as written, when there is a password column and the cell is not empty. */
  password?: string;
  /** The username cell, when there is a username column and the cell is not empty. */
  username?: string;
  /** Why the row cannot be trusted (wrong number of cells, undecodable bytes); it is still yielded. */
  error?: string;
}

export interface CsvReadOptions {
  /** An iconv-lite encoding name (e.g. windows-1252); refused if it contradicts a BOM in the file. */
  encoding?: string;
  /** `,` `;` `|`, or tab as `\t`, `tab` or a tab character; sniffed from the header when absent. */
  delimiter?: string;
  /** field -> header text (fields: email, fullName, firstName, lastName, password). */
  map?: Record<string, string>;
}

export interface CsvReader {
  /** The header cells, trimmed. */
  headers: string[];
  delimiter: string;
  encoding: string;
  columns: Columns;
  /** The data rows, streamed; iterate once. Reading ends, and the file closes, with the loop. */
  records: AsyncIterable<CsvRecord>;
  /** Releases the input without reading the records (e.g. after a dry look at the headers). */
  close(): void;
}

export async function openCsv(input: NodeJS.ReadableStream | string, options: CsvReadOptions = {}): Promise<CsvReader> {
  // Option mistakes are reported before the input is touched.
  const forcedDelimiter = options.delimiter === undefined ? undefined : parseDelimiterOption(options.delimiter);
  checkEncodingOption(options.encoding);
  const map = checkMap(options.map ?? {});

  const source = await openSource(input);
  const label = source.label;
  let closeParser = (): void => undefined;
  const close = (): void => {
    closeParser();
    source.close();
  };
  try {
    if (source.prefix.length === 0) throw emptyInput(label);
    const { encoding, prefixText, text } = decodeSource(source, options.encoding);
    const delimiter = forcedDelimiter ?? sniffDelimiter(prefixText);
    const parsed = parseRows(text, delimiter);
    closeParser = parsed.close;

    const header = await nextRow(parsed.rows, label);
    if (header === undefined) throw emptyInput(label);
    const headers = header.cells.map((cell) => cell.trim());
    const columns = resolveColumns(headers, map, label);
    const shape = { columns, width: headers.length, delimiter, encoding };

    async function* records(): AsyncGenerator<CsvRecord> {
      try {
        for (;;) {
          const row = await nextRow(parsed.rows, label);
          if (row === undefined) return;
          yield toRecord(row.line, row.cells, shape);
        }
      } finally {
        close();
      }
    }
    return { headers, delimiter, encoding, columns, records: records(), close };
  } catch (error) {
    close();
    throw error;
  }
}

/** The next row that is not blank: a row of empty cells (",,," from Excel) is a blank line. */
async function nextRow(rows: AsyncIterator<ParsedRow>, label: string): Promise<{ line: number; cells: string[] } | undefined> {
  for (;;) {
    const next = await rows.next();
    if (next.done === true) return undefined;
    const row = next.value;
    if (row.kind === 'broken') throw malformed(row, label);
    if (row.cells.some((cell) => cell.trim() !== '')) return row;
  }
}

interface Shape {
  columns: Columns;
  width: number;
  delimiter: string;
  encoding: string;
}

function toRecord(line: number, cells: string[], { columns, width, delimiter, encoding }: Shape): CsvRecord {
  const cell = (index: number | undefined): string => (index === undefined ? '' : (cells[index] ?? ''));
  const email = cell(columns.email);
  const password = cell(columns.password);
  const record: CsvRecord = { line, email, fullName: fullNameOf(cell(columns.fullName), cell(columns.firstName), cell(columns.lastName)) };
  if (password !== '') record.password = password;
  const username = cell(columns.username).trim();
  if (username !== '') record.username = username;

  const error = shapeError(line, cells, width, delimiter) ?? decodingError(line, [record.email, record.fullName, password], encoding);
  if (error !== undefined) record.error = error;
  return record;
}

/** The full-name cell; when it is empty (or absent), first and last name. */
function fullNameOf(full: string, first: string, last: string): string {
  if (full.trim() !== '') return full;
  return [first.trim(), last.trim()].filter((part) => part !== '').join(' ');
}

/**
 * Too many cells usually means a name with an unquoted delimiter, so the cells after it are
 * shifted: the row cannot be trusted. Extra cells that are all empty (a trailing delimiter)
 * shift nothing and are ignored.
 */
function shapeError(line: number, cells: string[], width: number, delimiter: string): string | undefined {
  if (cells.length === width) return undefined;
  const name = delimiterName(delimiter);
  if (cells.length > width) {
    if (cells.slice(width).every((cell) => cell.trim() === '')) return undefined;
    return `line ${line} has ${cells.length} cells but the header has ${width}: a name or other cell probably contains an unquoted ${name}; put that cell in double quotes`;
  }
  return `line ${line} has ${cells.length} cells but the header has ${width}: a cell or a ${name} between two cells is missing`;
}

function decodingError(line: number, values: string[], encoding: string): string | undefined {
  if (!values.some((value) => value.includes(REPLACEMENT))) return undefined;
  const fix = /^utf-?8$/.test(encoding)
    ? 'if the file is not UTF-8, run again with --encoding windows-1252 (or the encoding it was saved in)'
    : 'check that --encoding names the encoding the file was saved in';
  return `line ${line} has bytes that are not valid ${encoding} (shown as "${REPLACEMENT}"): ${fix}`;
}

function emptyInput(label: string): UsageError {
  return new UsageError(
    'empty-input',
    `${label} is empty: there is no header row and no customer.`,
    'Export the spreadsheet with a header row (e.g. Email,Full name) and one row per customer.',
  );
}

function malformed(row: Extract<ParsedRow, { kind: 'broken' }>, label: string): UsageError {
  const why =
    row.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted cell starts on this line and is never closed, so the rest of the file cannot be read'
      : row.code === 'CSV_MAX_RECORD_SIZE'
        ? `this row is longer than ${MAX_ROW_CHARS.toLocaleString('en')} characters, most likely because a quote is never closed`
        : row.message;
  return new UsageError(
    'malformed-csv',
    `${label}, line ${row.line}: ${why}.`,
    'Close the quote (a quote inside a quoted cell is written twice: "") and run again.',
  );
}
