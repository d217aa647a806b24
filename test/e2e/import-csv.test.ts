import { readFile, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { headerValues, type SmtpSink } from '../support/smtp-sink.js';
import { readStore, storedNames } from '../support/store.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const smtp = useSmtpSink();
const projectDir = useProjectDir();
let dir: string;
let sink: SmtpSink;
beforeEach(() => {
  dir = projectDir();
  sink = smtp.sink;
});

const mail = () => smtp.mail();
const importCsv = (file: string, extra: string[] = [], input?: string) =>
  runCli(['import-csv', file, '--project', 'ITH', '--json', ...extra], { cwd: dir, ...(input !== undefined ? { input } : {}) });

describe('import-csv of the shipped sample', () => {
  it('creates 18, reports the invalid row and the duplicate by line, and emails each new customer once', async () => {
    const r = await importCsv(fixture('customers.csv'), mail());
    expect(r.code).toBe(1);
    expect(r.json()).toEqual({
      ok: false,
      command: 'import-csv',
      target: 'local',
      project: 'ITH',
      dryRun: false,
      totals: { rows: 20, created: 18, existing: 0, invalid: 1, duplicate: 1, failed: 0 },
      invitations: { sent: 18, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy: null, outbox: null },
      organizations: { created: 0, addedToProject: 0, memberships: 0 },
      problems: [
        { line: 13, email: 'not-an-email', status: 'invalid', reason: "'not-an-email' is not an email address: it has no @" },
        { line: 15, email: 'OLIVIA.MARTIN@Northwind-Traders.com', status: 'duplicate', reason: 'same email as line 2 (emails are compared without regard to case)' },
      ],
    });
    expect(sink.messages).toHaveLength(18);
    for (const m of sink.messages) {
      expect(m.rcptTo).toHaveLength(1);
      expect(headerValues(m, 'subject')).toEqual(['Welcome to IT Help']);
    }
    expect(new Set(sink.messages.map((m) => m.rcptTo[0])).size).toBe(18);
    const names = await storedNames(dir);
    expect(names['jose.nunez@northwind-traders.com']).toBe('José Núñez');
    expect(names['grace.kim@fabrikam.example']).toBe('Grace Kim');
    const store = await readStore(dir);
    expect(Object.values(store.customers).filter((c) => c.mustChangePassword)).toHaveLength(3);
    expect(JSON.stringify(store)).not.toContain('Welcome-2026-Rossi');
  });

  it('a second import of the same file creates nobody and invites nobody', async () => {
    await importCsv(fixture('customers.csv'), mail());
    sink.messages.length = 0;
    const again = await importCsv(fixture('customers.csv'), mail());
    expect(again.json()).toMatchObject({ totals: { rows: 20, created: 0, existing: 18, invalid: 1, duplicate: 1 }, invitations: { sent: 0 } });
    expect(sink.messages).toHaveLength(0);
  });

  it('--dry-run changes no byte of the store, writes no outbox and sends nothing', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'));
    const r = await importCsv(fixture('customers.csv'), mail().concat('--dry-run'));
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ dryRun: true, totals: { created: 18, invalid: 1, duplicate: 1 }, invitations: { sent: 18 } });
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(before)).toBe(true);
    expect(sink.messages).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['jsm-store.json']);
  });

  it('writes a CSV report of every row, with formula cells neutralised', async () => {
    const csv = 'email,name\n=cmd(1)@example.com,=HYPERLINK("http://evil.test")\nok@example.com,"+Plus, Minus"\n';
    const r = await importCsv('-', ['--report', 'out.csv', '--no-invite'], csv);
    expect(r.code).toBe(1);
    const report = await readFile(join(dir, 'out.csv'), 'utf8');
    expect(report.split('\r\n')).toEqual([
      '\ufeffline,email,fullName,status,invitation,reason,organizations',
      `2,'=cmd(1)@example.com,"'=HYPERLINK(""http://evil.test"")",invalid,none,"'=cmd(1)@example.com' is not an email address: ""("" may not appear before the @",`,
      `3,ok@example.com,"'+Plus, Minus",created,suppressed,the run was given --no-invite,`,
      '',
    ]);
    const json = await importCsv('-', ['--report', 'out.json', '--no-invite'], csv);
    const rows = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')).rows;
    expect(json.code).toBe(1);
    expect(rows.map((x: { status: string }) => x.status)).toEqual(['invalid', 'existing']);
  });
});

// Every export shape is read through the whole pipeline in process (test/core/import-shapes.test.ts);
// these spawns keep what only the built CLI shows: a real export end to end with SMTP, the
// --encoding option, and a password cell that must not reach stdout or stderr.
describe('import-csv of real-world export shapes', () => {
  it('Excel "CSV UTF-8" (BOM, CRLF, quoted comma, empty formatted row)', async () => {
    const r = await importCsv(fixture('csv/excel-utf8-bom.csv'), mail());
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ totals: { rows: 4, created: 4 }, problems: [] });
    expect(await storedNames(dir)).toEqual({
      'ana.silva@example.com': 'Ana Silva',
      'jose.nunez@example.com': 'José Núñez',
      'lee.chen@example.com': 'Chen, Lee',
      'maria.garcia@example.com': 'María García',
    });
    expect(sink.messages.map((m) => m.rcptTo[0]).sort()).toEqual(['ana.silva@example.com', 'jose.nunez@example.com', 'lee.chen@example.com', 'maria.garcia@example.com']);
  });

  it('windows-1252 with € and é, given --encoding', async () => {
    const r = await importCsv(fixture('csv/windows-1252.csv'), ['--encoding', 'windows-1252', '--no-invite']);
    expect(r.code).toBe(0);
    expect(await storedNames(dir)).toEqual({
      'rene.dubois@example.fr': 'René Dubois',
      'accounts@example.com': 'Accounts (€) Desk',
      'chloe.lefevre@example.fr': 'Chloé Lefèvre',
    });
  });

  it('pipe-delimited, where an unquoted | in a password makes that row invalid and the rest go on', async () => {
    const r = await importCsv(fixture('csv/pipe.csv'), ['--no-invite']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ totals: { rows: 3, created: 2, invalid: 1 }, problems: [{ line: 4, email: '', reason: expect.stringContaining('line 4 has 4 cells but the header has 3') }] });
    expect(r.stdout + r.stderr).not.toContain('1843');
  });
});

describe('import-csv refuses what it cannot read (exit 2, nothing written)', () => {
  it('a file with no email column names the headers and the --map that fixes it', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'));
    const r = await importCsv('-', [], 'Customer E-mail Addr,Name\nx@example.com,X\n');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'no-email-column' } });
    expect(r.stderr).toContain('--map email="Customer E-mail Addr"');
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(before)).toBe(true);
    const mapped = await importCsv('-', ['--map', 'email=Customer E-mail Addr', '--no-invite'], 'Customer E-mail Addr,Name\nx@example.com,X\n');
    expect(mapped.code).toBe(0);
  });

  it('a legacy --encoding for a UTF-8 file whose first accented name comes after thousands of rows', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'));
    const rows = Array.from({ length: 5000 }, (_, i) => `user${i}@example.com,User Number ${i}`);
    const text = `email,name\n${rows.join('\n')}\njose@example.com,José García\n`;
    const r = await importCsv('-', ['--encoding', 'windows-1252', '--no-invite'], text);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'encoding-conflict', message: expect.stringContaining('line 5002 has a character written as UTF-8') } });
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(before)).toBe(true);
    // The same file saved as windows-1252 is read with it, "José García" intact.
    const legacy = join(dir, 'legacy.csv');
    await writeFile(legacy, Buffer.from(text, 'latin1'));
    const ok = await importCsv(legacy, ['--encoding', 'windows-1252', '--no-invite', '--report', 'legacy.json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readFile(join(dir, 'legacy.json'), 'utf8')).toMatch(/"fullName": ?"José García"/);
  });

  it('a missing file, a bad delimiter, a bad report name, contradicting flags', async () => {
    expect((await importCsv('nope.csv')).json()).toMatchObject({ error: { code: 'unreadable-input' } });
    expect((await importCsv(fixture('customers.csv'), ['--delimiter', 'x'])).code).toBe(2);
    expect((await importCsv(fixture('customers.csv'), ['--report', 'out.txt'])).code).toBe(2);
    expect((await importCsv(fixture('customers.csv'), ['--no-invite', '--defer-invites'])).code).toBe(2);
    expect((await importCsv(fixture('customers.csv'), ['--concurrency', '0'])).code).toBe(2);
    expect(sink.messages).toHaveLength(0);
  });
});
