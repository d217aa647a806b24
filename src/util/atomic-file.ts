import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What to write: one string or buffer, or pieces (a large JSON document written as it is made). */
export type FileContents = string | Buffer | Iterable<string>;

/** Pieces are gathered to about this size before each write. */
const WRITE_BATCH = 1 << 20;

/**
 * Writes a file so that a reader (or a crash) sees either the old file or the whole new one: a temp
 * file in the same folder (mode 600), fsync, rename over the target, fsync of the folder.
 * Temp files are named `.<name>.<pid>.<hex>.tmp`, so a later run can tell a dead writer's leftovers.
 */
export async function writeFileAtomically(path: string, contents: FileContents): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      if (typeof contents === 'string' || Buffer.isBuffer(contents)) {
        await handle.writeFile(contents);
      } else {
        let pending: string[] = [];
        let size = 0;
        for (const piece of contents) {
          pending.push(piece);
          size += piece.length;
          if (size >= WRITE_BATCH) {
            await handle.write(pending.join(''));
            pending = [];
            size = 0;
          }
        }
        if (pending.length > 0) await handle.write(pending.join(''));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dir);
}

/** Makes a rename in `dir` durable. Not every platform lets a folder be opened: best effort there. */
async function syncFolder(dir: string): Promise<void> {
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

/** The name pattern of temp files, with the writer's pid as group 1. */
export const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;
