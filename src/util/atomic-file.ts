import { randomBytes } from 'node:crypto';
import { constants, writeSync, type BigIntStats, type Stats } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';
import { testHook } from './test-hooks.js';

/** What to write: one string or buffer, or pieces (a large JSON document written as it is made). */
export type FileContents = string | Buffer | Iterable<string>;

/** Pieces are gathered to about this size before each write. */
const WRITE_BATCH = 1 << 20;

/** The steps of a durable write at which a fault can be injected (tests only). */
export type FileStep = 'open' | 'write' | 'fsync' | 'rename';

/**
 * The one seam through which tests make the file layer fail as a full or broken disk would:
 * `fileFaults.inject = (step, path) => ...` may throw (an ENOSPC error, say) or return a number
 * of bytes to let through (a short write). Nothing else here is replaced; `null` in production.
 */
export const fileFaults: { inject: ((step: FileStep, path: string) => number | void) | null } = { inject: null };

/** An Error as the file system gives them, for tests: `faultError('ENOSPC')`. */
export function faultError(code: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected fault`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

function checkFault(step: FileStep, path: string): number | undefined {
  const allowed = fileFaults.inject?.(step, path);
  return typeof allowed === 'number' ? allowed : undefined;
}

/** Opens `path` for writing without following a symbolic link at its name (O_NOFOLLOW). */
export async function openNoFollow(path: string, flags: number, mode = 0o600): Promise<FileHandle> {
  checkFault('open', path);
  try {
    return await open(path, flags | constants.O_NOFOLLOW, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkRefused(path);
    throw error;
  }
}

/** The error for a symbolic link found where this tool keeps one of its own files. */
export function symlinkRefused(path: string): UsageError {
  return new UsageError(
    'symlink-refused',
    `${path} is a symbolic link; jsm-provision never writes through one (it could overwrite another file)`,
    `check who made it, remove it (rm ${path}) and run the same command again`,
  );
}

/** What kind of thing is at a path that should be a regular file, in words. */
function kindOf(info: Stats | BigIntStats): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isDirectory()) return 'a folder';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * The error for something that is not a regular file where this tool keeps one of its own files
 * (a FIFO would make a read wait forever): refused before anything is read from it or written.
 */
export function notAFile(path: string, info: Stats | BigIntStats): UsageError {
  const kind = kindOf(info);
  return new UsageError(
    'not-a-file',
    `${path} is ${kind}${kind.startsWith('not') ? '' : ', not a regular file'}: jsm-provision keeps its store, journal and lock only in regular files, and did not read or write it`,
    `check who made it, remove it (rm ${path}) or choose another --target, and run the same command again`,
  );
}

/** A file system error in words: "no such file or directory", "it is a folder" (never the raw call and path). */
export function fileReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return 'it is a folder, not a file';
  const reason = error instanceof Error ? error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '') : String(error);
  return printable(reason);
}

/**
 * Turns a failed read of one of this tool's files into the error the user sees: permissions are
 * named as such (the file is not damaged: restoring it from a backup would lose what it holds).
 */
export function readFailure(path: string, error: unknown): UsageError {
  if (error instanceof UsageError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new UsageError(
      'store-unreadable',
      `cannot read ${path}: permission denied for this user (uid ${process.getuid?.() ?? '?'}); the file was left untouched`,
      `run as the user who owns it, or give this user access (ls -l ${path}); a store made by a run under sudo belongs to root: chown it back`,
    );
  }
  if (code === 'EIO') {
    return new UsageError('store-unreadable', `cannot read ${path}: the disk reported an input/output error; the file was left untouched`, 'check the disk (dmesg, fsck), then run the same command again');
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new UsageError('store-unreadable', `cannot read ${path}: ${reason}; the file was left untouched`, 'check the file and its folder, then run the same command again');
}

/**
 * Writes all of `data` at the handle's position, checking every count: a short write (a disk that
 * filled up meanwhile) is written on from where it stopped, and a write that makes no progress is
 * the disk being full (ENOSPC), never silently a shorter file. With `position`, writes there
 * (pwrite) instead of at the handle's own position.
 */
export async function writeAll(handle: FileHandle, path: string, data: string | Buffer, position?: number): Promise<void> {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < buffer.length) {
    const allowed = checkFault('write', path);
    const length = allowed === undefined ? buffer.length - offset : Math.min(allowed, buffer.length - offset);
    const { bytesWritten } = await handle.write(buffer, offset, length, position === undefined ? null : position + offset);
    if (bytesWritten <= 0) throw faultError('ENOSPC');
    offset += bytesWritten;
  }
}

/** `writeAll` for a file descriptor written synchronously: a short write goes on, no progress is ENOSPC. */
export function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done);
    if (written <= 0) throw faultError('ENOSPC');
    done += written;
  }
}

/**
 * Whom a file written here by root should belong to: the user who owns it already, else the user
 * who owns its folder; undefined when not root, or when both are root's. A run under sudo on a
 * user's store then leaves it theirs (a root-owned store, mode 600, would lock its owner out).
 */
export async function ownerFor(path: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.geteuid?.() !== 0) return undefined;
  for (const candidate of [path, dirname(path)]) {
    const info = await lstat(candidate).catch(() => null);
    if (info !== null && info.uid !== 0) return { uid: info.uid, gid: info.gid };
  }
  return undefined;
}

/** Gives a file root just made (or owns) to the store's user, when run as root on a user's store (see ownerFor). */
export async function keepOwner(handle: FileHandle, path: string, current: { uid: number }): Promise<void> {
  if (current.uid !== 0) return;
  const owner = await ownerFor(path);
  if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
}

/** fsync (or fdatasync) through the seam. */
export async function syncHandle(handle: FileHandle, path: string, dataOnly = false): Promise<void> {
  checkFault('fsync', path);
  if (dataOnly) await handle.datasync();
  else await handle.sync();
}

/**
 * Writes a file so that a reader (or a crash) sees either the old file or the whole new one: a temp
 * file in the same folder (mode 600, never through a symbolic link), every write checked, fsync,
 * rename over the target, fsync of the folder. On any failure the temp file is removed and the old
 * file stays as it was; the error is a UsageError naming the file and the cause (a full disk says so).
 * Temp files are named `.<name>.<pid>.<hex>.tmp`, so a later run can tell a dead writer's leftovers.
 */
export async function writeFileAtomically(path: string, contents: FileContents): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    const handle = await openNoFollow(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
    created = true;
    try {
      if (typeof contents === 'string' || Buffer.isBuffer(contents)) {
        await writeAll(handle, temp, contents);
      } else {
        let pending: string[] = [];
        let size = 0;
        for (const piece of contents) {
          pending.push(piece);
          size += piece.length;
          if (size >= WRITE_BATCH) {
            await writeAll(handle, temp, pending.join(''));
            pending = [];
            size = 0;
          }
        }
        if (pending.length > 0) await writeAll(handle, temp, pending.join(''));
      }
      const owner = await ownerFor(path);
      if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
      await syncHandle(handle, temp);
    } finally {
      await handle.close();
    }
    testHook('before-rename', path);
    checkFault('rename', temp);
    await rename(temp, path);
  } catch (error) {
    if (created) await rm(temp, { force: true }).catch(() => undefined);
    throw writeFailure(path, error);
  }
  await syncFolder(dir);
}

/** Makes a rename in `dir` durable. Not every platform lets a folder be opened: best effort there. */
export async function syncFolder(dir: string): Promise<void> {
  let folder;
  try {
    folder = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await folder.sync();
  } catch {
    // EINVAL/EISDIR on platforms that cannot fsync a folder: the rename is as durable as it gets.
  } finally {
    await folder.close();
  }
}

/**
 * Turns a failed write of `path` into the error the user sees: what happened, in words, naming the
 * file, and what to do. A full disk or quota says so; the hint is to free space and run again.
 */
export function writeFailure(path: string, error: unknown): UsageError {
  if (error instanceof UsageError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const dir = dirname(path);
  switch (code) {
    case 'ENOSPC':
      return new UsageError('disk-full', `cannot write ${path}: the disk holding ${dir} is full; the last good copy was kept`, 'free space and run the same command again');
    case 'EDQUOT':
      return new UsageError('disk-full', `cannot write ${path}: the disk quota for ${dir} is full; the last good copy was kept`, 'free space (or raise the quota) and run the same command again');
    case 'EIO':
      return new UsageError('disk-error', `cannot write ${path}: the disk holding ${dir} reported an input/output error; the last good copy was kept`, 'check the disk (dmesg, fsck), then run the same command again');
    case 'EROFS':
      return new UsageError('disk-read-only', `cannot write ${path}: ${dir} is on a read-only file system`, 'choose a writable place, or remount it read-write');
    case 'EACCES':
    case 'EPERM':
      return new UsageError('not-writable', `cannot write ${path}: permission denied`, `check the owner and mode of ${dir}`);
    case 'ENOENT':
    case 'ENOTDIR':
      return new UsageError('not-writable', `cannot write ${path}: the folder ${dir} does not exist`, 'create it, or choose another path');
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return new UsageError('not-writable', `cannot write ${path}: ${reason}`, 'check that the folder exists, is writable and has free space');
    }
  }
}

/** The name pattern of temp files, with the writer's pid as group 1. */
export const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;
