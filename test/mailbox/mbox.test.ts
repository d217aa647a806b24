import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { splitMbox, unescapeFromLines, type MboxMessage } from '../../src/mailbox/mbox.js';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function split(text: string | Buffer, size = 1 << 20, maxBytes?: number): Promise<MboxMessage[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: MboxMessage[] = [];
  for await (const m of splitMbox(chunked(bytes, size), maxBytes === undefined ? {} : { maxBytes })) out.push(m);
  return out;
}

const texts = (messages: MboxMessage[]) => messages.map((m) => m.raw.toString('utf8'));

const MBOX = [
  'From a@example.com Mon Mar 10 09:12:44 2025',
  'From: A <a@example.com>',
  'Subject: one',
  '',
  'first line',
  '>From the logs, it was full.',
  '>>From quoted twice',
  'not >From at the start',
  '',
  'From b@example.com Tue Mar 11 10:00:00 2025',
  'From: B <b@example.com>',
  '',
  'Fromage is not a From_ line; From without a space neither:',
  'From',
  '',
].join('\n');

const EXPECTED = [
  'From: A <a@example.com>\nSubject: one\n\nfirst line\nFrom the logs, it was full.\n>From quoted twice\nnot >From at the start\n',
  'From: B <b@example.com>\n\nFromage is not a From_ line; From without a space neither:\nFrom\n',
];

describe('splitMbox', () => {
  it('splits at From_ lines, drops them and the blank line after each message, and un-escapes >From lines', async () => {
    const messages = await split(MBOX);
    expect(texts(messages)).toEqual(EXPECTED);
    expect(messages.map((m) => [m.index, m.truncated])).toEqual([[1, false], [2, false]]);
    // In the mailbox: the blank line after the message and the two escaping '>' besides.
    expect(messages.map((m) => m.size)).toEqual([Buffer.byteLength(EXPECTED[0] as string) + 1 + 2, Buffer.byteLength(EXPECTED[1] as string)]);
  });

  it('gives the same messages however the bytes are cut into chunks', async () => {
    for (const size of [1, 2, 3, 5, 6, 7, 13, 64]) {
      expect(texts(await split(MBOX, size)), `chunks of ${size}`).toEqual(EXPECTED);
    }
  });

  it('reads CRLF mailboxes and a last message without a final line break', async () => {
    const crlf = 'From x\r\nFrom: a@example.com\r\n\r\nhi\r\n\r\nFrom y\r\nFrom: b@example.com\r\n\r\nbye';
    for (const size of [1, 4, 1024]) {
      expect(texts(await split(crlf, size))).toEqual(['From: a@example.com\r\n\r\nhi\r\n', 'From: b@example.com\r\n\r\nbye']);
    }
  });

  it('an unescaped body line starting "From " stays in its message when the next line is not a header', async () => {
    const text = [
      'From ana@example.com Mon Nov 30 09:00:00 2026',
      'From: Ana Ruiz <ana@example.com>',
      'Subject: quote',
      '',
      'As my boss wrote:',
      'From the desk of Bob: we ship on Friday.',
      '>From: Bob <bob@example.com>',
      'From 9 to 5 we answer.',
      '',
      'From bob@example.com Mon Nov 30 10:00:00 2026',
      'From: Bob Roe <bob@example.com>',
      '',
      'From now on it works.',
      '',
    ].join('\n');
    for (const size of [1, 3, 7, 50, 1 << 20]) {
      const messages = await split(text, size);
      expect(texts(messages)).toEqual([
        // ">From:" is a quoted body line, not a header field: "From the desk" does not split before it.
        'From: Ana Ruiz <ana@example.com>\nSubject: quote\n\nAs my boss wrote:\nFrom the desk of Bob: we ship on Friday.\n>From: Bob <bob@example.com>\nFrom 9 to 5 we answer.\n',
        'From: Bob Roe <bob@example.com>\n\nFrom now on it works.\n',
      ]);
    }
  });

  it('a From_ line followed by a header splits, with CRLF lines and a header name with white space before its colon', async () => {
    const text = 'From a\r\nFrom: a@example.com\r\n\r\nhi\r\n\r\nFrom b\r\nReceived : by mx\r\nFrom: b@example.com\r\n\r\nyo\r\n';
    for (const size of [1, 5, 1 << 20]) {
      expect(texts(await split(text, size))).toEqual(['From: a@example.com\r\n\r\nhi\r\n', 'Received : by mx\r\nFrom: b@example.com\r\n\r\nyo\r\n']);
    }
  });

  it('keeps at most maxBytes of each message, reads past the rest, and says so', async () => {
    const big = `From x\nFrom: a@example.com\n\n${'y'.repeat(10_000)}\n\nFrom z\nFrom: b@example.com\n\nshort\n`;
    for (const size of [7, 4096]) {
      const [first, second] = await split(big, size, 100);
      expect(first?.raw.toString()).toBe(`From: a@example.com\n\n${'y'.repeat(100 - 21)}`);
      expect(first?.truncated).toBe(true);
      expect(first?.size).toBe(21 + 10_000 + 2);
      expect(second?.raw.toString()).toBe('From: b@example.com\n\nshort\n');
      expect(second?.truncated).toBe(false);
    }
  });

  it('ignores a blank preamble and yields nothing for an empty input', async () => {
    expect(texts(await split('\n\nFrom x\nFrom: a@example.com\n'))).toEqual(['From: a@example.com\n']);
    expect(await split('')).toEqual([]);
  });

  it('splits the shipped two-message fixture and un-escapes its >From body line', async () => {
    const bytes = await readFile(fileURLToPath(new URL('../../fixtures/mail/archive.mbox', import.meta.url)));
    const messages = await split(bytes, 16);
    expect(messages).toHaveLength(2);
    expect(messages[0]?.raw.toString()).toContain('\nFrom the logs it looks like the quota was reached.\n');
    expect(messages[1]?.raw.toString().startsWith('From: Grace Kim <grace.kim@fabrikam.example>\n')).toBe(true);
  });
});

describe('unescapeFromLines', () => {
  it('strips one > from lines matching /^>+From / and nothing else', () => {
    const input = '>From a\n>>>From b\n> From c\nx>From d\n>From\n';
    expect(unescapeFromLines(Buffer.from(input)).toString()).toBe('From a\n>>From b\n> From c\nx>From d\n>From\n');
  });
});
