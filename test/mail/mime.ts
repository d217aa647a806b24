/** Just enough MIME reading for the mail tests: parts of a multipart message, decoded bodies. */
import { headerValues, parseHeaders, type HeaderField } from '../support/smtp-sink.js';

export interface Part {
  headers: HeaderField[];
  contentType: string;
  body: string;
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'binary').toString('utf8');
}

function decodeBody(headers: HeaderField[], body: string): string {
  const encoding = (headerValues({ headers }, 'Content-Transfer-Encoding')[0] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return Buffer.from(body, 'binary').toString('utf8');
}

function splitHead(raw: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  return match ? { head: raw.slice(0, match.index), body: raw.slice(match.index + match[0].length) } : { head: raw, body: '' };
}

/** The leaf parts of a message given as a binary string (as the sink and the outbox files hold it). */
export function mimeParts(raw: string): Part[] {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head + '\r\n\r\n');
  const contentType = headerValues({ headers }, 'Content-Type')[0] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\//i.test(contentType) || !boundary) {
    return [{ headers, contentType: contentType.split(';')[0]!.trim().toLowerCase(), body: decodeBody(headers, body) }];
  }
  const sections = body.split(`--${boundary}`).slice(1);
  const parts: Part[] = [];
  for (const section of sections) {
    if (section.startsWith('--')) break;
    parts.push(...mimeParts(section.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
  }
  return parts;
}

export function textPart(raw: string): string {
  const part = mimeParts(raw).find((p) => p.contentType === 'text/plain');
  if (!part) throw new Error('no text/plain part');
  return part.body;
}

export function htmlPart(raw: string): string {
  const part = mimeParts(raw).find((p) => p.contentType === 'text/html');
  if (!part) throw new Error('no text/html part');
  return part.body;
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=) in a header value. */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=(\s+(?==\?))?/gi, (_m, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}
