import { constants } from 'node:fs';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { openNoFollow } from '../../src/util/atomic-file.js';
import { runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';
import { emails, projectStore, writeCsv } from './helpers.js';

/*
 * A symbolic link planted where jsm-provision keeps its own files (the journal, the lock, a temp
 * file) is refused with a clear error, and nothing is written through it.
 */
const tempDir = useTempDirs();
const PRECIOUS = 'someone else\'s file\n';

async function planted(dir: string, name: string): Promise<string> {
  const victim = join(dir, 'victim.txt');
  await writeFile(victim, PRECIOUS);
  await symlink(victim, join(dir, name));
  return victim;
}

describe('a planted symbolic link', () => {
  for (const name of ['jsm-store.json.journal', 'jsm-store.json.lock']) {
    it(`at <store>${name.slice('jsm-store.json'.length)} is refused (exit 2, named) and never written through`, async () => {
      const dir = await tempDir();
      await projectStore(dir);
      await writeCsv(dir, 'c.csv', emails('s', 5));
      const victim = await planted(dir, name);
      const run = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--no-invite', '--json'], { cwd: dir });
      expect(run.code).toBe(2);
      const { error } = run.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe('symlink-refused');
      expect(error.message).toContain(join(dir, name));
      expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(await readFile(victim, 'utf8')).toBe(PRECIOUS);
    });
  }

  it('at the store itself (a link to a store elsewhere) is refused before anything is read or written, naming the real path', async () => {
    const real = await tempDir();
    const store = await projectStore(real);
    const work = await tempDir();
    await symlink(store, join(work, 'jsm-store.json'));
    await writeCsv(work, 'c.csv', emails('l', 3));
    const before = await readFile(store, 'utf8');
    for (const args of [['import-csv', 'c.csv', '--project', 'ITH', '--no-invite'], ['project', 'set-notifications', '--project', 'ITH', '--no-verification'], ['customers', 'list', '--project', 'ITH']]) {
      const run = await runCli([...args, '--json'], { cwd: work });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.json()).toMatchObject({ error: { code: 'symlink-refused', message: expect.stringContaining(`${join(work, 'jsm-store.json')} is a symbolic link to ${store}`), hint: `give the store itself: --target ${store}` } });
    }
    // Nothing beside the link (no log, no lock), the link is still a link, the store unchanged.
    expect((await readdir(work)).sort()).toEqual(['c.csv', 'jsm-store.json']);
    expect(await readFile(store, 'utf8')).toBe(before);
    const direct = await runCli(['import-csv', join(work, 'c.csv'), '--project', 'ITH', '--no-invite', '--target', store], { cwd: real });
    expect(direct.code, direct.stderr).toBe(0);
  });

  it('at a temp or lock file name is never opened through (O_NOFOLLOW), and the store still opens', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    const victim = await planted(dir, '.jsm-store.json.123.abcdef01.tmp');
    await expect(openNoFollow(join(dir, '.jsm-store.json.123.abcdef01.tmp'), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC)).rejects.toMatchObject({
      code: 'symlink-refused',
    });
    expect(await readFile(victim, 'utf8')).toBe(PRECIOUS);
    expect(Object.keys((await LocalStore.open(store)).data.projects)).toEqual(['ITH']);
    expect((await readdir(dir)).sort()).toEqual(['.jsm-store.json.123.abcdef01.tmp', 'jsm-store.json', 'victim.txt']);
  });
});
