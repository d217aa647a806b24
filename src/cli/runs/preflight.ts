import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { Target } from '../../core/target.js';
import { makeFolders, removeFolders } from '../../util/folders.js';
import { inCwd } from '../io/io.js';

/**
 * Checks made before the first write of a run: each failure is a UsageError (exit 2) with a hint,
 * and leaves nothing behind. File-system checks are bounded in time: a hung mount (NFS, FUSE)
 * fails the run instead of holding it.
 */

/** How long one file-system check may take. */
export const FS_CHECK_MS = 10_000;

/** Races `work` against a timer; the error names what did not answer. */
export async function withinTime<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function why(error: unknown, dir: string): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC') return `the disk holding ${printable(dir)} is full`;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `no permission to write in ${printable(dir)}`;
  if (e.code === 'EROFS') return `${printable(dir)} is on a read-only file system`;
  if (e.code === 'ENOENT') return `${printable(dir)} does not exist`;
  if (e.code === 'ENOTDIR') return `${printable(dir)} is not a folder`;
  return printable(e.message ?? String(error));
}

/** Creates and removes a temp file in `dir`: the only honest test that a file can be made there (root ignores modes). */
async function probe(dir: string): Promise<void> {
  const temp = join(dir, `.jsm-provision-check.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await handle.write('x');
    await handle.sync();
  } finally {
    await handle.close();
    await rm(temp, { force: true });
  }
}

/** A file's identity, to tell whether two paths are the same file (links and symlinks included). */
async function identity(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/** The files a run reads or keeps (its inputs, the local store and its log, the SMTP password file): never a report. */
export function runFiles(target: Target, inputs: readonly string[], smtpPasswordFile: string | undefined): string[] {
  const store = target.kind === 'local' ? [target.location, `${target.location}.journal`] : [];
  return [...inputs, ...store, ...(smtpPasswordFile ? [smtpPasswordFile] : [])];
}

/**
 * The report's path: its folder must exist (it is not created) and take a new file, the path must
 * not be a folder, and it must not be one of the run's inputs (the CSV, the store): a report
 * written over its own input would destroy it.
 */
export async function checkReportPath(file: string, inputs: readonly string[]): Promise<void> {
  const path = inCwd(file);
  const dir = dirname(path);
  const shown = printable(file);
  const check = async () => {
    let folder;
    try {
      folder = await stat(dir);
    } catch (error) {
      throw new UsageError('report-unwritable', `cannot write the report ${shown}: ${why(error, dir)}`, 'create the folder first, or choose another --report path');
    }
    if (!folder.isDirectory()) throw new UsageError('report-unwritable', `cannot write the report ${shown}: ${printable(dir)} is not a folder`, 'choose another --report path');
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw new UsageError('report-unwritable', `cannot write the report ${shown}: it is a folder`, 'give a file name ending in .csv or .json');
    const id = await identity(path);
    if (id !== undefined) {
      for (const input of inputs) {
        if (input === '-' || input === '') continue;
        if ((await identity(inCwd(input))) === id) {
          throw new UsageError(
            'report-is-input',
            `--report ${shown} is the same file as the input ${printable(input)}: writing the report would destroy it`,
            'give the report a name of its own, e.g. --report result.csv',
          );
        }
      }
    }
    try {
      await probe(dir);
    } catch (error) {
      throw new UsageError('report-unwritable', `cannot write the report ${shown}: ${why(error, dir)}`, 'choose a --report path in a folder you can write to');
    }
    // A report there already is replaced at the end (a new file renamed over it): one that cannot
    // be (immutable, on a read-only mount) would fail only then. (A device number of its own says
    // nothing: overlayfs gives a lower layer's files their layer's.)
    if (existing?.isFile() && !(await lstat(path)).isSymbolicLink()) {
      const fixed = await unreplaceable(path);
      if (fixed !== undefined) {
        throw new UsageError('report-unwritable', `cannot replace the report ${shown}: ${fixed}`, 'choose another --report path, or make that file writable (chattr -i, or remount it read-write)');
      }
    }
  };
  await withinTime(check(), FS_CHECK_MS, () => new UsageError('report-unwritable', `cannot write the report ${shown}: its folder did not answer within ${FS_CHECK_MS / 1000} s`, 'choose a --report path on a local disk'));
}

/** Why an existing file can never be written (immutable, a read-only file system), or undefined. */
async function unreplaceable(path: string): Promise<string | undefined> {
  try {
    // Opened for writing and closed at once: nothing is changed. A file only its mode keeps from
    // this user (EACCES) can still be replaced by a rename in a writable folder, so that passes.
    await (await open(path, constants.O_WRONLY | constants.O_NOFOLLOW)).close();
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPERM') return 'the file there may not be changed (it is immutable or append-only)';
    if (code === 'EROFS') return 'the file there is on a read-only file system';
    return undefined;
  }
}

/** The local store's folder takes new files (the store is rewritten through a temp file beside it). */
export async function checkStoreFolder(store: string): Promise<void> {
  const dir = dirname(resolve(store));
  const run = async () => {
    try {
      await probe(dir);
    } catch (error) {
      throw new UsageError('store-unwritable', `cannot write the local store ${printable(store)}: ${why(error, dir)}`, 'run where the store\'s folder can be written, or give --target a store in such a folder');
    }
  };
  await withinTime(run(), FS_CHECK_MS, () => new UsageError('store-unwritable', `the folder of the local store ${printable(store)} did not answer within ${FS_CHECK_MS / 1000} s`, 'keep the store on a local disk'));
}

/**
 * For a dry run, which makes nothing: the outbox, or the nearest folder above it that exists, is
 * not a file. (The real run makes the folder and writes a file in it: prepareOutbox.)
 */
export async function checkOutboxPath(dir: string): Promise<void> {
  const shown = printable(dir);
  for (let at = resolve(dir); ; at = dirname(at)) {
    const info = await stat(at).catch(() => undefined);
    if (info === undefined && dirname(at) !== at) continue;
    if (info !== undefined && !info.isDirectory()) {
      throw new UsageError(
        'outbox-unwritable',
        `cannot write invitations into the outbox ${shown}: ${printable(at)} is not a folder`,
        'give --outbox (or JSM_OUTBOX) a folder you can write to, or send by --smtp (an import can also take --no-invite or --defer-invites)',
      );
    }
    return;
  }
}

/**
 * The outbox folder exists (made if missing) and takes files. On failure nothing is left behind.
 * Returns a function that removes the folders it made, for a run that stops before writing.
 */
export async function prepareOutbox(dir: string): Promise<() => Promise<void>> {
  const shown = printable(dir);
  let made: string[] = [];
  const run = async () => {
    try {
      made = await makeFolders(dir);
      await probe(dir);
    } catch (error) {
      await removeFolders(made);
      const where = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${shown} cannot be created there` : why(error, dir);
      throw new UsageError(
        'outbox-unwritable',
        `cannot write invitations into the outbox ${shown}: ${where}`,
        'give --outbox (or JSM_OUTBOX) a folder you can write to, or send by --smtp (an import can also take --no-invite or --defer-invites)',
      );
    }
  };
  await withinTime(run(), FS_CHECK_MS, () => new UsageError('outbox-unwritable', `the outbox ${shown} did not answer within ${FS_CHECK_MS / 1000} s`, 'give --outbox a folder on a local disk'));
  return () => removeFolders(made);
}
