import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { keepOwner, notAFile, openNoFollow, readFailure, symlinkRefused, syncFolder, syncHandle, writeAll, writeFailure } from '../util/atomic-file.js';
import { testHook } from '../util/test-hooks.js';
import type { InvitationRecord } from '../core/types.js';
import type { StoreData } from './format.js';
import { setInvitation } from './status-counts.js';

/**
 * The store's log (`<store>.journal`): what changed since the snapshot (`<store>`) was written, as
 * JSON Lines. Its first line names the snapshot it continues:
 *
 *   {"log":2,"generation":7}
 *
 * and every later line is one batch, a piece of the store in the snapshot's own shape, with a
 * checksum of the line's text before it:
 *
 *   {"customers":{"ann@x.org":{...}},"invitations":{"ITH":{"ann@x.org":{...}}},"checksum":"sha1:…"}
 *
 * A batch sets the records it holds (a customer and the invitation they are owed are always in the
 * same line: one write). A line is in the store once it ends with its line break: a line cut short
 * by a kill or a full disk is not, and the next append cuts it off. A log whose generation is older
 * than the snapshot's was folded into it already (a compaction that was cut short) and is ignored.
 *
 * Format-1 stores kept a journal of ledger entries only (`{"p":…,"k":…,"v":…}` per line, no header
 * line): still read, and folded into the snapshot by the first write, which upgrades the store.
 */
export interface JournalEntry {
  /** project */
  p: string;
  /** lower-cased email */
  k: string;
  /** the record as it now is */
  v: InvitationRecord;
}

export const LOG_FORMAT = 2;

export function applyEntry(data: StoreData, entry: JournalEntry): void {
  setInvitation(data.invitations, entry.p, entry.k, entry.v);
}

/** One batch as read: records by kind, as in the snapshot (invitation records in compact form). */
export interface Batch {
  customers?: Record<string, unknown>;
  invitations?: Record<string, Record<string, unknown>>;
  /** Other kinds of records a later version logs: refused by this one (see readLog). */
  [kind: string]: unknown;
}

export interface LogRead {
  /** null: no header line (a format-1 journal, or an empty or missing log). */
  generation: number | null;
  /** Batches (a format-1 journal: its entries, one batch each), in order. */
  batches: Batch[];
  /** Per batch: true when its checksum matched (it was written by this tool as it is). */
  trusted: boolean[];
  /** Format-1 entries (no header line). */
  legacy: JournalEntry[];
  /** The byte offset after the last whole line. */
  end: number;
  /** Bytes after `end` that do not make a whole line: a writer died (or the disk filled) mid-append. */
  torn: boolean;
  /**
   * The last line is whole but has no line break (a file saved by an editor that leaves it out):
   * its checksum holds, so it was written whole. `end` is after it; the next append writes the
   * line break first.
   */
  unterminated: boolean;
  /** The file's size (bytes), for the compaction rule. */
  size: number;
}

/** Appends are written in pieces of about this many bytes. */
const WRITE_PIECE = 1 << 20;
/** Reads are made in pieces of this many bytes. */
const READ_PIECE = 4 << 20;

const HEADER = /^\{"log":(\d+),"generation":(\d+)\}$/;
const CHECKSUM = ',"checksum":"sha1:';

/** sha1 of a text, as the checksum of a batch line or of a snapshot. */
export function checksumOf(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * Reads the whole lines from `from` on (0: from the header). A missing log reads as empty. Throws a
 * plain Error (the caller names the file) for a line that is not JSON or not a batch.
 */
export async function readLog(path: string, from: number, knownGeneration: number | null = null): Promise<LogRead> {
  const empty: LogRead = { generation: knownGeneration, batches: [], trusted: [], legacy: [], end: from, torn: false, unterminated: false, size: 0 };
  let handle;
  try {
    // Never blocks: a FIFO put at its name would wait for a writer forever (refused below).
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...empty, end: 0 };
    if (code === 'ELOOP') throw symlinkRefused(path);
    throw readFailure(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(path, info);
    const { size } = info;
    if (size <= from) return { ...empty, end: Math.min(from, size), size };
    const out: LogRead = { ...empty, end: from, torn: false, size };
    /** Takes one whole line (without its line break, and without a CR before it: CRLF files). */
    const take = (raw: Buffer): void => {
      const line = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
      if (line.length === 0) return;
      if (first) {
        first = false;
        const header = HEADER.exec(line.toString('latin1'));
        if (header) {
          if (Number(header[1]) !== LOG_FORMAT) throw new Error(`it is a log of format ${header[1]}; this jsm-provision reads format ${LOG_FORMAT}`);
          out.generation = Number(header[2]);
          return;
        }
      }
      if (out.generation === null) {
        out.legacy.push(parseLegacyEntry(line.toString('utf8')));
        return;
      }
      const batch = JSON.parse(line.toString('utf8')) as Batch;
      if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) throw new Error(`a line is not a batch: ${line.subarray(0, 80).toString('utf8')}`);
      out.trusted.push(checksumMatches(line));
      delete batch.checksum;
      out.batches.push(batch);
    };
    // Read in pieces, a line at a time: never the whole log in memory at once. What follows the
    // last line break of a piece is moved to the front of the buffer and the next read goes after
    // it; a line longer than the buffer grows it.
    let first = from === 0;
    let position = from;
    let buffer = Buffer.alloc(Math.min(READ_PIECE, size - from));
    let held = 0;
    for (;;) {
      if (held === buffer.length) {
        const larger = Buffer.alloc(buffer.length * 2);
        buffer.copy(larger, 0, 0, held);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, held, buffer.length - held, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const filled = held + bytesRead;
      const text = buffer.subarray(0, filled);
      let offset = 0;
      for (;;) {
        const next = text.indexOf(0x0a, offset);
        if (next < 0) break;
        const line = text.subarray(offset, next);
        offset = next + 1;
        out.end += line.length + 1;
        take(line);
      }
      held = filled - offset;
      if (held > 0 && offset > 0) buffer.copy(buffer, 0, offset, filled);
    }
    // What follows the last line break: a line cut short (left out, and cut off by the next
    // append), unless it is a whole line that only lacks its line break: a batch whose checksum
    // holds, or the header.
    const rest = buffer.subarray(0, held);
    if (held > 0 && (first ? HEADER.test(rest.toString('latin1')) : out.generation !== null && checksumMatches(rest))) {
      take(rest);
      out.end += held;
      out.unterminated = true;
    } else {
      out.torn = held > 0;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** true when the line ends in the checksum of what precedes it: written by this tool as it is. */
function checksumMatches(line: Buffer): boolean {
  const tail = line.subarray(Math.max(0, line.length - 80));
  const at = tail.lastIndexOf(CHECKSUM);
  if (at < 0) return false;
  const start = line.length - tail.length + at;
  const rest = line.subarray(start + CHECKSUM.length).toString('latin1');
  return rest.length === 42 && rest.endsWith('"}') && rest.slice(0, 40) === checksumOf(line.subarray(0, start));
}

function parseLegacyEntry(line: string): JournalEntry {
  const raw = JSON.parse(line) as Partial<JournalEntry>;
  if (typeof raw.p !== 'string' || typeof raw.k !== 'string' || raw.v === null || typeof raw.v !== 'object') {
    throw new Error(`a line is not a ledger entry: ${line.slice(0, 80)}`);
  }
  return { p: raw.p, k: raw.k, v: raw.v };
}

/** The header line that starts a log continuing the snapshot of `generation`. */
export function headerLine(generation: number): string {
  return `{"log":${LOG_FORMAT},"generation":${generation}}\n`;
}

/**
 * A batch line (with its line break) from the JSON text of the batch without its closing brace, as
 * the bytes to write: made into bytes once, and the checksum taken of those bytes.
 */
export function batchLine(open: string): Buffer {
  const body = Buffer.from(open, 'utf8');
  return Buffer.concat([body, Buffer.from(`${CHECKSUM}${checksumOf(body)}"}\n`, 'latin1')]);
}

export interface Append {
  /** Where the last whole line ends (the offset to write at). */
  end: number;
  /** true: cut what follows `end` first (a torn line); also set when the log must start anew. */
  torn: boolean;
  /** true: the last line (ending at `end`) has no line break: written first. */
  unterminated?: boolean;
  /** Written first when given: the log starts anew (truncated to 0) with this header. */
  header?: string;
  /** The batch lines, each whole (with its line break). */
  lines: Iterable<Buffer>;
  /** The test hook step marking this append durable ('commit' for customers, else 'append'). */
  step: 'commit' | 'append';
}

/**
 * Appends batch lines durably: every byte checked, then fdatasync. Never through a symbolic link.
 * Returns the new end offset. On failure (a full disk) the log is cut back to where it ended, so it
 * holds only whole lines, and the error names the file and the cause.
 */
export async function appendLog(path: string, append: Append): Promise<number> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK);
  } catch (error) {
    throw writeFailure(path, error);
  }
  const start = append.header !== undefined ? 0 : append.end;
  let end = start;
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(path, info);
    await keepOwner(handle, path, info);
    if (append.torn || append.header !== undefined) await handle.truncate(start);
    try {
      // Written in pieces of about a megabyte; the last two bytes (the closing brace and the line
      // break) are held back and written after the test hook: a kill there leaves a last line that
      // is not whole (its checksum cannot hold: a line lacking only its break would be kept).
      let pending: Buffer[] = append.header !== undefined ? [Buffer.from(append.header, 'utf8')] : append.unterminated ? [Buffer.from('\n')] : [];
      let size = pending[0]?.length ?? 0;
      let at = start;
      for (const line of append.lines) {
        pending.push(line);
        size += line.length;
        if (size >= WRITE_PIECE) {
          const bytes = Buffer.concat(pending, size);
          await writeAll(handle, path, bytes, at);
          at += bytes.length;
          pending = [];
          size = 0;
        }
      }
      const bytes = Buffer.concat(pending, size);
      const held = Math.min(2, bytes.length);
      if (bytes.length > held) await writeAll(handle, path, bytes.subarray(0, bytes.length - held), at);
      testHook('log-written', path);
      await writeAll(handle, path, bytes.subarray(bytes.length - held), at + bytes.length - held);
      at += bytes.length;
      await syncHandle(handle, path, true);
      end = at;
    } catch (error) {
      // Leave no partial line behind: what was not written whole is not in the log.
      await handle.truncate(start).catch(() => undefined);
      throw error;
    }
  } catch (error) {
    throw writeFailure(path, error);
  } finally {
    await handle.close();
  }
  if (start === 0) await syncFolder(dirname(path));
  testHook(append.step, path);
  return end;
}

/**
 * Starts the log anew after a new snapshot (a compaction or a full rewrite): just its header.
 * Returns its end, or null when there is no log (the first append makes it).
 */
export async function resetLog(path: string, generation: number): Promise<number | null> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw writeFailure(path, error);
  }
  const header = headerLine(generation);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(path, info);
    await handle.truncate(0);
    await writeAll(handle, path, header, 0);
    await syncHandle(handle, path, true);
  } catch (error) {
    // A log cut short here is empty or a stale header: either reads as nothing to add.
    throw writeFailure(path, error);
  } finally {
    await handle.close();
  }
  return Buffer.byteLength(header);
}
