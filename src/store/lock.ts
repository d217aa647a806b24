import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { constants, readFileSync, readlinkSync } from 'node:fs';
import { link, lstat, open, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellWord } from '../core/printable.js';
import { UsageError } from '../core/errors.js';
import { notAFile, openNoFollow, symlinkRefused, writeAll, writeFailure } from '../util/atomic-file.js';
import { testHook, testSetting } from '../util/test-hooks.js';
import { bootId, listenAt, probe } from './live-socket.js';

/**
 * An exclusive lock beside a file (`<file>.lock`), held only for the moment of one commit.
 *
 * The lock of a live process is never broken, however long it is held: a paused writer (SIGSTOP, a
 * closed laptop lid, a slow network disk) resumes and finishes its write, and whoever waits goes on
 * after it. Only a lock whose owner is known to be gone is recovered by itself: the same host, and
 * the pid is gone or now belongs to a process started later. A lock whose owner cannot be checked
 * (another host, or an owner record that cannot be read) is reported with its owner and age, and
 * waited for; the admin breaks it explicitly (`jsm-provision store unlock`), never the tool.
 * Breaking a dead owner's lock is itself guarded by a `.break` file, so two waiters can never both
 * break it and both take it. No lock file is followed through a symbolic link.
 */
const NOTICE_AFTER_MS = 1_000;
const NOTICE_EVERY_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 120_000;

export interface LockOwner {
  pid: number;
  host: string;
  at: number;
  /** The owner's process start time (Linux clock ticks since boot), to tell a reused pid. */
  start?: number;
  /** The kernel's boot id (Linux): an owner of another boot, or of another machine, is not checked by pid. */
  boot?: string;
  /** The owner's PID namespace (`pid:[…]`): its pid means nothing in another one. */
  pidns?: string;
  /** The owner's live-socket, a file name in the lock's folder: connectable while the owner lives. */
  sock?: string;
  /** Random: tells this lock from another one with the same pid, host and time. */
  nonce?: string;
}

export interface LockOptions {
  timeoutMs?: number;
  /** Called when the lock is busy for more than a second, and every minute after that. */
  onWait?: (message: string) => void;
  /** The command that breaks this lock, for messages (default: `jsm-provision store unlock --target <file>`). */
  unlockCommand?: string;
}

export async function withLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${file}.lock`;
  testHook('before-lock', lockPath);
  const alive = await LiveSocket.open(lockPath);
  try {
    await acquire(lockPath, file, options, alive);
    try {
      testHook('lock-held', lockPath);
      return await fn();
    } finally {
      await rm(lockPath, { force: true });
    }
  } finally {
    await alive?.close();
  }
}

/** What is known of a lock's owner from here. */
export type OwnerState = 'live' | 'dead' | 'unknown';

async function acquire(lockPath: string, file: string, options: LockOptions, alive: LiveSocket | null): Promise<void> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // A run the tests start says it waits as soon as it does (src/util/test-hooks.ts, lock-notice-ms).
  const noticeAfterMs = testSetting('lock-notice-ms') ?? NOTICE_AFTER_MS;
  let noticedAt = 0;
  let delay = 2;
  for (;;) {
    if (await tryCreate(lockPath, alive)) return;
    const owner = await readOwner(lockPath);
    if (owner === null) continue; // released meanwhile
    const state = await ownerState(owner, lockPath);
    if (state === 'dead') {
      await breakDead(lockPath, owner, alive);
      continue;
    }
    const now = Date.now();
    const waited = now - started;
    if (waited > noticeAfterMs && (noticedAt === 0 || now - noticedAt >= NOTICE_EVERY_MS)) {
      noticedAt = now;
      options.onWait?.(`waiting for ${file}: ${describeOwner(owner, state, lockPath, unlockCommand(file, options))}`);
    }
    if (waited > timeoutMs) {
      throw new UsageError(
        'store-locked',
        `${file} stayed locked for ${Math.round(waited / 1000)} s: ${describeOwner(owner, state, lockPath, null)}; nothing more was written`,
        state === 'live'
          ? 'wait for that process to finish (or resume it, if it is stopped), then run the same command again'
          : `if that process is gone, break the lock with: ${unlockCommand(file, options)}; then run the same command again`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}

function unlockCommand(file: string, options: LockOptions): string {
  return options.unlockCommand ?? `jsm-provision store unlock --target ${shellWord(file)}`;
}

/** "held by process 123 on host-b for 4 min (…lock); …" */
export function describeOwner(owner: LockOwner, state: OwnerState, lockPath: string, unlock: string | null): string {
  const who = owner.pid > 0 ? `process ${owner.pid} on ${owner.host || 'an unknown host'}` : 'an owner that did not say who it is';
  const held = `held by ${who} for ${age(Date.now() - owner.at)} (${lockPath})`;
  if (state === 'live') return `${held}; that process is running on this host (it may be paused), so the lock is never broken: waiting`;
  if (unlock === null) return `${held}; its owner cannot be checked from this host`;
  return `${held}; its owner cannot be checked from this host, so jsm-provision waits. If that process is gone, break the lock with: ${unlock}`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/**
 * Creates the lock with its owner already written: the owner goes into a temp file that is then
 * hard-linked to the lock's name (which fails if the lock, or anything else, exists there). A process
 * killed at any moment leaves either no lock or a lock that names it.
 */
async function tryCreate(lockPath: string, alive: LiveSocket | null): Promise<boolean> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), at: Date.now(), nonce: randomBytes(8).toString('hex') };
  const start = startTime(process.pid);
  if (start !== undefined) owner.start = start;
  const boot = bootId();
  if (boot !== undefined) owner.boot = boot;
  const pidns = pidNamespace();
  if (pidns !== undefined) owner.pidns = pidns;
  if (alive) owner.sock = alive.name;
  // Named like every temp file here, so that one left by a killed process is swept away later.
  const temp = join(dirname(lockPath), `.${basename(lockPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    const handle = await openNoFollow(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
    created = true;
    try {
      await writeAll(handle, temp, JSON.stringify(owner));
    } finally {
      await handle.close();
    }
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // Our temp file was swept away by a run that took its pid for a dead one's (another PID
    // namespace): no lock was taken; the caller tries again.
    if (created && (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw writeFailure(lockPath, error);
  } finally {
    if (created) await rm(temp, { force: true });
  }
}

/** The lock's owner; null when there is no lock (any more). A symbolic link there is refused. */
export async function readOwner(lockPath: string): Promise<LockOwner | null> {
  let handle;
  try {
    // Never blocks: a FIFO at the lock's name would wait for a writer forever (refused below).
    handle = await open(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw symlinkRefused(lockPath);
    throw writeFailure(lockPath, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(lockPath, info);
    try {
      const parsed: unknown = JSON.parse(await handle.readFile('utf8'));
      if (parsed && typeof parsed === 'object' && 'pid' in parsed && 'host' in parsed && 'at' in parsed) return parsed as LockOwner;
    } catch {
      // Not an owner record (written by something else): nobody can say who holds it.
    }
    return { pid: -1, host: '', at: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Whether the owner is alive, gone, or cannot be checked from here. `lockPath`: where its lock is
 * (its live-socket is beside it); without it, only the pid can be checked.
 */
export async function ownerState(owner: LockOwner, lockPath?: string): Promise<OwnerState> {
  if (owner.pid <= 0 || owner.host !== hostname()) return 'unknown';
  // Another boot of this host (then the owner is gone), or another machine of the same name.
  const boot = bootId();
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return 'unknown';
  if (owner.sock !== undefined && lockPath !== undefined && !owner.sock.includes('/')) {
    const answer = await LiveSocket.probe(join(dirname(lockPath), owner.sock));
    if (answer !== 'unknown') return answer;
  }
  return pidState(owner);
}

/** What the owner's pid says, when it can say anything: only in the owner's own PID namespace. */
function pidState(owner: LockOwner): OwnerState {
  if (owner.pid <= 0 || owner.host !== hostname()) return 'unknown';
  const pidns = pidNamespace();
  if (owner.pidns !== undefined && pidns !== undefined && owner.pidns !== pidns) return 'unknown';
  if (owner.pid === process.pid) {
    // Our own pid: either this process (never waits for itself: locks are not re-entered) or an
    // earlier process with the same pid that died, which its start time tells.
    const mine = startTime(process.pid);
    return owner.start !== undefined && mine !== undefined && owner.start !== mine ? 'dead' : 'live';
  }
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'live';
  }
  // Alive: the same process, unless the pid was reused by a process started after the lock's owner.
  const now = startTime(owner.pid);
  if (owner.start !== undefined && now !== undefined && now !== owner.start) return 'dead';
  return 'live';
}

/** The live-socket of a lock's holder (or waiter), beside the lock; none where a socket cannot be made (the pid is checked instead). */
class LiveSocket {
  private constructor(
    readonly name: string,
    private readonly path: string,
    private readonly server: Server,
  ) {}

  static async open(lockPath: string): Promise<LiveSocket | null> {
    const name = `.${basename(lockPath)}.${process.pid}.${randomBytes(4).toString('hex')}.sock`;
    const path = join(dirname(lockPath), name);
    try {
      return new LiveSocket(name, path, await listenAt(path));
    } catch {
      await rm(path, { force: true }).catch(() => undefined);
      return null;
    }
  }

  static probe(path: string): Promise<OwnerState> {
    return probe(path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}

/** The name pattern of live-sockets, with the owner's pid as group 1. */
export const LIVE_SOCKET = /^\..+\.lock(?:\.break)?\.(\d+)\.[0-9a-f]{8}\.sock$/;

/** Removes live-sockets beside `file`'s lock left by owners that are gone (killed while they waited or held it). */
export async function sweepDeadSockets(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!LIVE_SOCKET.test(name)) continue;
    const path = join(dir, name);
    if ((await LiveSocket.probe(path)) === 'dead') await rm(path, { force: true }).catch(() => undefined);
  }
}


/** This process's PID namespace (`pid:[4026531836]`, Linux); undefined elsewhere. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** A process's start time from /proc (Linux); undefined elsewhere. */
function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function breakDead(lockPath: string, seen: LockOwner, alive: LiveSocket | null): Promise<void> {
  const breaker = `${lockPath}.break`;
  if (!(await tryCreate(breaker, alive))) {
    const other = await readOwner(breaker);
    if (other && (await ownerState(other, breaker)) === 'dead') await rm(breaker, { force: true });
    await sleep(5);
    return;
  }
  try {
    // Only remove the lock if it is still the dead one we saw, not a fresh one taken since.
    const now = await readOwner(lockPath);
    if (now && sameOwner(now, seen)) {
      await rm(lockPath, { force: true });
      await removeSocketOf(lockPath, seen);
    }
  } finally {
    await rm(breaker, { force: true });
  }
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.host === b.host && a.at === b.at && a.nonce === b.nonce;
}

/** A dead owner's live-socket file, which it could not remove itself. */
async function removeSocketOf(lockPath: string, owner: LockOwner): Promise<void> {
  if (owner.sock === undefined || owner.sock.includes('/') || !LIVE_SOCKET.test(owner.sock)) return;
  await rm(join(dirname(lockPath), owner.sock), { force: true }).catch(() => undefined);
}

/**
 * The admin's way out (`jsm-provision store unlock`): removes the lock of `file` unless its owner is
 * a live process on this host. Returns what was there, or null when there was no lock.
 */
export async function breakLock(file: string): Promise<{ owner: LockOwner; state: OwnerState; lockPath: string } | null> {
  const lockPath = `${file}.lock`;
  const owner = await readOwner(lockPath);
  if (owner === null) return null;
  const state = await ownerState(owner, lockPath);
  if (state === 'live') {
    throw new UsageError(
      'lock-live',
      `${file} is locked by process ${owner.pid} on this host, which is running (it may be paused): the lock was left in place`,
      `let it finish (kill -CONT ${owner.pid} if it was stopped), or stop it; never remove a live process's lock`,
    );
  }
  const info = await lstat(lockPath).catch(() => null);
  if (info?.isSymbolicLink()) throw symlinkRefused(lockPath);
  await rm(lockPath, { force: true });
  if (state === 'dead') await removeSocketOf(lockPath, owner);
  return { owner, state, lockPath };
}

/**
 * Run ids say which process runs them: `<uuid>~<pid>.<start>.<pidns>@<host>` (`.<pidns>`, the
 * number of the run's PID namespace, is absent where there is none to read and in ids of earlier
 * versions). An invitation left `sending` by a run whose process is still alive on this host, in
 * this PID namespace, is being sent now, not in doubt: a resend of in-doubt invitations leaves it
 * alone. (Ids without the tag, or from other hosts or namespaces, cannot be checked: in doubt.)
 */
export function runIdFor(uuid: string): string {
  const pidns = /\[(\d+)\]/.exec(pidNamespace() ?? '')?.[1];
  const runId = `${uuid}~${process.pid}.${startTime(process.pid) ?? 0}${pidns ? `.${pidns}` : ''}@${hostname()}`;
  ownRuns.add(runId);
  return runId;
}

/**
 * The runs of this process that have not ended. A process may run several commands one after
 * another (the CLI's main() in process, as the tests run it): a run of this process that has
 * ended is as dead as one of a process that has.
 */
const ownRuns = new Set<string>();

/** The run `runId` (made by runIdFor in this process) has ended: its claims left `sending` are in doubt. */
export function endRun(runId: string): void {
  ownRuns.delete(runId);
}

/** true when the run that wrote `runId` is a live process on this host, in this PID namespace. */
export function runIsLive(runId: string | undefined): boolean {
  const tag = /~(\d+)\.(\d+)(?:\.(\d+))?@(.*)$/.exec(runId ?? '');
  if (!tag) return false;
  if (Number(tag[1]) === process.pid && tag[4] === hostname() && !ownRuns.has(runId ?? '')) {
    // Our pid: one of this process's runs (live while it has not ended), or one of an earlier
    // process with the same pid (dead, as its start time shows).
    return false;
  }
  const start = Number(tag[2]);
  const owner: LockOwner = { pid: Number(tag[1]), host: tag[4] ?? '', at: 0, ...(start > 0 ? { start } : {}), ...(tag[3] ? { pidns: `pid:[${tag[3]}]` } : {}) };
  return pidState(owner) === 'live';
}
