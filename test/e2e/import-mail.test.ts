import { cp, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/local/target.js';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { headerValues, type SmtpSink } from '../support/smtp-sink.js';

const MAIL = fileURLToPath(new URL('../../fixtures/mail', import.meta.url));
const smtp = useSmtpSink();
// Relative paths from the run's folder, as a user types them: the rows' lines are these paths.
const projectDir = useProjectDir((d) => cp(MAIL, join(d, 'mail'), { recursive: true }));
let sink: SmtpSink;
let dir: string;
beforeEach(() => {
  sink = smtp.sink;
  dir = projectDir();
});

const mail = () => smtp.mail();
const importMail = (args: string[], input?: string) =>
  runCli(['import-mail', ...args, '--project', 'ITH', '--json'], { cwd: dir, ...(input !== undefined ? { input } : {}) });
/**
 * The project's customers as the next run reads the store (snapshot and journal), read in process:
 * `customers list` itself is spawned in test/e2e/foundation.cases.ts.
 */
async function storedNames(cwd: string): Promise<Record<string, string>> {
  const target = await LocalTarget.open(join(cwd, 'jsm-store.json'));
  try {
    const names: Record<string, string> = {};
    for await (const c of target.listCustomers(await target.getProject('ITH'))) names[c.email] = c.fullName;
    return names;
  } finally {
    await target.close();
  }
}
const FIXTURES = ['mail/inbox', 'mail/archive.mbox', '--exclude', 'support@example.com'];
const PEOPLE = ['grace.kim@fabrikam.example', 'jose.nunez@example.com', 'olivia.martin@northwind-traders.com', 'rene.dubois@example.fr', 'taro.yamada@example.jp'];

const SKIPPED = [
  { line: 'mail/inbox/03-out-of-office.eml', email: 'grace.kim@fabrikam.example', reason: 'automatic message (Auto-Submitted: auto-replied)', messages: 1 },
  {
    line: 'mail/inbox/04-list.eml',
    email: 'jane.roe@lists.example.net',
    reason: 'mailing-list message (List-Id: Operations announcements <ops-announce.lists.example.net>)',
    messages: 1,
  },
  { line: 'mail/inbox/05-bounce.eml', email: 'MAILER-DAEMON@mx.example.com', reason: 'a mail system address (mailer-daemon), not a person', messages: 1 },
  { line: 'mail/inbox/07-no-reply.eml', email: 'no-reply@shop.example', reason: 'a no-reply address', messages: 1 },
  { line: 'mail/inbox/08-our-reply.eml', email: 'support@example.com', reason: "the inbox's own address (--exclude support@example.com)", messages: 1 },
];

describe('import-mail of a folder of .eml files and an mbox', () => {
  it('creates each sender once and emails each one verification message, to them alone', async () => {
    const r = await importMail([...FIXTURES, ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      ok: true,
      command: 'import-mail',
      target: 'local',
      project: 'ITH',
      dryRun: false,
      totals: { rows: 5, created: 5, existing: 0, invalid: 0, duplicate: 0, failed: 0 },
      invitations: { sent: 5, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy: null, outbox: null },
      organizations: { created: 0, addedToProject: 0, memberships: 0 },
      problems: [],
      messages: { files: 10, read: 11, skipped: 5, ignoredFiles: [], skippedFolders: [] },
      skipped: SKIPPED,
    });
    expect(sink.messages).toHaveLength(5);
    for (const m of sink.messages) {
      expect(m.rcptTo).toHaveLength(1);
      expect(headerValues(m, 'subject')).toEqual(['Verify your email for IT Help']);
    }
    expect(sink.messages.map((m) => m.rcptTo[0]).sort()).toEqual(PEOPLE);
    expect(await storedNames(dir)).toEqual({
      'jose.nunez@example.com': 'José Núñez',
      'rene.dubois@example.fr': 'René Dubois',
      'taro.yamada@example.jp': '山田 太郎',
      'olivia.martin@northwind-traders.com': 'Olivia Martin',
      'grace.kim@fabrikam.example': 'Grace Kim',
    });
    const ledger = await runCli(['invitations', 'list', '--project', 'ITH', '--json'], { cwd: dir });
    const recorded = ledger.json<{ invitations: { email: string; status: string; kind: string }[] }>().invitations;
    expect(recorded.map((i) => [i.email, i.status, i.kind]).sort()).toEqual(PEOPLE.map((p) => [p, 'sent', 'verify']));
  });

  it('a second run of the same mailbox creates nobody and emails nobody (the ledger: at most once)', async () => {
    await importMail([...FIXTURES, ...mail()]);
    sink.messages.length = 0;
    const again = await importMail([...FIXTURES, ...mail()]);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ totals: { rows: 5, created: 0, existing: 5 }, invitations: { sent: 0 } });
    expect(sink.messages).toHaveLength(0);
  });

  it('sends nothing when the project says "Do not send account verification emails"', async () => {
    // Switched in process: set-notifications is spawned in test/e2e/foundation.cases.ts.
    const target = await LocalTarget.open(join(dir, 'jsm-store.json'));
    await target.setSendVerificationEmails('ITH', false);
    await target.close();
    const r = await importMail([...FIXTURES, ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      totals: { created: 5 },
      invitations: { sent: 0, suppressed: 5, pending: 0, suppressedBy: 'project-setting' },
    });
    expect(sink.messages).toHaveLength(0);
  });

  it('--defer-invites records verification messages as pending; `invitations send` sends them once', async () => {
    const r = await importMail([...FIXTURES, '--defer-invites', ...mail()]);
    expect(r.json()).toMatchObject({ totals: { created: 5 }, invitations: { sent: 0, pending: 5 } });
    expect(sink.messages).toHaveLength(0);
    const send = await runCli(['invitations', 'send', '--project', 'ITH', '--json', ...mail()], { cwd: dir });
    expect(send.json()).toMatchObject({ invitations: { sent: 5 } });
    expect(sink.messages.map((m) => headerValues(m, 'subject')[0])).toEqual(Array(5).fill('Verify your email for IT Help'));
  });

  it('--dry-run writes and sends nothing; the human summary lists who was skipped and why', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'));
    const r = await runCli(['import-mail', ...FIXTURES, '--project', 'ITH', '--dry-run', ...mail()], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'Dry run: nothing was written and nothing was sent.',
      `import-mail into ITH (local store ${join(dir, 'jsm-store.json')})`,
      '  5 rows: 5 to create, 0 existing, 0 invalid, 0 duplicate, 0 failed',
      '  invitations: 5 would be sent by SMTP',
      '  11 messages read from 10 files: 5 addresses to provision, 5 messages skipped',
      'Skipped (not provisioned):',
      ...SKIPPED.map((s) => `  ${s.line}: ${s.email}: ${s.reason}`),
      '',
    ]);
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(before)).toBe(true);
    expect(sink.messages).toHaveLength(0);
  });

  it('--report: every row and every skip in message order, with how many messages each address sent', async () => {
    const r = await importMail([...FIXTURES, '--include-cc', '--no-invite', '--report', 'people.csv']);
    expect(r.code).toBe(0);
    const report = await readFile(join(dir, 'people.csv'), 'utf8');
    expect(report.split('\r\n')).toEqual([
      '\ufeffline,email,fullName,status,invitation,reason,organizations,messages',
      "mail/inbox/01-jose.eml,jose.nunez@example.com,José Núñez,created,suppressed,the run was given --no-invite,,2",
      `mail/inbox/01-jose.eml,ann.lee@example.org,"Lee, Ann",created,suppressed,the run was given --no-invite,,1`,
      "mail/inbox/01-jose.eml,support@example.com,,skipped,none,Cc: the inbox's own address (--exclude support@example.com),,1",
      "mail/inbox/02-rene.eml,rene.dubois@example.fr,René Dubois,created,suppressed,the run was given --no-invite,,1",
      ...SKIPPED.slice(0, 4).map((s) => `${s.line},${s.email},,skipped,none,${s.reason.includes(',') ? `"${s.reason}"` : s.reason},,1`),
      `${SKIPPED[4]?.line},support@example.com,,skipped,none,${SKIPPED[4]?.reason},,1`,
      "mail/inbox/older/taro.eml,taro.yamada@example.jp,山田 太郎,created,suppressed,the run was given --no-invite,,1",
      "mail/archive.mbox#1,olivia.martin@northwind-traders.com,Olivia Martin,created,suppressed,the run was given --no-invite,,1",
      "mail/archive.mbox#2,grace.kim@fabrikam.example,Grace Kim,created,suppressed,the run was given --no-invite,,1",
      '',
    ]);
    const json = await importMail([...FIXTURES, '--report', 'people.json', '--no-invite']);
    const doc = JSON.parse(await readFile(join(dir, 'people.json'), 'utf8'));
    expect(json.code).toBe(0);
    expect(doc.messages).toEqual({ files: 10, read: 11, skipped: 5, ignoredFiles: [], skippedFolders: [] });
    expect(doc.rows[0]).toEqual({ line: 'mail/inbox/01-jose.eml', email: 'jose.nunez@example.com', fullName: 'José Núñez', status: 'existing', invitation: 'none', reason: null, organizations: [], messages: 2 });
    expect(doc.rows.map((x: { status: string }) => x.status).filter((s: string) => s === 'skipped')).toHaveLength(5);
  });
});

describe('import-mail of one message on standard input', () => {
  const message = (from: string) => `From: ${from}\r\nTo: support@example.com\r\nSubject: Help\r\n\r\nPlease help.\r\n`;

  it('reads it, names its line -, and reports a sender address that is not an email as invalid (exit 1)', async () => {
    const r = await importMail(['-', '--no-invite'], message('=?utf-8?Q?Zo=C3=AB?= <zoe@example.com>'));
    expect(r.code).toBe(0);
    expect(await storedNames(dir)).toEqual({ 'zoe@example.com': 'Zoë' });
    const bad = await importMail(['-', '--no-invite'], message('Printer <printer@localhost>'));
    expect(bad.code).toBe(1);
    expect(bad.json()).toMatchObject({
      totals: { rows: 1, invalid: 1 },
      problems: [{ line: '-', email: 'printer@localhost', status: 'invalid', reason: "'printer@localhost' is not an email address: the domain \"localhost\" has no dot" }],
    });
  });
});

describe('import-mail refuses what it cannot read (exit 2, nothing written)', () => {
  it('a missing path, a CSV file, an empty folder, a bad --exclude, contradicting flags', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'));
    const missing = await importMail(['mail/inbox', 'mail/nope.mbox']);
    expect(missing.code).toBe(2);
    expect(missing.json()).toMatchObject({ ok: false, command: 'import-mail', error: { code: 'unreadable-input' } });
    expect(missing.stderr).toContain('Cannot read mail/nope.mbox: no such file or directory (ENOENT).');
    await cp(join(MAIL, '..', 'customers.csv'), join(dir, 'customers.csv'));
    expect((await importMail(['customers.csv'])).json()).toMatchObject({ error: { code: 'not-mail' } });
    expect((await importMail(['mail/inbox/older', '-'], '')).json()).toMatchObject({ error: { code: 'not-mail', message: 'standard input is neither an mbox file nor an email message' } });
    expect((await importMail(['mail/inbox', '--exclude', 'example.com'])).json()).toMatchObject({ error: { code: 'bad-option' } });
    expect((await importMail(['mail/inbox', '--no-invite', '--defer-invites'])).code).toBe(2);
    expect((await importMail([])).code).toBe(2);
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(before)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['customers.csv', 'jsm-store.json', 'mail']);
  });
});
