/**
 * Durable intent before effect on REST: the ledger record a new customer's invitation will get is
 * written here, appended and fdatasync'ed, before the call that creates the account is sent. The
 * ledger itself is committed later (with a chunk's results); a run killed in between leaves these
 * lines, and the next run resolves them from the accounts (see `resolveIntents` in target.ts):
 * an account that exists now under the username we meant to create, with that email, was created by
 * us (our look-up found none before the intent was written): its invitation is owed; no account
 * means the create never happened (the row will be created by the re-run, and invited then).
 *
 * One file per process (`<ledger>.intents/<host>-<pid>-<random>.jsonl`), so two runs never share
 * one; a file is removed once nothing in it is left unresolved.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { InvitationRecord } from '../../core/types.js';
import { writeAll } from '../../util/atomic-file.js';

/** A new customer about to be created: the record its invitation gets, and the username asked for. */
export interface Intent {
  record: InvitationRecord;
  /** The username the create asks for (lower-cased comparison). */
  username: string;
}

/** An intent read back from a file, with when it was written (ms since the epoch). */
export interface LeftIntent extends Intent {
  at: number;
}

type Line = { t: 'intent'; record: InvitationRecord; username: string; at: string } | { t: 'settled'; p: string; k: string };

export interface LeftIntents {
  /** A file of a process that has ended (or of another host). */
  file: string;
  /** Whether that process is known to have ended (its file may be removed once resolved). */
  ended: boolean;
  intents: LeftIntent[];
}

export class IntentLog {
  readonly dir: string;
  readonly file: string;
  #handle: Promise<FileHandle> | undefined;
  #queue: Line[] = [];
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** Intents written by this process and not yet known to be settled, by `project\0key`. */
  #open = new Map<string, Intent>();
  #wrote = false;

  constructor(ledgerPath: string) {
    this.dir = `${ledgerPath}.intents`;
    this.file = join(this.dir, `${safe(hostname())}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
  }

  /** Makes these intents durable; resolves once they are on disk (writes of concurrent callers are grouped). */
  async write(intents: readonly Intent[]): Promise<void> {
    if (intents.length === 0) return;
    const at = new Date().toISOString();
    for (const intent of intents) {
      this.#open.set(id(intent.record.project, intent.record.key), intent);
      this.#queue.push({ t: 'intent', record: intent.record, username: intent.username, at });
    }
    await this.#flush();
  }

  /** This intent is settled without an invitation (the account existed before, or was never made). */
  async settle(project: string, key: string): Promise<void> {
    if (!this.#open.delete(id(project, key))) return;
    this.#queue.push({ t: 'settled', p: project, k: key });
    await this.#flush();
  }

  /** Intents of this process that are still open (neither settled nor known to the ledger). */
  openIntents(known: (project: string, key: string) => boolean): Intent[] {
    for (const [k, intent] of this.#open) if (known(intent.record.project, intent.record.key)) this.#open.delete(k);
    return [...this.#open.values()];
  }

  /** Closes the file; removes it when nothing in it is left open (call after the ledger commit). */
  async close(known: (project: string, key: string) => boolean): Promise<void> {
    // A write that failed (a full disk) was said to its caller: the file is closed all the same,
    // never left for the garbage collector (Node's DEP0137).
    await this.#writing?.catch(() => undefined);
    await this.#next?.catch(() => undefined);
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
    if (this.#wrote && this.openIntents(known).length === 0) {
      await unlink(this.file).catch(() => undefined);
      this.#wrote = false;
    }
  }

  /** Group commit: one append + fdatasync for everything queued meanwhile. */
  #flush(): Promise<void> {
    if (!this.#writing) {
      this.#writing = this.#writeQueued().finally(() => {
        this.#writing = undefined;
      });
      return this.#writing;
    }
    // A write is under way: the lines queued now go in the next one, whether that one fails or not
    // (its callers have its error; these lines are tried, and their callers answered, on their own).
    this.#next ??= this.#writing.catch(() => undefined).then(() => {
      this.#next = undefined;
      return this.#flush();
    });
    return this.#next;
  }

  async #writeQueued(): Promise<void> {
    const lines = this.#queue;
    this.#queue = [];
    if (lines.length === 0) return;
    this.#handle ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      // Never through a planted symlink; only this process writes this file.
      return open(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    })();
    const handle = await this.#handle;
    await writeAll(handle, this.file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await handle.datasync();
    this.#wrote = true;
  }
}

/** The intents other processes left (not this process's own file); torn last lines are ignored. */
export async function readLeftIntents(log: IntentLog): Promise<LeftIntents[]> {
  let names: string[];
  try {
    names = await readdir(log.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const host = safe(hostname());
  const found: LeftIntents[] = [];
  for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
    const file = join(log.dir, name);
    if (file === log.file) continue;
    const m = /^(.*)-(\d+)-[0-9a-f]+\.jsonl$/.exec(name);
    const sameHost = m?.[1] === host;
    const pid = Number(m?.[2]);
    if (sameHost && alive(pid)) continue;
    const text = await readFile(file, 'utf8').catch(() => '');
    const byId = new Map<string, LeftIntent>();
    for (const raw of text.split('\n')) {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      if (line.t === 'intent' && line.record && typeof line.username === 'string') {
        const at = Date.parse(line.at);
        byId.set(id(line.record.project, line.record.key), { record: line.record, username: line.username, at: Number.isFinite(at) ? at : Date.now() });
      } else if (line.t === 'settled') {
        byId.delete(id(line.p, line.k));
      }
    }
    found.push({ file, ended: sameHost, intents: [...byId.values()] });
  }
  return found;
}

/** Replaces a dead process's file by what is still unresolved in it (atomically), or removes it. */
export async function rewriteIntentFile(file: string, intents: readonly LeftIntent[]): Promise<void> {
  if (intents.length === 0) {
    await unlink(file).catch(() => undefined);
    return;
  }
  const temp = `${file}.${process.pid}.tmp`;
  const text = intents.map((i) => `${JSON.stringify({ t: 'intent', record: i.record, username: i.username, at: new Date(i.at).toISOString() })}\n`).join('');
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function id(project: string, key: string): string {
  return `${project}\u0000${key}`;
}

function safe(text: string): string {
  return text.replace(/[^a-zA-Z0-9.]/g, '_');
}
