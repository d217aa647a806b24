/** The CSV behaviours of the built CLI that a module test cannot show: what reaches stdout, stderr and the report. */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/csv/${name}`, import.meta.url));
const projectDir = useProjectDir();
let dir: string;
beforeEach(() => {
  dir = projectDir();
});

const SECRET = 'Hunter2-Sekret!';
// Line 3: "Lee, Ann" unquoted shifts every cell after it one to the right: the password lands in
// the Email column (the case that used to print it as the "email").
const SHIFTED = `Full name,Password,Email\nOk Person,longenough1,ok@example.com\nLee, Ann,${SECRET},ann@example.com\n`;

async function everything(): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name !== 'in.csv');
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
  return texts.join('\n');
}

describe('a row shifted by an unquoted comma, with a password in it', () => {
  it('is invalid by its cell count and the expected columns; the password is in no output, report or file', async () => {
    await writeFile(join(dir, 'in.csv'), SHIFTED);
    const text = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--report', 'report.csv'], { cwd: dir });
    const json = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--json', '--report', 'report.json'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({
      problems: [
        {
          line: 3,
          email: '',
          status: 'invalid',
          reason: expect.stringContaining('line 3 has 4 cells but the header has 3 (Full name, Password, Email)'),
        },
      ],
    });
    const seen = [text.stdout, text.stderr, json.stdout, json.stderr, await everything()].join('\n');
    expect(seen).toContain('line 3 has 4 cells');
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain('Ann,');
  });
});

describe('files that are not CSV', () => {
  it('an .xlsx stops the run with its own error code and how to save it as CSV UTF-8 (exit 2)', async () => {
    const r = await runCli(['import-csv', fixture('customers.xlsx'), '--project', 'ITH', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'spreadsheet-not-csv', message: expect.stringContaining('Excel workbook') } });
    expect(JSON.stringify(r.json())).toContain('CSV UTF-8');
  });
});

describe('--max-row-chars', () => {
  it('names the limit a long row broke, and the option that raises it (exit 2)', async () => {
    await writeFile(join(dir, 'long.csv'), `email,name\na@example.com,${'x'.repeat(1_500)}\n`);
    const r = await runCli(['import-csv', 'long.csv', '--project', 'ITH', '--no-invite', '--json', '--max-row-chars', '1000'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'row-too-long', message: expect.stringContaining('longer than 1,000 characters') } });
  });
});

describe('--dry-run with --report', () => {
  it('marks the report as a dry run (a dryRun column in CSV, "dryRun": true in JSON)', async () => {
    const r = await runCli(['import-csv', fixture('google-contacts.csv'), '--project', 'ITH', '--dry-run', '--no-invite', '--report', 'plan.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = (await readFile(join(dir, 'plan.csv'), 'utf8')).split('\r\n');
    expect(lines[0]).toBe('\ufeffline,email,fullName,status,invitation,reason,organizations,dryRun');
    expect(lines.slice(1, 4).every((line) => line.endsWith(',true'))).toBe(true);
    expect(lines[1]).toContain('ana.ruiz@initech.example');
    const json = await runCli(['import-csv', fixture('google-contacts.csv'), '--project', 'ITH', '--dry-run', '--no-invite', '--report', 'plan.json'], { cwd: dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8'))).toMatchObject({ dryRun: true, rows: [{ email: 'ana.ruiz@initech.example' }, {}, {}] });
  });
});
