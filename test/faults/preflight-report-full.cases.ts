import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';
import { readStore } from '../support/store.js';
import { tmpfsAvailable } from '../support/tmpfs.js';

/**
 * The report on a disk that fills up after the preflight: a real small file system (a 64 KB tmpfs
 * mounted by the test, as root). Whatever happens, no partial report or temp file is left, the
 * error names the file and the cause, and the run's outcome is not hidden.
 */
const { ok: root, reason: noTmpfs } = tmpfsAvailable();
if (!root) console.log(`skipped the full-disk report tests: ${noTmpfs}`);
const projectDir = useProjectDir();
const mounted: string[] = [];
afterEach(() => {
  for (const mnt of mounted.splice(0)) execFileSync('umount', [mnt]);
});

async function smallDisk(dir: string): Promise<string> {
  const mnt = join(dir, 'small');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  mounted.push(mnt);
  return mnt;
}

function csv(rows: number, email: (i: number) => string): string {
  const lines = ['email,name'];
  for (let i = 0; i < rows; i++) lines.push(`${email(i)},Person Number ${i}`);
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!root)('the report on a disk that fills up', () => {
  it('while the input is read (bad rows stream to the report): exit 2, store unchanged, nothing left on the disk', async () => {
    const dir = projectDir();
    const disk = await smallDisk(dir);
    await writeFile(join(dir, 'in.csv'), csv(20_000, (i) => `not-an-address-${i}`));
    const store = await readFile(join(dir, 'jsm-store.json'));
    const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--json', '--report', join(disk, 'result.csv')], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    const body = r.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('report-unwritable');
    expect(body.error.message).toContain('is full');
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(store)).toBe(true);
    expect(await readdir(disk)).toEqual([]);
  });

  it('when the report is written at the end: the summary still comes, with the error, exit 1; no partial report', async () => {
    const dir = projectDir();
    const disk = await smallDisk(dir);
    await writeFile(join(dir, 'in.csv'), csv(2_000, (i) => `person${i}@example.com`));
    const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--json', '--report', join(disk, 'result.csv')], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const body = r.json<{ ok: boolean; totals: { created: number }; error: { code: string; message: string; hint: string } }>();
    expect(body.ok).toBe(false);
    expect(body.totals.created).toBe(2_000);
    expect(body.error.code).toBe('report-unwritable');
    expect(body.error.message).toContain('is full');
    expect(body.error.hint).toContain('run the same command again');
    expect(Object.keys((await readStore(dir)).customers)).toHaveLength(2_000);
    expect(await readdir(disk)).toEqual([]);
  });
});
