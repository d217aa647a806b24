import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { splitMbox } from './mbox.js';

/** What one command-line argument names: standard input, one file, or a folder's files. */
export interface MailSource {
  /** The argument as given. */
  arg: string;
  kind: 'stdin' | 'file' | 'folder';
  /** The files to read, in order (a folder's, recursively, sorted by name). */
  files: string[];
  /** Junk, spam, trash, sent and drafts folders (and mbox files) inside a folder, not read. */
  skipped: string[];
  /** Where the names are read: relative ones in `cwd`, `-` from `stdin`. */
  from: SourcePlace;
}

/** The folder relative names are in, and standard input. */
export interface SourcePlace {
  cwd: string;
  stdin: NodeJS.ReadableStream & { destroy?(): void };
}

/** One message as read: where it is, and its first bytes. */
export interface RawMessage {
  /** `file` for a single message, `file#n` for the n-th message (from 1) of an mbox; `-` is standard input. */
  line: string;
  raw: Buffer;
  truncated: boolean;
}

/** What reading found besides messages. */
export interface ReadStats {
  files: number;
  /** Files inside folders that were neither mbox nor a message: left alone. */
  ignored: string[];
  /** Junk, spam, trash, sent and drafts folders found inside the folders given, not read. */
  skippedFolders: string[];
}

/** How a file's content begins: an mbox (a From_ line), one message (a header field), or neither. */
export type ContentKind = 'mbox' | 'message' | 'other';

const READ_CHUNK = 256 * 1024;
// The first line of a message is a header field: a printable name, optional white space, a colon.
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/** Tells an mbox from one message by content (never by the file name). */
export function contentKind(prefix: Buffer): ContentKind {
  let start = 0;
  while (start < prefix.length && (prefix[start] === 0x0a || prefix[start] === 0x0d)) start++;
  const head = prefix.subarray(start, start + 1000).toString('latin1');
  if (head.startsWith('From ')) return 'mbox';
  return FIELD_LINE.test(head) ? 'message' : 'other';
}

/**
 * Checks every argument before anything is read: missing or unreadable paths stop the command
 * here (exit 2), naming the path, before the target is touched.
 */
export async function resolveSources(args: readonly string[], from: SourcePlace): Promise<MailSource[]> {
  if (args.filter((a) => a === '-').length > 1) {
    throw new UsageError('bad-argument', '- (standard input) may be given only once');
  }
  const sources: MailSource[] = [];
  for (const arg of args) {
    if (arg === '-') {
      sources.push({ arg, kind: 'stdin', files: ['-'], skipped: [], from });
      continue;
    }
    const info = await stat(resolve(from.cwd, arg)).catch((error: unknown) => {
      throw unreadable(arg, error);
    });
    // A folder named on the command line is read whatever its name: only what is inside is skipped.
    if (info.isDirectory()) {
      const skipped: string[] = [];
      sources.push({ arg, kind: 'folder', files: await walk(arg, skipped, from.cwd), skipped, from });
    } else sources.push({ arg, kind: 'file', files: [arg], skipped: [], from });
  }
  return sources;
}

/**
 * Folders (and mbox files) whose mail is not from customers: spam, the team's own sent mail and
 * drafts, deleted mail. Matched without regard to case on the last part of the name, so Maildir++
 * (`.Junk`, `.INBOX.Sent`), IMAP and Outlook (`Sent Items`, `Deleted Items`, `Junk E-mail`), Gmail
 * (`[Gmail]/Spam`, `Sent Mail`), Thunderbird (`Junk`, `Trash.sbd`) and Takeout (`Spam.mbox`) names all count.
 */
const SKIPPED_FOLDER =
  /^(junk|junk[ -]?e-?mail|junk[ -]?mail|spam|bulk[ -]?mail|trash|bin|deleted|deleted[ -](items|messages)|sent|sent[ -](items|messages|mail)|drafts?|outbox)$/i;

export function isSkippedFolderName(name: string): boolean {
  const bare = name.replace(/\.(mbox|mbx|sbd)$/i, '');
  // Maildir++ names subfolders ".Parent.Child": the last part says what it is.
  const last = bare.startsWith('.') ? bare.slice(bare.lastIndexOf('.') + 1) : bare;
  return SKIPPED_FOLDER.test(last.trim());
}

const DIGITS_OR_NOT = /\d+|\D+/g;

/**
 * File names in the order their messages came: runs of digits compare as numbers, so an MH folder's
 * message 9 comes before 10, `mail-2.eml` before `mail-10.eml`, and Maildir names (a timestamp
 * first) by time; the rest by code unit, the same on every machine (no locale).
 */
export function compareNames(a: string, b: string): number {
  const left = a.match(DIGITS_OR_NOT) ?? [];
  const right = b.match(DIGITS_OR_NOT) ?? [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string;
    const y = right[i] as string;
    if (x === y) continue;
    const xDigits = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const yDigits = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (xDigits && yDigits) {
      const xn = x.replace(/^0+(?=\d)/, '');
      const yn = y.replace(/^0+(?=\d)/, '');
      if (xn.length !== yn.length) return xn.length - yn.length;
      if (xn !== yn) return xn < yn ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (left.length !== right.length) return left.length - right.length;
  // Equal as numbers (`01` and `1`): by code unit, so the order is still total.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A folder's regular files, recursively, sorted by name (numbers as numbers, see compareNames) so runs are repeatable. Symbolic links to
 * folders are not followed. A Maildir's `tmp/` (messages still being delivered) is never read;
 * junk, sent, trash and drafts folders inside it are not read, and are named in `skipped`.
 */
async function walk(dir: string, skipped: string[], cwd: string): Promise<string[]> {
  const entries = await readdir(resolve(cwd, dir), { withFileTypes: true }).catch((error: unknown) => {
    throw unreadable(dir, error);
  });
  entries.sort((a, b) => compareNames(a.name, b.name));
  const isMaildir = entries.some((entry) => entry.isDirectory() && (entry.name === 'cur' || entry.name === 'new'));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && isMaildir && entry.name === 'tmp') continue;
    if ((entry.isDirectory() || entry.isFile()) && isSkippedFolderName(entry.name)) {
      skipped.push(path);
      continue;
    }
    if (entry.isDirectory()) files.push(...(await walk(path, skipped, cwd)));
    else if (entry.isFile()) files.push(path);
    else if (entry.isSymbolicLink()) {
      const target = await stat(resolve(cwd, path)).catch(() => null);
      if (target?.isFile()) files.push(path);
    }
  }
  return files;
}

/**
 * Every message of every source, in order, one at a time: at most `maxBytes` of each is held.
 * A source that holds no message at all stops the command (exit 2); nothing has been written then,
 * since the plan reads all input before anything is written.
 */
export async function* readMessages(sources: readonly MailSource[], maxBytes: number, stats: ReadStats): AsyncGenerator<RawMessage> {
  for (const source of sources) {
    stats.skippedFolders.push(...source.skipped);
    let found = 0;
    for (const file of source.files) {
      const label = file;
      const chunks = await openChunks(file, source.from);
      try {
        const { kind, replay } = await sniff(chunks, label);
        if (kind === 'other') {
          if (source.kind === 'folder') {
            stats.ignored.push(file);
            continue;
          }
          throw new UsageError(
            'not-mail',
            `${source.kind === 'stdin' ? 'standard input' : file} is neither an mbox file nor an email message`,
            'give .eml files, folders of them, or mbox files (each message begins with a "From " line)',
          );
        }
        stats.files++;
        if (kind === 'message') {
          found++;
          yield { line: label, ...(await firstBytes(replay, maxBytes, label)) };
          continue;
        }
        for await (const message of guard(splitMbox(replay, { maxBytes }), label)) {
          found++;
          yield { line: `${label}#${message.index}`, raw: message.raw, truncated: message.truncated };
        }
      } finally {
        chunks.close();
      }
    }
    if (found === 0) {
      const what = source.kind === 'stdin' ? 'standard input' : source.arg;
      throw new UsageError(
        'no-messages',
        `${what} holds no email messages`,
        source.kind === 'folder' ? 'give a folder of .eml files or mbox files' : 'give an .eml file or an mbox file',
      );
    }
  }
}

interface Chunks extends AsyncIterable<Buffer> {
  close(): void;
}

async function openChunks(file: string, from: SourcePlace): Promise<Chunks> {
  if (file === '-') {
    const stdin = from.stdin;
    return { [Symbol.asyncIterator]: () => stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>, close: () => stdin.destroy?.() };
  }
  const handle = await open(resolve(from.cwd, file), 'r').catch((error: unknown) => {
    throw unreadable(file, error);
  });
  const stream = handle.createReadStream({ highWaterMark: READ_CHUNK });
  return { [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](), close: () => stream.destroy() };
}

/** Reads enough of the start to tell what the content is; `replay` yields every byte again from the start. */
async function sniff(chunks: AsyncIterable<Buffer>, label: string): Promise<{ kind: ContentKind; replay: AsyncIterable<Buffer> }> {
  const iterator = guard(chunks, label)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let done = false;
  // A first line is rarely longer than a few hundred bytes; 1,000 printable bytes decide.
  while (size < 1_000 + 16) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { kind: contentKind(Buffer.concat(head)), replay: replay() };
}

/** The first `maxBytes` of a single message; the rest is not read. */
async function firstBytes(chunks: AsyncIterable<Buffer>, maxBytes: number, label: string): Promise<{ raw: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of guard(chunks, label)) {
    parts.push(chunk);
    size += chunk.length;
    if (size > maxBytes) break;
  }
  const raw = Buffer.concat(parts);
  return size > maxBytes ? { raw: raw.subarray(0, maxBytes), truncated: true } : { raw, truncated: false };
}

/** Turns a read error (EIO, EISDIR ...) into a usage error that names the file. */
async function* guard<T>(items: AsyncIterable<T>, label: string): AsyncGenerator<T> {
  try {
    for await (const item of items) yield item;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw unreadable(label, error);
  }
}

function unreadable(path: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = error instanceof Error ? error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '') : String(error);
  return new UsageError(
    'unreadable-input',
    `Cannot read ${path === '-' ? 'standard input' : path}: ${why}${code !== undefined && !why.includes(code) ? ` (${code})` : ''}.`,
    'Check the path and that you may read it, or pass - to read one message from standard input.',
  );
}
