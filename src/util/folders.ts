import { chmod, mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Creates the folders of `dir` that are missing, one at a time (mode 700), and returns those it
 * made. Not `mkdir -p` (fs.mkdir with `recursive`): on /proc and similar file systems, mkdir
 * answers ENOENT for a child of a folder that exists, and Node's recursive mkdir then retries
 * for ever (the run never returned). Here every error is final.
 */
export async function makeFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) throw Object.assign(new Error(`${current} is not a folder`), { code: 'ENOTDIR' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) throw error;
      current = parent;
    }
  }
  const made: string[] = [];
  try {
    for (const folder of missing) {
      try {
        await mkdir(folder, { mode: 0o700 });
      } catch (error) {
        // Made meanwhile by another run (two imports at once): there, and not ours to remove.
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(folder)).isDirectory()) continue;
        throw error;
      }
      made.push(folder);
      // mkdir's mode is filtered by the umask; the folder holds customers' addresses.
      await chmod(folder, 0o700);
    }
  } catch (error) {
    await removeFolders(made);
    throw error;
  }
  return made;
}

/** Removes folders `makeFolders` made (deepest first), if they are still empty. */
export async function removeFolders(made: readonly string[]): Promise<void> {
  for (const folder of [...made].reverse()) await rmdir(folder).catch(() => undefined);
}

