import iconv from 'iconv-lite';

/**
 * The header block of a message: only the headers are read (a sender never hides in the body), which
 * keeps a 100,000-message mailbox fast. Decoding of names (RFC 2047 encoded words, any charset) and
 * address parsing are mailparser's (`parseAddressHeader`); this file only finds and unfolds the fields.
 */

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** The value with folding undone (CRLF + white space -> the white space), untrimmed inside. */
  value: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes before the first empty line (or all of them when a message has no body). */
export function headerBlock(raw: Buffer): Buffer {
  let at = raw.indexOf('\n');
  // A message may begin with an empty line only when it has no headers at all.
  if (at === 0 || (at === 1 && raw[0] === 0x0d)) return raw.subarray(0, 0);
  while (at >= 0) {
    const next = at + 1;
    if (raw[next] === 0x0a) return raw.subarray(0, next);
    if (raw[next] === 0x0d && raw[next + 1] === 0x0a) return raw.subarray(0, next);
    at = raw.indexOf('\n', next);
  }
  return raw;
}

/**
 * Header text: UTF-8 when the bytes are valid UTF-8 (RFC 6532 allows raw UTF-8 in headers),
 * otherwise Latin-1 (windows-1252), the charset old mailers wrote raw 8-bit names in.
 */
export function headerText(block: Buffer): string {
  try {
    return utf8.decode(block);
  } catch {
    // windows-1252, as mailers meant Latin-1: 0x92 is ’ (O’Brien), not a control character. iconv-lite,
    // since Node's TextDecoder decodes the windows-1252 label as plain ISO-8859-1.
    return iconv.decode(block, 'windows-1252');
  }
}

/** Splits a header block into its fields, in order, folding undone. Lines that are not fields are dropped. */
export function parseHeaderFields(text: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === '' || /[^\x21-\x7e]/.test(name)) continue;
    fields.push({ name, value: line.slice(colon + 1) });
  }
  return fields;
}

/** The fields of a message, read from its raw bytes. */
export function messageHeaders(raw: Buffer): Headers {
  return new Headers(parseHeaderFields(headerText(headerBlock(raw))));
}

/** Header lookup by name, without regard to case. */
export class Headers {
  constructor(readonly fields: readonly HeaderField[]) {}

  /** The first value of a field, trimmed; undefined when the message has none. */
  first(name: string): string | undefined {
    const found = this.fields.find((f) => f.name === name);
    return found ? found.value.trim() : undefined;
  }

  /** Every value of a field, in order (Cc may appear more than once). */
  all(name: string): string[] {
    return this.fields.filter((f) => f.name === name).map((f) => f.value);
  }
}
