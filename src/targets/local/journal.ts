import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openNoFollow, symlinkRefused, syncFolder, syncHandle, writeAll, writeFailure } from '../../util/atomic-file.js';
import { testHook } from '../../util/test-hooks.js';
import type { InvitationRecord } from '../../core/types.js';
import { invitationSchema, type StoreData } from './format.js';

/**
 * The store's journal (`<store>.journal`): invitation ledger changes as JSON lines, appended and
 * fdatasync'ed, so that marking invitations `sending` before each send costs a few hundred bytes,
 * not a rewrite of the whole store. The next full commit of the store folds them in and empties it.
 */
export interface JournalEntry {
  /** project */
  p: string;
  /** lower-cased email */
  k: string;
  /** the record as it now is */
  v: InvitationRecord;
}

export function applyEntry(data: StoreData, entry: JournalEntry): void {
  (data.invitations[entry.p] ??= {})[entry.k] = entry.v;
}

export interface JournalRead {
  entries: JournalEntry[];
  /** The byte offset after the last complete line. */
  end: number;
  /** Bytes after `end` that do not end in a line break: a writer died mid-append. */
  torn: boolean;
}

/** Reads the complete lines from `from` on. A missing journal reads as empty. */
export async function readJournal(path: string, from: number): Promise<JournalRead> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { entries: [], end: 0, torn: false };
    if (code === 'ELOOP') throw symlinkRefused(path);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error('it is not a regular file');
    const { size } = info;
    if (size <= from) return { entries: [], end: Math.min(from, size), torn: false };
    const buffer = Buffer.alloc(size - from);
    await handle.read(buffer, 0, buffer.length, from);
    const lastNewline = buffer.lastIndexOf(0x0a);
    const complete = lastNewline < 0 ? '' : buffer.subarray(0, lastNewline).toString('utf8');
    const entries: JournalEntry[] = [];
    for (const line of complete.split('\n')) {
      if (line.trim() !== '') entries.push(parseEntry(path, line));
    }
    return { entries, end: from + lastNewline + 1, torn: lastNewline + 1 < buffer.length };
  } finally {
    await handle.close();
  }
}

function parseEntry(path: string, line: string): JournalEntry {
  const raw = JSON.parse(line) as Partial<JournalEntry>;
  const checked = invitationSchema.safeParse(raw.v);
  if (typeof raw.p !== 'string' || typeof raw.k !== 'string' || !checked.success) {
    throw new Error(`${path} holds a line that is not a ledger entry: ${line.slice(0, 80)}`);
  }
  return { p: raw.p, k: raw.k, v: raw.v as InvitationRecord };
}

/**
 * Appends entries durably (every byte checked, then fdatasync); cuts off a torn tail first. Never
 * through a symbolic link. Returns the new end offset. On failure (a full disk) the journal is cut
 * back to `end`, so it holds only whole lines, and the error names the file and the cause.
 */
export async function appendJournal(path: string, end: number, torn: boolean, entries: readonly JournalEntry[]): Promise<number> {
  const text = Buffer.from(entries.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_WRONLY | constants.O_CREAT);
  } catch (error) {
    throw writeFailure(path, error);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new Error('it is not a regular file');
    if (torn) await handle.truncate(end);
    try {
      await writeAll(handle, path, text, end);
      await syncHandle(handle, path, true);
    } catch (error) {
      // Leave no partial line behind: what was not written whole is not in the journal.
      await handle.truncate(end).catch(() => undefined);
      throw error;
    }
  } catch (error) {
    throw writeFailure(path, error);
  } finally {
    await handle.close();
  }
  if (end === 0) await syncFolder(dirname(path));
  testHook('append', path);
  return end + text.length;
}

/** Empties the journal after a full commit has folded it into the store. */
export async function clearJournal(path: string): Promise<void> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_WRONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw writeFailure(path, error);
  }
  try {
    await handle.truncate(0);
    await syncHandle(handle, path, true);
  } catch (error) {
    throw writeFailure(path, error);
  } finally {
    await handle.close();
  }
}
