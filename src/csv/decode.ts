import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import type IconvLite from 'iconv-lite';
import { UsageError } from '../core/errors.js';
import { shellWord } from '../core/printable.js';
import type { ByteSource } from './source.js';

/** The character iconv-lite puts where bytes could not be decoded. */
export const REPLACEMENT = '\uFFFD';

const BOMS = [
  { encoding: 'utf-8', bytes: [0xef, 0xbb, 0xbf] },
  { encoding: 'utf-16le', bytes: [0xff, 0xfe] },
  { encoding: 'utf-16be', bytes: [0xfe, 0xff] },
] as const;

export interface DecodedText {
  /** Canonical name of the encoding used: utf-8, utf-16le, utf-16be, or the --encoding given. */
  encoding: string;
  /** The decoded prefix, without BOM: what the delimiter is sniffed from. */
  prefixText: string;
  /** The whole input as text, prefix first; may be iterated once. */
  text: AsyncIterable<string>;
}

/** The byte order mark the bytes start with, if any: the encoding it names, and its bytes. */
export function byteOrderMark(bytes: Uint8Array): (typeof BOMS)[number] | undefined {
  return BOMS.find((bom) => bom.bytes.every((byte, i) => bytes[i] === byte));
}

/** iconv-lite, loaded when a file is not UTF-8 (UTF-8, most files, is decoded by Node itself). */
let iconvModule: typeof IconvLite | undefined;
function iconv(): typeof IconvLite {
  iconvModule ??= createRequire(import.meta.url)('iconv-lite') as typeof IconvLite;
  return iconvModule;
}

/** A streaming decoder: write() each chunk, end() for what is left. */
interface Decoder {
  write(bytes: Buffer): string;
  end(): string | undefined;
}

/** Whether an encoding name says UTF-8 (utf-8, utf8, UTF-8). */
export function isUtf8(name: string): boolean {
  return /^utf-?8$/i.test(name);
}

function decoderFor(encoding: string): Decoder {
  // What iconv-lite's own UTF-8 decoder is: Node's StringDecoder (U+FFFD for each bad sequence).
  if (isUtf8(encoding)) return new StringDecoder('utf8');
  return iconv().getDecoder(encoding, { stripBOM: false });
}

/** Fails early, before the file is opened, on an --encoding iconv-lite does not know. */
export function checkEncodingOption(name: string | undefined): void {
  if (name === undefined || isUtf8(name) || iconv().encodingExists(name)) return;
  throw new UsageError('unknown-encoding', `--encoding "${name}" is not an encoding jsm-provision can read.`, encodingHint(name));
}

/** For the label an editor shows ("ANSI", LibreOffice's "Western (Windows 1252)"): the name to give. */
function encodingHint(name: string): string {
  if (/^\s*ansi\s*$/i.test(name)) return '"ANSI" is what Windows calls its legacy code page: on Western European and American systems that is --encoding windows-1252';
  const windows = /windows[\s_-]*(\d{3,4})|\bcp[\s_-]*(\d{3,4})/i.exec(name);
  const iso = /iso[\s_-]*8859[\s_-]*(\d{1,2})/i.exec(name);
  const named = windows !== null ? `windows-${windows[1] ?? windows[2]}` : iso !== null ? `iso-8859-${iso[1]}` : undefined;
  if (named !== undefined && iconv().encodingExists(named)) return `give the encoding by its name: --encoding ${named}`;
  return 'Use a name such as utf-8, utf-16le, windows-1252, latin1 or iso-8859-15.';
}

/**
 * Chooses the encoding (a BOM, else --encoding, else UTF-8) and streams the decoded text.
 *
 * Invalid UTF-8: when the first 64 KiB (for most files, the whole file) are not valid UTF-8 we
 * refuse with a UsageError that suggests `--encoding windows-1252`, because then the file is
 * almost certainly in a legacy encoding and every name with an accent would be garbled. Bytes
 * that are invalid further on cannot stop the run any more (rows may already be on their way),
 * so they are decoded as U+FFFD and the rows holding them are marked invalid (see index.ts).
 */
export function decodeSource(source: ByteSource, option: string | undefined): DecodedText {
  // A workbook is named as what it is, whatever --encoding says.
  const spreadsheet = spreadsheetFormat(source.prefix);
  if (spreadsheet !== undefined) {
    throw new UsageError(
      'spreadsheet-not-csv',
      `${source.label} is ${spreadsheet.name}, not a CSV file: jsm-provision reads CSV text only.`,
      `${spreadsheet.save} Then import that .csv file.`,
    );
  }
  const other = otherFormat(source.prefix, source.label);
  if (other !== undefined) throw new UsageError('not-csv', `${source.label} is ${other.name}, not a CSV file of customers`, other.hint);
  const bom = byteOrderMark(source.prefix);
  if (option !== undefined && bom !== undefined && !sameUnicodeEncoding(option, bom.encoding)) {
    throw new UsageError(
      'encoding-conflict',
      `${source.label} starts with a ${bom.encoding.toUpperCase()} byte order mark, but the encoding ${option} was asked for (--encoding, or "encoding" in the config file).`,
      `Leave out --encoding (or give the one the mark names where a config file sets another): files with a byte order mark are read as what it says.`,
    );
  }
  const encoding = bom?.encoding ?? option?.toLowerCase() ?? 'utf-8';
  if (bom === undefined && option === undefined) checkLooksLikeUtf8(source);
  // A legacy --encoding for what is UTF-8: refused at once from the first bytes, else at the end
  // (the first accented name may come after thousands of rows; nothing is written before the end).
  const legacy = bom === undefined && option !== undefined && isLegacy(option) ? new Utf8Watch(source.prefix) : undefined;
  if (legacy?.decided()) throw utf8ButLegacy(source.label, option as string, legacy.line);

  const decoder = decoderFor(encoding);
  const prefixText = decoder.write(source.prefix.subarray(bom?.bytes.length ?? 0));
  async function* text(): AsyncGenerator<string> {
    if (prefixText !== '') yield prefixText;
    for await (const chunk of source.rest) {
      legacy?.add(chunk);
      const part = decoder.write(chunk);
      if (part !== '') yield part;
    }
    const tail = decoder.end();
    if (tail !== undefined && tail !== '') yield tail;
    if (legacy?.end()) throw utf8ButLegacy(source.label, option as string, legacy.line);
  }
  return { encoding, prefixText, text: text() };
}

/** "UTF8", "utf-16le", "ucs2" and "utf16" (BOM decides) agree with the BOM they name. */
function sameUnicodeEncoding(option: string, bomEncoding: string): boolean {
  const name = option.toLowerCase().replace(/[^a-z0-9]/g, '');
  const bom = bomEncoding.replace('-', '');
  return name === bom || name === 'utf16' || (name === 'ucs2' && bom === 'utf16le');
}

/** A legacy single- or multi-byte encoding: not UTF-8, UTF-16 or UTF-32. */
function isLegacy(option: string): boolean {
  return !isUtf8(option) && !/^(utf-?(16|32)|ucs-?2)/i.test(option);
}

/**
 * Watches the bytes read under a legacy --encoding (windows-1252, latin1, …; often set once in a
 * config file) for a file that is UTF-8 after all: it has non-ASCII bytes and all of them make
 * valid UTF-8 characters, which text really saved as windows-1252 almost never does ("é" is one
 * byte there). Read as what was asked, every accented name would be garbled ("José" as "JosÃ©").
 */
class Utf8Watch {
  #utf8 = new TextDecoder('utf-8', { fatal: true });
  #valid = true;
  #lines = 1;
  /** The line of the first non-ASCII byte, once seen. */
  line = 0;

  constructor(prefix: Buffer) {
    this.add(prefix);
  }

  add(bytes: Buffer): void {
    if (!this.#valid) return;
    if (this.line === 0) {
      let i = 0;
      while (i < bytes.length && (bytes[i] as number) < 0x80) i++;
      for (let at = bytes.indexOf(0x0a); at >= 0 && at < i; at = bytes.indexOf(0x0a, at + 1)) this.#lines++;
      if (i < bytes.length) this.line = this.#lines;
    }
    try {
      this.#utf8.decode(bytes, { stream: true });
    } catch {
      this.#valid = false;
    }
  }

  /** From the first bytes: non-ASCII seen, and valid UTF-8 so far (the prefix: most files whole). */
  decided(): boolean {
    return this.#valid && this.line > 0;
  }

  /** At the end: true when the whole file was UTF-8 with some non-ASCII in it. */
  end(): boolean {
    if (!this.#valid) return false;
    try {
      this.#utf8.decode();
    } catch {
      return false;
    }
    return this.line > 0;
  }
}

function utf8ButLegacy(label: string, option: string, line: number): UsageError {
  return new UsageError(
    'encoding-conflict',
    `${label} is UTF-8 (line ${line} has a character written as UTF-8), but the encoding ${option} was asked for (--encoding, or "encoding" in the config file): read as ${option}, every accented name would be garbled.`,
    'Leave out --encoding for this file, or give --encoding utf-8 where a config file sets another.',
  );
}

/** Refuses, with the fix, input that is clearly not UTF-8 text (see decodeSource). */
function checkLooksLikeUtf8(source: ByteSource): void {
  const { prefix, label } = source;
  if (prefix.includes(0)) {
    // NUL never appears in text; UTF-16 without a BOM puts one beside every ASCII character.
    const odd = countNulAt(prefix, 1);
    const even = countNulAt(prefix, 0);
    const guess = odd > even ? 'utf-16le' : 'utf-16be';
    throw new UsageError(
      'bad-encoding',
      `${label} contains NUL bytes: it is UTF-16 text without a byte order mark, or not text at all.`,
      `If it is text, run again with --encoding ${guess}.`,
    );
  }
  try {
    // stream: true, so a character cut in two at the end of the prefix is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true });
  } catch {
    const text = prefix.toString('utf8');
    const line = text.slice(0, text.indexOf(REPLACEMENT)).split(/\r\n|\r|\n/).length;
    throw new UsageError(
      'bad-encoding',
      `${label} is not UTF-8: line ${line} has bytes that are not valid UTF-8. It was probably saved as windows-1252 ("ANSI") or another legacy encoding.`,
      'Run again with --encoding windows-1252 (or the encoding it was saved in, e.g. latin1), or save it from Excel as "CSV UTF-8".',
    );
  }
}

const EXCEL_SAVE = 'In Excel: File > Save As (Save a Copy), file type "CSV UTF-8 (Comma delimited) (*.csv)".';
const CALC_SAVE = 'In LibreOffice Calc: File > Save As, file type "Text CSV (.csv)", then character set "Unicode (UTF-8)".';
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * Spreadsheet files told by their first bytes (never by the file name): a zip (Office Open XML
 * .xlsx, OpenDocument .ods, Apple Numbers), an OLE2 compound file (Excel 97-2003 .xls), or the
 * HTML table some CRMs download as ".xls". Each gets its real name and how to save it as CSV UTF-8.
 */
export function spreadsheetFormat(prefix: Buffer): { name: string; save: string } | undefined {
  if (prefix.subarray(0, 4).equals(ZIP)) {
    // An OpenDocument file starts with its uncompressed "mimetype" entry; OOXML names xl/ parts.
    const head = prefix.subarray(0, Math.min(prefix.length, 64 * 1024)).toString('latin1');
    if (head.includes('application/vnd.oasis.opendocument.spreadsheet')) {
      return { name: 'an OpenDocument spreadsheet (.ods)', save: `${CALC_SAVE} In Excel: ${EXCEL_SAVE.slice('In Excel: '.length)}` };
    }
    if (head.includes('xl/') || head.includes('[Content_Types].xml')) {
      return { name: 'an Excel workbook (.xlsx, a zip archive)', save: `${EXCEL_SAVE} ${CALC_SAVE}` };
    }
    if (head.includes('Index/Document.iwa')) {
      return { name: 'an Apple Numbers document', save: 'In Numbers: File > Export To > CSV, text encoding "Unicode (UTF-8)".' };
    }
    return { name: 'a zip archive (an Excel .xlsx workbook?)', save: `If it is a spreadsheet: ${EXCEL_SAVE}` };
  }
  if (prefix.subarray(0, 8).equals(OLE2)) {
    return { name: 'a legacy Excel 97-2003 workbook (.xls, binary)', save: `${EXCEL_SAVE} ${CALC_SAVE}` };
  }
  const start = prefix.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  if (/^(<!doctype html|<html|<table|<\?xml[^>]*>\s*<\?mso-application)/.test(start)) {
    return { name: 'an HTML or XML page saved as a spreadsheet (a "formatted report" .xls export?)', save: `Export it again as CSV, or open it in Excel and ${EXCEL_SAVE.slice('In Excel: '.length).replace(/^F/, 'use F')}` };
  }
  return undefined;
}

/**
 * Files of this tool, or mail, given to import-csv: the store (its default name is the CSV's
 * neighbour), a plan, a JSON report, an mbox or .eml. Read as CSV they would be "no email column"
 * with the whole first line (a store's is all of it) as its columns, and a --map hint of nonsense.
 */
export function otherFormat(prefix: Buffer, label: string): { name: string; hint: string } | undefined {
  const bom = byteOrderMark(prefix);
  const head = bom?.encoding.startsWith('utf-16') ? '' : prefix.subarray(bom?.bytes.length ?? 0, 64 * 1024).toString('utf8');
  const start = head.trimStart();
  const stdin = label === 'standard input';
  const file = stdin ? '-' : shellWord(label, '"');
  if (/^\{\s*("|\})/.test(start) || /^\[\s*(\{|"|\[|\])/.test(start)) {
    if (/^\{\s*"format"\s*:\s*"jsm-provision-plan"/.test(start)) {
      return { name: 'a plan made by import-csv --plan', hint: stdin ? 'save it to a file, then do it with: jsm-provision apply <that file>' : `do it with: jsm-provision apply ${file}` };
    }
    if (/^\{\s*"format"\s*:\s*\d+\s*,\s*"generation"/.test(start)) {
      return { name: 'the jsm-provision store (a target, given by --target)', hint: 'give import-csv the CSV file to import; the store is where customers go (--target, default ./jsm-store.json)' };
    }
    return { name: 'JSON', hint: 'import-csv reads CSV: save the list as CSV (a header line such as email,full name, then one customer a line); customers export writes that format' };
  }
  // An mbox starts with a "From " line; a message with header fields (the second a field too, or a folded line).
  const lines = start.split(/\r?\n/, 2);
  const field = /^[A-Za-z][\w-]*:[ \t]/;
  if (/^From \S+ .*\d{4}\s*$/.test(lines[0] ?? '') || (field.test(lines[0] ?? '') && (field.test(lines[1] ?? '') || /^[ \t]\S/.test(lines[1] ?? '')))) {
    return { name: 'mail (an mbox file or an email message)', hint: `import-mail reads mail: jsm-provision import-mail ${file} --exclude <the inbox's address or @domain> --dry-run` };
  }
  return undefined;
}

function countNulAt(bytes: Buffer, parity: 0 | 1): number {
  let count = 0;
  for (let i = parity; i < Math.min(bytes.length, 4096); i += 2) if (bytes[i] === 0) count++;
  return count;
}
