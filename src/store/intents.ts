/**
 * Durable intent before effect on REST: the ledger record a new customer's invitation will get is
 * written here, appended and fdatasync'ed, before the call that creates the account is sent. The
 * ledger itself is committed later (with a chunk's results); a run killed in between leaves these
 * lines, and the next run resolves them from the accounts (`settleLeftIntents`, below). What
 * the run learned of each create is written beside (`<name>.made`, at once, not fsync'ed): JSM
 * answered it (this create made the account: its invitation is owed), or it was sent and never
 * answered with no account right after (owed if the account turns up). An account found for an
 * intent without either may have been made by another run of the same rows: in doubt. No account
 * means the create has not landed (yet): kept while it still could.
 *
 * One file per process, named by a random token no other process can reuse
 * (`<ledger>.intents/<host>-k<boot id>-r<random>.jsonl`; a pid is not such a name: a process in a
 * fresh PID namespace, as in a CI container, has the pid of a run killed before it). Whether its
 * owner is alive is asked of the kernel, not of a pid: the owner listens on a Unix socket beside the
 * file (`<same name>.sock`) for its whole life; a connection to it succeeds while the owner lives
 * (even stopped), and is refused once it has died, in any PID namespace on the same kernel (the same
 * boot id). A file is removed once nothing in it is left unresolved; the socket when its owner closes.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import type { Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TargetError } from '../core/errors.js';
import type { InvitationLedger } from '../core/target.js';
import { mapLimit } from '../core/pool.js';
import type { InvitationRecord } from '../core/types.js';
import { writeAll, writeFailure } from '../util/atomic-file.js';
import { bootId, listenAt, probe } from './live-socket.js';

/** A new customer about to be created: the record its invitation gets, and the username asked for. */
export interface Intent {
  record: InvitationRecord;
  /** The username the create asks for (lower-cased comparison). */
  username: string;
}

/** An intent read back from a file, with when it was written (ms since the epoch). */
export interface LeftIntent extends Intent {
  at: number;
  /**
   * What the run knew of its create: 'answered' (JSM answered 201: this create made the account),
   * 'unanswered' (sent, never answered, and no account found after it); absent when the run was
   * cut off before it knew (an account found may then be another run's).
   */
  made?: 'answered' | 'unanswered';
  /** A later run looked for the account and found none (its create may have been still on its way). */
  absentSeen?: boolean;
}

type Line =
  | { t: 'intent'; record: InvitationRecord; username: string; at: string; absent?: true; made?: 'answered' | 'unanswered' }
  | { t: 'settled'; p: string; k: string }
  // In the `.made` file beside (see IntentLog.made).
  | { t: 'made'; p: string; k: string; how: 'answered' | 'unanswered' };

export interface LeftIntents {
  /** A file of a process that has ended (or of another machine). */
  file: string;
  /** Whether that process is known to have ended (its file may be removed once resolved). */
  ended: boolean;
  intents: LeftIntent[];
}

/** This kernel's boot id (shared by every PID namespace and container on it); '' where unknown. */
const BOOT = (bootId() ?? '').replace(/[^0-9a-f]/g, '').slice(0, 12);

/** `<host>-k<boot>-r<random>.jsonl`; older releases named files `<host>-<pid>-<random>.jsonl`. */
const NAME = /^([a-zA-Z0-9._]*)-k([0-9a-f]*)-r([0-9a-f]+)\.jsonl$/;
const LEGACY = /^(.*)-(\d+)-[0-9a-f]+\.jsonl$/;

export class IntentLog {
  readonly dir: string;
  #file: string;
  #handle: Promise<FileHandle> | undefined;
  #queue: Line[] = [];
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** Intents written by this process and not yet known to be settled, by `project\0key`. */
  #open = new Map<string, Intent>();
  #wrote = false;
  /** Listening while this process may write its file: how other processes tell it is alive. */
  #alive: Promise<Server | undefined> | undefined;
  #madeFd: number | undefined;

  constructor(ledgerPath: string) {
    this.dir = `${ledgerPath}.intents`;
    this.#file = this.#newName();
  }

  /** This process's file (a new one after a close that left intents open in the last). */
  get file(): string {
    return this.#file;
  }

  #newName(): string {
    return join(this.dir, `${safe(hostname())}-k${BOOT}-r${randomBytes(8).toString('hex')}.jsonl`);
  }

  /** The socket whose listener says this file's owner is alive. */
  get socket(): string {
    return socketOf(this.file);
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

  /**
   * What this run learned of the create of an open intent (see LeftIntent.made): written behind
   * the create, not waited for; a run cut off before it is on disk leaves its account in doubt.
   */
  made(project: string, key: string, how: 'answered' | 'unanswered'): void {
    if (!this.#open.has(id(project, key))) return;
    // A file of its own, written at once (no fsync: a kill -9 does not lose what was written; a
    // machine that stops does, which leaves that account in doubt, the safe side).
    try {
      this.#madeFd ??= openSync(madeOf(this.file), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      writeSync(this.#madeFd, `${JSON.stringify({ t: 'made', p: project, k: key, how })}\n`);
    } catch {
      // Not written: the account is left in doubt if this run is cut off, as without it.
    }
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
    if (this.#madeFd !== undefined) closeSync(this.#madeFd);
    this.#madeFd = undefined;
    const left = this.#wrote && this.openIntents(known).length > 0;
    if (this.#wrote && !left) {
      await unlink(this.file).catch(() => undefined);
      await unlink(madeOf(this.file)).catch(() => undefined);
    }
    this.#wrote = false;
    // Whatever is left open in the file (a create whose fate is unknown) is now another run's to
    // resolve: once this process stops listening, it may do so at any moment, so anything this
    // process writes later goes to a file of its own.
    const alive = this.#alive;
    this.#alive = undefined;
    const server = await alive?.catch(() => undefined);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.socket).catch(() => undefined);
    if (left) {
      this.#open.clear();
      this.#file = this.#newName();
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
      // Alive before the file exists: no other process ever takes a live owner's file for a dead one's.
      this.#alive ??= listenAt(this.socket);
      await this.#alive;
      // Never through a planted symlink; only this process writes this file.
      return open(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    })();
    const handle = await this.#handle;
    await writeAll(handle, this.file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await handle.datasync();
    this.#wrote = true;
  }
}

/** How long an intent is looked at at all (one of another machine's files, never rewritten here). */
export const INTENT_KEPT_MS = 7 * 24 * 3600 * 1000;
/**
 * How long after its intent a create can still land on the server (sent before a kill, or never
 * answered: its retries and a slow server). An intent whose account is still missing after that is
 * dropped: if the person becomes a customer later, another way, this tool owes them nothing.
 */
export const LANDED_WITHIN_MS = 15 * 60 * 1000;

/** An intent that cannot be written stops the run: no account is created before its invitation is on disk. */
export function intentUnwritable(file: string, error: unknown): TargetError {
  const code = (error as NodeJS.ErrnoException).code;
  const cause = code === 'ENOSPC' ? `the disk holding ${file} is full` : code === 'EACCES' || code === 'EPERM' ? `${file} may not be written` : `${file} could not be written (${code ?? (error as Error).message})`;
  return new TargetError(
    'ledger-unwritable',
    `${cause}: no customer is created before the invitation it is owed is on disk, so the run stopped`,
    'make room (or give JSM_STATE_DIR a writable folder), then run the same command again: what was done is kept',
  );
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
  // A socket or a `.made` file without its intent file: a process killed before its first intent
  // reached the disk, or after its file was removed.
  for (const name of names.filter((n) => /\.(sock|made)$/.test(n) && !names.includes(n.replace(/\.(sock|made)$/, '.jsonl')))) {
    const path = join(log.dir, name);
    const intentsName = name.replace(/\.(sock|made)$/, '.jsonl');
    if (join(log.dir, intentsName) !== log.file && NAME.test(intentsName) && (await ownerOf(log.dir, intentsName, host)) === 'dead') {
      await unlink(path).catch(() => undefined);
    }
  }
  for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
    const file = join(log.dir, name);
    if (file === log.file) continue;
    const owner = await ownerOf(log.dir, name, host);
    if (owner === 'live') continue;
    const byId = parseIntents((await readFile(file, 'utf8').catch(() => '')) + (await readFile(madeOf(file), 'utf8').catch(() => '')));
    found.push({ file, ended: owner === 'dead', intents: [...byId.values()] });
  }
  return found;
}

/** The intents still open in a file's text (torn or foreign lines are skipped), by `project\0key`. */
function parseIntents(text: string): Map<string, LeftIntent> {
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
      const left: LeftIntent = { record: line.record, username: line.username, at: Number.isFinite(at) ? at : Date.now() };
      if (line.absent === true) left.absentSeen = true;
      if (line.made === 'answered' || line.made === 'unanswered') left.made = line.made;
      byId.set(id(line.record.project, line.record.key), left);
    } else if (line.t === 'settled') {
      byId.delete(id(line.p, line.k));
    } else if (line.t === 'made') {
      const left = byId.get(id(line.p, line.k));
      if (left && (line.how === 'answered' || line.how === 'unanswered')) left.made = line.how;
    }
  }
  return byId;
}

/**
 * Whether another live run of this state folder means to create the same customer now (its intent
 * is written and not settled). Asked only when an account turns up after a create whose answer was
 * lost: then either run may have made it, and the one that knows (a 201) invites.
 */
export async function contested(log: IntentLog, project: string, key: string): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(log.dir);
  } catch {
    return false;
  }
  const host = safe(hostname());
  for (const name of names.filter((n) => n.endsWith('.jsonl'))) {
    const file = join(log.dir, name);
    if (file === log.file) continue;
    if ((await ownerOf(log.dir, name, host)) === 'dead') continue;
    if (parseIntents(await readFile(file, 'utf8').catch(() => '')).has(id(project, key))) return true;
  }
  return false;
}

/** Replaces a dead process's file by what is still unresolved in it (atomically), or removes it. */
export async function rewriteIntentFile(file: string, intents: readonly LeftIntent[]): Promise<void> {
  if (intents.length === 0) {
    await unlink(file).catch(() => undefined);
    await unlink(madeOf(file)).catch(() => undefined);
    await unlink(socketOf(file)).catch(() => undefined);
    return;
  }
  const temp = `${file}.${process.pid}.tmp`;
  const text = intents.map((i) => `${JSON.stringify({ t: 'intent', record: i.record, username: i.username, at: new Date(i.at).toISOString(), ...(i.absentSeen ? { absent: true } : {}), ...(i.made ? { made: i.made } : {}) })}\n`).join('');
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      await writeAll(handle, temp, text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    // A full state folder names the file and the cause; the old file stays as it was.
    await unlink(temp).catch(() => undefined);
    throw writeFailure(file, error);
  }
  // What it said is in the file now.
  await unlink(madeOf(file)).catch(() => undefined);
}

/**
 * Whether the owner of an intent file lives: 'elsewhere' for another machine (or a name this
 * release does not know), which nobody here can check; its file is read but never rewritten.
 */
async function ownerOf(dir: string, name: string, host: string): Promise<'live' | 'dead' | 'elsewhere'> {
  const m = NAME.exec(name);
  if (m) {
    if (BOOT === '' || m[2] !== BOOT) return 'elsewhere';
    // Anything but "nobody listens here" is not proof of death: the file is left alone.
    return (await probe(socketOf(join(dir, name)))) === 'dead' ? 'dead' : 'live';
  }
  // A file of an older release: its pid is all there is (it cannot tell a reused one).
  const legacy = LEGACY.exec(name);
  if (legacy && legacy[1] === host) return alive(Number(legacy[2])) ? 'live' : 'dead';
  return 'elsewhere';
}

/** Where a run writes what it learned of its creates (see IntentLog.made). */
function madeOf(file: string): string {
  return file.replace(/\.jsonl$/, '.made');
}

function socketOf(file: string): string {
  return file.replace(/\.jsonl$/, '.sock');
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

/** The run id of an invitation recorded in doubt from an intent (no run is sending it). */
export const UNSURE_RUN = 'intent-resolution';

/** What became of an intent's account: made (as the intent meant it), absent (not yet), or another's. */
export type IntentAccount = 'made' | 'absent' | 'other';

/**
 * Settles intents left by runs that ended before their ledger commit (a kill), the same for both
 * JSM targets; each says how an intent's account is found (`account`) and when a made account's
 * invitation is only in doubt (`unsure`, with the reason listed). Records already in the ledger win.
 * A made account's invitation is recorded (owed, or in doubt); an absent one is kept while the
 * killed run's create may still land (LANDED_WITHIN_MS), marked seen absent, then dropped; one
 * another account holds is dropped. Returns the files still holding intents, and the counts.
 */
export async function settleLeftIntents(
  files: LeftIntents[],
  options: {
    ledger: InvitationLedger;
    commit: () => Promise<void>;
    maxInFlight: number;
    account: (intent: LeftIntent) => Promise<IntentAccount>;
    unsure: (intent: LeftIntent, now: number) => string | undefined;
  },
): Promise<{ left: LeftIntents[]; owed: number; unsure: number }> {
  const { ledger } = options;
  let owed = 0;
  let unsureCount = 0;
  const now = Date.now();
  for (const file of files) {
    const open = file.intents.filter((i) => ledger.get(i.record.project, i.record.key) === undefined && now - i.at < INTENT_KEPT_MS);
    const accounts = await mapLimit(open, options.maxInFlight, options.account);
    const made = open.filter((_, n) => accounts[n] === 'made');
    const at = new Date().toISOString();
    ledger.add(made.map((i) => {
      const reason = options.unsure(i, now);
      return reason ? { ...i.record, status: 'sending' as const, runId: UNSURE_RUN, reason, updatedAt: at } : { ...i.record, updatedAt: at };
    }));
    owed += made.filter((i) => i.record.status === 'pending' && options.unsure(i, now) === undefined).length;
    unsureCount += made.filter((i) => options.unsure(i, now) !== undefined).length;
    await options.commit();
    // Missing: kept while its create may still land; once that time is past, it never will.
    const kept = open.filter((i, n) => accounts[n] === 'absent' && now - i.at <= LANDED_WITHIN_MS).map((i) => ({ ...i, absentSeen: true }));
    file.intents = kept;
    if (file.ended) await rewriteIntentFile(file.file, kept);
  }
  return { left: files.filter((f) => f.intents.length > 0), owed, unsure: unsureCount };
}

/**
 * A JSM target's flush, the same for both: the ledger made durable; intents left by a killed run
 * checked again (best effort: what cannot be checked now stays for the next run); then the intents
 * whose records are in the ledger on disk are done, and creates never answered are told once more
 * when their count grew. A failed commit marks the target abandoned (said by the command that
 * asked; close() does not try, and wait or fail, the same again) and is thrown.
 */
export async function flushIntents(state: { unknownNoted: number; abandoned: boolean }, parts: {
  commit: () => Promise<void>;
  settleLeft: (() => Promise<void>) | undefined;
  intents: IntentLog;
  ledger: InvitationLedger;
  onNote: (message: string) => void;
}): Promise<void> {
  let committed = false;
  try {
    await parts.commit();
    committed = true;
    if (parts.settleLeft) await parts.settleLeft().catch(() => undefined);
  } catch (error) {
    state.abandoned = true;
    throw error;
  } finally {
    // Intents whose records are now in the ledger on disk are done; the file goes when none is left open.
    const known = (project: string, key: string): boolean => committed && parts.ledger.get(project, key) !== undefined;
    const unknown = parts.intents.openIntents(known).length;
    if (unknown > state.unknownNoted) {
      state.unknownNoted = unknown;
      parts.onNote(`${unknown} customer create(s) were sent and never answered, and no account was found yet: their invitations stay owed; the next run checks for the accounts and invites those that were made`);
    }
    await parts.intents.close(known);
  }
}
