import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';

/**
 * Terminal control sequences and bidi overrides in a CSV's header and cells never reach the
 * terminal raw: they are shown as U+XXXX on stdout and stderr, in text and in --json, and in the
 * CSV report. (They can retitle, clear or disguise what the admin reads.)
 */
const projectDir = useProjectDir();
const ESC = '\u001b';
const RLO = '\u202e';
const RAW = /[\u001b\u0007\u202e]/;

const CSV = [
  `email,name,"note${ESC}]0;pwned\u0007"`,
  `ann${ESC}[2J@example.com,Ann Lee,x`,
  `bob@example.com,"Bob ${RLO}gnp.exe",x`,
  `${ESC}[31m=cmd@example.com,Eve,x`,
  'carol@example.com,Carol King,x',
  '',
].join('\n');

describe('input shown through printable()', () => {
  it('text output: problems list emails and reasons with U+001B and U+202E, never the raw characters', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), CSV);
    const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--report', 'result.csv'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stdout).toContain('annU+001B[2J@example.com');
    expect(r.stdout).toContain('U+202E');
    const report = await readFile(join(dir, 'result.csv'), 'utf8');
    expect(report).not.toMatch(RAW);
    expect(report).toContain('annU+001B[2J@example.com');
  });

  it('--json: the one object keeps the values (escaped in the bytes), with no raw control character', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), CSV);
    const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--json', '--report', 'result.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stderr).not.toMatch(RAW);
    const body = r.json<{ problems: { email: string }[] }>();
    expect(body.problems.map((p) => p.email)).toContain(`ann${ESC}[2J@example.com`);
    const report = await readFile(join(dir, 'result.json'), 'utf8');
    expect(report).not.toMatch(RAW);
    const rows = (JSON.parse(report) as { rows: { fullName: string }[] }).rows;
    expect(rows.map((row) => row.fullName)).toContain(`Bob ${RLO}gnp.exe`);
  });

  it('a header with control characters, in an error that stops the run', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'bad.csv'), `"e${ESC}[31mmail${RLO}",name\nann@example.com,Ann\n`);
    const r = await runCli(['import-csv', 'bad.csv', '--project', 'ITH', '--no-invite'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain('U+001B');
  });
});
