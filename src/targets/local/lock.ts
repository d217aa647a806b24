import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../core/errors.js';

/**
 * An exclusive lock beside a file (`<file>.lock`), held only for the moment of one commit.
 * A lock whose owner died is recovered: same host and the pid is gone, or older than
 * STALE_MS whatever the host (a commit takes far less). Breaking a stale lock is itself guarded
 * by a `.break` file so two waiters can never both break it and both take it.
 */
const STALE_MS = 60_000;
const WAIT_NOTICE_MS = 1_000;
const DEFAULT_TIMEOUT_MS = 120_000;

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

export interface LockOptions {
  timeoutMs?: number;
  /** Called once when the lock is busy for more than a second. */
  onWait?: (message: string) => void;
}

export async function withLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${file}.lock`;
  await acquire(lockPath, file, options);
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function acquire(lockPath: string, file: string, options: LockOptions): Promise<void> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let noticed = false;
  let delay = 2;
  for (;;) {
    if (await tryCreate(lockPath)) return;
    const owner = await readOwner(lockPath);
    if (owner && isStale(owner)) {
      await breakStale(lockPath, owner);
      continue;
    }
    const waited = Date.now() - started;
    if (!noticed && waited > WAIT_NOTICE_MS) {
      noticed = true;
      const who = owner ? `process ${owner.pid} on ${owner.host}` : 'another process';
      options.onWait?.(`waiting for ${file}: ${who} is writing it`);
    }
    if (waited > timeoutMs) {
      throw new UsageError(
        'store-locked',
        `${file} stayed locked for ${Math.round(waited / 1000)} s (${lockPath})`,
        `if no other jsm-provision is running, delete ${lockPath} and run again`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * Creates the lock with its owner already written: the owner goes into a temp file that is then
 * hard-linked to the lock's name (which fails if the lock exists). A process killed at any moment
 * leaves either no lock or a lock that names it, never an empty one nobody could judge stale.
 */
async function tryCreate(lockPath: string): Promise<boolean> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), at: Date.now() };
  // Named like every temp file here, so that one left by a killed process is swept away later.
  const temp = join(dirname(lockPath), `.${basename(lockPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(owner));
    } finally {
      await handle.close();
    }
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw lockError(lockPath, error);
  } finally {
    await rm(temp, { force: true });
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(lockPath, 'utf8'));
    if (parsed && typeof parsed === 'object' && 'pid' in parsed && 'host' in parsed && 'at' in parsed) {
      return parsed as LockOwner;
    }
  } catch {
    // Gone meanwhile, or caught half-written: look again on the next turn, unless it stays so.
  }
  try {
    const info = await stat(lockPath);
    // A lock file that never got its owner written (its writer died at once) goes stale by age.
    return { pid: -1, host: '', at: info.mtimeMs };
  } catch {
    return null;
  }
}

function isStale(owner: LockOwner): boolean {
  if (Date.now() - owner.at > STALE_MS) return true;
  if (owner.host !== hostname() || owner.pid <= 0) return false;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function breakStale(lockPath: string, seen: LockOwner): Promise<void> {
  const breaker = `${lockPath}.break`;
  if (!(await tryCreate(breaker))) {
    const other = await readOwner(breaker);
    if (other && isStale(other)) await rm(breaker, { force: true });
    await sleep(5);
    return;
  }
  try {
    // Only remove the lock if it is still the stale one we saw, not a fresh one taken since.
    const now = await readOwner(lockPath);
    if (now && now.pid === seen.pid && now.host === seen.host && now.at === seen.at) {
      await rm(lockPath, { force: true });
    }
  } finally {
    await rm(breaker, { force: true });
  }
}

function lockError(lockPath: string, error: unknown): UsageError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UsageError('store-unwritable', `cannot lock ${lockPath}: ${reason}`, 'check that the folder exists and is writable');
}
