import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSpawned as runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';

/**
 * A 20 MB file of garbage (a header, then hundreds of thousands of lines that are not customers)
 * used to need about 1 GB: every bad row was held for the problems list and the report. Now the
 * first 1,000 problems are held, the rest counted, and the report is streamed to its file.
 */
const projectDir = useProjectDir();
const HOOK = fileURLToPath(new URL('./max-rss.cjs', import.meta.url));
const SIZE = 20_000_000;

async function writeGarbage(file: string): Promise<number> {
  const handle = await open(file, 'w');
  let written = 0;
  let rows = 0;
  let chunk: string[] = ['email,name\n'];
  while (written < SIZE) {
    const line = `garbage ${rows} ${'#'.repeat(rows % 13)},\u0001nm ${rows}\n`;
    chunk.push(line);
    written += line.length;
    rows++;
    if (chunk.length >= 10_000) {
      await handle.write(chunk.join(''));
      chunk = [];
    }
  }
  await handle.write(chunk.join(''));
  await handle.close();
  return rows;
}

describe('memory stays bounded on garbage input', () => {
  // The report's streaming is checked in report.test.ts (in-process): here the run that used to need ~1 GB.
  it('a 20 MB garbage CSV: exit 1, 1,000 problems listed and the rest counted, peak RSS well under 400 MB', async () => {
    const dir = projectDir();
    const rows = await writeGarbage(join(dir, 'garbage.csv'));
    expect((await stat(join(dir, 'garbage.csv'))).size).toBeGreaterThanOrEqual(SIZE);
    const rssFile = join(dir, 'max-rss');
    const r = await runCli(['import-csv', 'garbage.csv', '--project', 'ITH', '--no-invite', '--json'], {
      cwd: dir,
      env: { NODE_OPTIONS: `--require ${HOOK}`, MAX_RSS_FILE: rssFile },
    });
    expect(r.code, r.stderr).toBe(1);
    const body = r.json<{ totals: { rows: number; invalid: number }; problems: unknown[]; problemsOmitted: number }>();
    expect(body.totals).toMatchObject({ rows, invalid: rows });
    expect(body.problems).toHaveLength(1_000);
    expect(body.problemsOmitted).toBe(rows - 1_000);
    const peakMB = Number(await readFile(rssFile, 'utf8')) / 1024;
    // Not a timing: a bound on memory with a wide margin (it was ~900 MB; it is ~150 MB now).
    console.log(`peak RSS of the import: ${Math.round(peakMB)} MB for ${rows.toLocaleString('en-US')} garbage rows`);
    expect(peakMB).toBeLessThan(400);
  });
});
