import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { storeWith } from './shape.js';
import { tmpfsAvailable } from '../support/tmpfs.js';

/**
 * import-mail's report on a disk that fills up after the preflight (a real 64 KB tmpfs, as root):
 * as for import-csv, the run's summary still comes, with error report-unwritable, exit 1.
 */
const { ok: root, reason: noTmpfs } = tmpfsAvailable();
if (!root) console.log(`skipped the import-mail full-disk report test: ${noTmpfs}`);
const mounted: string[] = [];
afterEach(() => {
  for (const mnt of mounted.splice(0)) execFileSync('umount', [mnt]);
});

describe.skipIf(!root)("import-mail's report on a full disk", () => {
  it('the summary with error report-unwritable, exit 1, every sender provisioned', async () => {
    const { dir } = await storeWith(['ITH']);
    const disk = join(dir, 'small');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    mounted.push(disk);
    const messages = Array.from({ length: 1_500 }, (_, i) => `From p${i}@example.com Mon Jan  1 00:00:00 2024\nFrom: Person Number ${i} <person${i}@example.com>\nSubject: help\n\nplease\n`);
    await writeFile(join(dir, 'inbox.mbox'), messages.join('\n'));
    const r = await runCli(['import-mail', 'inbox.mbox', '--project', 'ITH', '--no-invite', '--exclude', '@example.org', '--json', '--report', join(disk, 'people.csv')], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const body = r.json<{ ok: boolean; totals: { created: number }; messages: { read: number }; error: { code: string } }>();
    expect(body.ok).toBe(false);
    expect(body.totals.created).toBe(1_500);
    expect(body.messages.read).toBe(1_500);
    expect(body.error.code).toBe('report-unwritable');
  });
});
