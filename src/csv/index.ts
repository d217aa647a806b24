/**
 * CSV input: bytes -> decoded text -> records with the line each starts on.
 * Streams: only the first 64 KiB are read before `records` is iterated.
 */
import { UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';
import { checkEncodingOption, decodeSource, isUtf8, REPLACEMENT } from './decode.js';
import { checkMap, firstValue, resolveColumns, type Columns } from './headers.js';
import { endsLinesWithCr, MAX_ROW_CHARS, parseRows, type ParsedRow, type RowStream } from './rows.js';
import { delimiterName, parseDelimiterOption, sniffDelimiter } from './sniff.js';
import { openSource, type SourcePlace } from './source.js';

export { nameColumnNote, parseMapOption } from './headers.js';
export { MAX_ROW_CHARS } from './rows.js';
export type { Columns, Field } from './headers.js';

/** One data row. */
export interface CsvRecord {
  /** Line of the file where the row starts (the header is line 1; blank and quoted lines count). */
  line: number;
  /**
   * The email cell as written ('' if empty or missing; the first address of a Google Contacts
   * multi-value cell `a@x ::: b@x`). '' too when the row has the wrong number of cells: its cells are
   * shifted and may hold anything, a password included, so none of them is passed on.
   */
  email: string;
  /** The full-name cell as written, or first and last name (each trimmed) joined by a space. */
  fullName: string;
  /** The password cell as written, when there is a password column and the cell is not empty. */
  password?: string;
  /** The language cell, trimmed, when there is a language column and the cell is not empty. */
  language?: string;
  /** The username cell, when there is a username column and the cell is not empty. */
  username?: string;
  /** The organization cell, when there is an organization column and the cell is not empty (names separated by `;`). */
  organization?: string;
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
  /** The longest row read, in characters (default MAX_ROW_CHARS); a longer one stops the file. */
  maxRowChars?: number;
  /** Where a file name is read: relative names in `cwd`, `-` from `stdin` (see source.ts). */
  from?: SourcePlace;
}

export interface CsvReader {
  /** The header cells, trimmed. */
  headers: string[];
  delimiter: string;
  encoding: string;
  columns: Columns;
  /** Whether the file began with Excel's `sep=` line (which named the delimiter). */
  sepLine: boolean;
  /** The data rows, streamed; iterate once. Reading ends, and the file closes, with the loop. */
  records: AsyncIterable<CsvRecord>;
  /** The same rows a batch at a time (as many as were parsed together): iterate this or `records`, once. */
  batches: AsyncIterable<CsvRecord[]>;
  /** Releases the input without reading the records (e.g. after a dry look at the headers). */
  close(): void;
}

export async function openCsv(input: NodeJS.ReadableStream | string, options: CsvReadOptions = {}): Promise<CsvReader> {
  // Option mistakes are reported before the input is touched.
  const forcedDelimiter = options.delimiter === undefined ? undefined : parseDelimiterOption(options.delimiter);
  checkEncodingOption(options.encoding);
  const map = checkMap(options.map ?? {});

  const source = await openSource(input, options.from);
  const label = source.label;
  let closeParser = (): void => undefined;
  const close = (): void => {
    closeParser();
    source.close();
  };
  try {
    if (source.prefix.length === 0) throw emptyInput(label);
    const decoded = decodeSource(source, options.encoding);
    const { encoding } = decoded;
    // Excel's "sep=;" first line names the delimiter; it is not the header. Lines stay file lines.
    const sep = sepLine(decoded.prefixText);
    const prefixText = sep === undefined ? decoded.prefixText : decoded.prefixText.slice(sep.length);
    const text = sep === undefined ? decoded.text : dropFirst(decoded.text, sep.length);
    const delimiter = forcedDelimiter ?? sep?.delimiter ?? sniffDelimiter(prefixText);
    const maxRowChars = options.maxRowChars ?? MAX_ROW_CHARS;
    const parsed = parseRows(text, delimiter, { firstLine: sep === undefined ? 1 : 2, crLines: endsLinesWithCr(prefixText), maxRowChars });
    closeParser = parsed.close;
    const what = { label, maxRowChars };

    const header = await nextRow(parsed, what);
    if (header === undefined) throw emptyInput(label);
    const headers = header.cells.map((cell) => cell.trim());
    const columns = await resolveOrHint(headers, map, label, parsed, what);
    const shape = { columns, headers, width: headers.length, delimiter, encoding };

    async function* batches(): AsyncGenerator<CsvRecord[]> {
      try {
        for await (const rows of parsed.batches()) {
          const out: CsvRecord[] = [];
          for (const row of rows) {
            if (row.kind === 'broken') {
              // The rows before it go on; the file stops here.
              if (out.length > 0) yield out;
              throw malformed(row, what);
            }
            if (!isBlank(row.cells)) out.push(toRecord(row.line, row.cells, shape));
          }
          if (out.length > 0) yield out;
        }
      } finally {
        close();
      }
    }
    async function* records(): AsyncGenerator<CsvRecord> {
      for await (const batch of batches()) yield* batch;
    }
    return { headers, delimiter, encoding, columns, sepLine: sep !== undefined, records: records(), batches: batches(), close };
  } catch (error) {
    close();
    throw error;
  }
}

interface Source {
  label: string;
  maxRowChars: number;
}

/** Excel's first line `sep=;` (also quoted, `"sep=;"`): its length with its line end, and the delimiter. */
function sepLine(text: string): { length: number; delimiter: string } | undefined {
  const match = /^"?sep=([^\r\n"])"?[ \t]*(\r\n|\n|\r)/i.exec(text);
  return match === null ? undefined : { length: match[0].length, delimiter: match[1] as string };
}

async function* dropFirst(text: AsyncIterable<string>, count: number): AsyncGenerator<string> {
  let left = count;
  for await (const chunk of text) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.slice(left) : chunk;
    left = 0;
  }
}

/** How many data rows a missing email column's hint looks at for a column of addresses. */
const HINT_ROWS = 20;

/** resolveColumns; when it finds no email column, the hint is made from the first data rows too. */
async function resolveOrHint(headers: string[], map: ReturnType<typeof checkMap>, label: string, rows: RowStream, what: Source): Promise<Columns> {
  try {
    return resolveColumns(headers, map, label);
  } catch (error) {
    if (!(error instanceof UsageError) || error.code !== 'no-email-column') throw error;
    // One column whose name holds another delimiter: the delimiter is wrong, not the column's name.
    const other = headers.length === 1 ? otherDelimiterIn(headers[0] ?? '') : undefined;
    if (other !== undefined) {
      throw new UsageError(
        'no-email-column',
        `${label} has no email column: its header line read as one column, ${JSON.stringify(headers[0])}.`,
        `The file looks ${other === '\t' ? 'tab' : other}-separated: give --delimiter ${other === '\t' ? 'tab' : JSON.stringify(other)}, or leave --delimiter out to have it found.`,
      );
    }
    const sample: { line: number; cells: string[] }[] = [];
    try {
      while (sample.length < HINT_ROWS) {
        const row = await nextRow(rows, what);
        if (row === undefined) break;
        sample.push(row);
      }
    } catch {
      // A broken row in the sample only ends the sample; the missing column is what is reported.
    }
    // A title line (or a few) above the real header: "Customer list 2024", then "Email,Name".
    const header = sample.find((row) => headerLike(row.cells, map, label));
    if (header !== undefined) {
      throw new UsageError(
        'no-email-column',
        `${label} has no email column in its first line (${headers.map((h) => JSON.stringify(printable(h, 60))).join(', ')}), but line ${header.line} looks like the header: the lines above it are probably a title.`,
        `${deleteAbove(header.line)}, and run again.`,
      );
    }
    // One cell on the first line and more on the next: the first line is a title all the same,
    // even when the real header's email column has a name no alias knows.
    const next = sample[0];
    if (headers.length === 1 && next !== undefined && next.cells.length > 1) {
      throw new UsageError(
        'no-email-column',
        `${label} has no email column: its first line is one cell (${JSON.stringify(printable(headers[0] ?? '', 60))}), and line ${next.line} has ${next.cells.length}, so the first line is probably a title above the header.`,
        `${deleteAbove(next.line)}; then, if its email column is still not found, name it with --map email="<its header>".`,
      );
    }
    return resolveColumns(headers, map, label, sample.map((row) => row.cells));
  }
}

/** The fix for title lines above the header on line `line`. */
function deleteAbove(line: number): string {
  return `Delete the line${line > 2 ? 's' : ''} above line ${line}, so that the header is the first line`;
}

/** Whether a row's cells name an email and a name column (split by another delimiter if it is one cell). */
function headerLike(cells: string[], map: ReturnType<typeof checkMap>, label: string): boolean {
  const other = cells.length === 1 ? otherDelimiterIn(cells[0] ?? '') : undefined;
  const names = other === undefined ? cells : (cells[0] ?? '').split(other);
  try {
    resolveColumns(names, map, label);
    return true;
  } catch {
    return false;
  }
}

/** The delimiter (other than the one used) that a one-column header line holds, if any. */
function otherDelimiterIn(header: string): string | undefined {
  return [';', ',', '\t', '|'].find((d) => header.includes(d));
}

/** The next row that is not blank: a row of empty cells (",,," from Excel) is a blank line. */
async function nextRow(rows: RowStream, what: Source): Promise<{ line: number; cells: string[] } | undefined> {
  for (;;) {
    const row = await rows.next();
    if (row === undefined) return undefined;
    if (row.kind === 'broken') throw malformed(row, what);
    if (!isBlank(row.cells)) return row;
  }
}

/** A row of empty cells (",,," from Excel) is a blank line. */
function isBlank(cells: readonly string[]): boolean {
  for (const cell of cells) if (cell !== '' && cell.trim() !== '') return false;
  return true;
}

interface Shape {
  columns: Columns;
  headers: string[];
  width: number;
  delimiter: string;
  encoding: string;
}

function toRecord(line: number, cells: string[], { columns, headers, width, delimiter, encoding }: Shape): CsvRecord {
  const shifted = shapeError(line, cells, headers, width, delimiter);
  // Nothing of a shifted row goes on: its "email" may be a name's second half or a password.
  if (shifted !== undefined) return { line, email: '', fullName: '', error: shifted };
  const cell = (index: number | undefined): string => (index === undefined ? '' : (cells[index] ?? ''));
  const email = firstValue(cell(columns.email));
  const password = cell(columns.password);
  const record: CsvRecord = { line, email, fullName: fullNameOf(cell(columns.fullName), cell(columns.firstName), cell(columns.lastName)) };
  if (password !== '') record.password = password;
  const language = cell(columns.language).trim();
  if (language !== '') record.language = language;
  const username = cell(columns.username).trim();
  if (username !== '') record.username = username;
  const organization = cell(columns.organization).trim();
  if (organization !== '') record.organization = organization;

  const error = decodingError(line, [record.email, record.fullName, password], encoding);
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
 * shifted: the row cannot be trusted. That holds when the extra cells are empty too: "Lee, Ann"
 * unquoted before an empty last cell leaves one empty cell over, and the name's second half in the
 * password column (a password nobody knows), so a trailing delimiter is no excuse.
 */
function shapeError(line: number, cells: string[], headers: string[], width: number, delimiter: string): string | undefined {
  if (cells.length === width) return undefined;
  // Fewer cells, all the missing ones under no header name: nothing is shifted. Excel pads every
  // row to its used range with delimiters, but only its first 16 rows; a header may end with one.
  if (cells.length < width && cells.length >= namedWidth(headers)) return undefined;
  const name = delimiterName(delimiter);
  // The header's names, never the row's cells (they may hold a password).
  const expected = `the header has ${width} (${expectedColumns(headers)})`;
  if (cells.length > width) {
    const trailing = cells.slice(width).every((cell) => cell.trim() === '') ? `, or take away the ${name} the line ends with if nothing is unquoted` : '';
    return `line ${line} has ${cells.length} cells but ${expected}: a name or other cell probably contains an unquoted ${name}; put that cell in double quotes${trailing} (the row's cells are not shown)`;
  }
  return `line ${line} has ${cells.length} cells but ${expected}: a cell or a ${name} between two cells is missing (the row's cells are not shown)`;
}

/** How many columns up to and including the last one that has a name. */
function namedWidth(headers: readonly string[]): number {
  let n = headers.length;
  while (n > 0 && (headers[n - 1] ?? '').trim() === '') n--;
  return n;
}

function expectedColumns(headers: string[]): string {
  const shown = headers.slice(0, 8).map((header) => printable(header, 40));
  return shown.join(', ') + (headers.length > shown.length ? ', …' : '');
}

function decodingError(line: number, values: string[], encoding: string): string | undefined {
  if (!values.some((value) => value.includes(REPLACEMENT))) return undefined;
  const fix = isUtf8(encoding)
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

function malformed(row: Extract<ParsedRow, { kind: 'broken' }>, { label, maxRowChars }: Source): UsageError {
  if (row.code === 'CSV_MAX_RECORD_SIZE') {
    const limit = maxRowChars.toLocaleString('en');
    return new UsageError(
      'row-too-long',
      `${label}, line ${row.line}: the row starting here is longer than ${limit} characters, the longest row read (--max-row-chars ${maxRowChars}), so the rest of the file cannot be read.`,
      `If a cell really is that long, run again with a larger --max-row-chars; otherwise a quote opened on line ${row.line} is probably never closed: close it (a quote inside a quoted cell is written twice: "").`,
    );
  }
  const why =
    row.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted cell starts on this line and is never closed, so the rest of the file cannot be read'
      : printable(row.message, 200);
  return new UsageError(
    'malformed-csv',
    `${label}, line ${row.line}: ${why}.`,
    'Close the quote (a quote inside a quoted cell is written twice: "") and run again.',
  );
}
