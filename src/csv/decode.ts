import iconv from 'iconv-lite';
import { UsageError } from '../core/errors.js';
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

/** Fails early, before the file is opened, on an --encoding iconv-lite does not know. */
export function checkEncodingOption(name: string | undefined): void {
  if (name === undefined || iconv.encodingExists(name)) return;
  throw new UsageError(
    'unknown-encoding',
    `--encoding "${name}" is not an encoding jsm-provision can read.`,
    'Use a name such as utf-8, utf-16le, windows-1252, latin1 or iso-8859-15.',
  );
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
  const bom = BOMS.find(({ bytes }) => bytes.every((byte, i) => source.prefix[i] === byte));
  if (option !== undefined && bom !== undefined && !sameUnicodeEncoding(option, bom.encoding)) {
    throw new UsageError(
      'encoding-conflict',
      `${source.label} starts with a ${bom.encoding.toUpperCase()} byte order mark, but --encoding ${option} was given.`,
      `Leave out --encoding: files with a byte order mark are read as what it says.`,
    );
  }
  const encoding = bom?.encoding ?? option?.toLowerCase() ?? 'utf-8';
  if (bom === undefined && option === undefined) checkLooksLikeUtf8(source);

  const decoder = iconv.getDecoder(encoding, { stripBOM: false });
  const prefixText = decoder.write(source.prefix.subarray(bom?.bytes.length ?? 0));
  async function* text(): AsyncGenerator<string> {
    if (prefixText !== '') yield prefixText;
    for await (const chunk of source.rest) {
      const part = decoder.write(chunk);
      if (part !== '') yield part;
    }
    const tail = decoder.end();
    if (tail !== undefined && tail !== '') yield tail;
  }
  return { encoding, prefixText, text: text() };
}

/** "UTF8", "utf-16le", "ucs2" and "utf16" (BOM decides) agree with the BOM they name. */
function sameUnicodeEncoding(option: string, bomEncoding: string): boolean {
  const name = option.toLowerCase().replace(/[^a-z0-9]/g, '');
  const bom = bomEncoding.replace('-', '');
  return name === bom || name === 'utf16' || (name === 'ucs2' && bom === 'utf16le');
}

/** Refuses, with the fix, input that is clearly not UTF-8 text (see decodeSource). */
function checkLooksLikeUtf8(source: ByteSource): void {
  const { prefix, label } = source;
  if (prefix.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw new UsageError(
      'bad-encoding',
      `${label} is a zip archive (an Excel .xlsx workbook?), not a CSV file.`,
      'In Excel, use File > Save As > "CSV UTF-8 (Comma delimited)" and import that file.',
    );
  }
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

function countNulAt(bytes: Buffer, parity: 0 | 1): number {
  let count = 0;
  for (let i = parity; i < Math.min(bytes.length, 4096); i += 2) if (bytes[i] === 0) count++;
  return count;
}
