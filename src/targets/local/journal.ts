import { open, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
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
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], end: 0, torn: false };
    throw error;
  }
  try {
    const { size } = await handle.stat();
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

/** Appends entries durably; cuts off a torn tail first. Returns the new end offset. */
export async function appendJournal(path: string, end: number, torn: boolean, entries: readonly JournalEntry[]): Promise<number> {
  if (torn) await truncate(path, end);
  const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  const handle = await open(path, 'a', 0o600);
  try {
    await handle.write(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (end === 0) await syncFolder(dirname(path));
  return end + Buffer.byteLength(text);
}

/** Empties the journal after a full commit has folded it into the store. */
export async function clearJournal(path: string): Promise<void> {
  try {
    await truncate(path, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r').catch(() => null);
  if (!folder) return;
  try {
    await folder.sync().catch(() => undefined);
  } finally {
    await folder.close();
  }
}
