// Split from foundation.cases.ts so that two workers share its spawns.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/local/target.js';
import { runCli } from '../support/cli.js';
import { readStore } from '../support/store.js';
import { createProjectStore, useSmtpSink } from '../support/e2e.js';
import { headerValues, type SmtpSink } from '../support/smtp-sink.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const smtp = useSmtpSink();
let sink: SmtpSink;
let dir: string;
beforeEach(async () => {
  sink = smtp.sink;
  dir = await tempDir();
});

const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
function withSmtp(args: string[]): string[] {
  return [...args, ...smtp.mail()];
}

/** `project create` by the CLI: the contract tests of the project commands. */
async function createProject(): Promise<void> {
  const r = await cli(['project', 'create', 'ITH', '--name', 'IT Help']);
  expect(r.code).toBe(0);
}

/** The same store made in process, for tests about other commands (one spawn less each). */
const projectStore = (): Promise<unknown> => createProjectStore(dir);

describe('add-customer', () => {
  it('creates a customer, invites them by SMTP, and treats the same email in another case as existing', async () => {
    await projectStore();
    const first = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'Fred@Example.com', '--name', ' Fred \n Jones ', '--json']));
    expect(first.code).toBe(0);
    expect(first.json()).toEqual({
      ok: true,
      command: 'add-customer',
      target: 'local',
      project: 'ITH',
      dryRun: false,
      totals: { rows: 1, created: 1, existing: 0, invalid: 0, duplicate: 0, failed: 0 },
      invitations: { sent: 1, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy: null, outbox: null },
      organizations: { created: 0, addedToProject: 0, memberships: 0 },
      problems: [],
    });
    expect(sink.messages).toHaveLength(1);
    // nodemailer lower-cases the domain (IDNA); the local part is kept as given.
    expect(sink.messages[0]?.rcptTo).toEqual(['Fred@example.com']);
    expect(headerValues(sink.messages[0]!, 'subject')).toEqual(['Welcome to IT Help']);
    const again = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'fred@EXAMPLE.com', '--name', 'Fred Jones', '--json']));
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ totals: { created: 0, existing: 1 }, invitations: { sent: 0 } });
    expect(sink.messages).toHaveLength(1);
    const list = await cli(['customers', 'list', '--project', 'ITH', '--json']);
    expect(list.json()).toMatchObject({ count: 1, customers: [{ email: 'Fred@Example.com', fullName: 'Fred Jones', passwordSet: false }] });
  });

  it('sends nothing when the project setting is on, or with --no-invite, and says why', async () => {
    await projectStore();
    const flag = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', '--no-invite', '--json']));
    expect(flag.json()).toMatchObject({ ok: true, invitations: { sent: 0, suppressed: 1, suppressedBy: 'flag' } });
    // The setting itself is switched in process (its command is spawned in 'project commands').
    const target = await LocalTarget.open(join(dir, 'jsm-store.json'));
    await target.setSendVerificationEmails('ITH', false);
    await target.close();
    const setting = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'b@example.com', '--name', 'B', '--json']));
    expect(setting.json()).toMatchObject({ ok: true, invitations: { sent: 0, suppressed: 1, suppressedBy: 'project-setting' } });
    const both = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'c@example.com', '--name', 'C', '--no-invite', '--json']));
    expect(both.json()).toMatchObject({ invitations: { suppressedBy: 'project-setting' } });
    expect(sink.messages).toHaveLength(0);
  });

  it('writes an .eml to the outbox beside the store when no SMTP server is configured', async () => {
    await projectStore();
    const r = await cli(['add-customer', '--project', 'ITH', '--email', 'ann@example.com', '--name', 'Ann Lee']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`to the outbox ${join(dir, 'outbox')}`);
    const files = await readdir(join(dir, 'outbox'));
    expect(files).toHaveLength(1);
    const eml = await readFile(join(dir, 'outbox', files[0]!), 'utf8');
    expect(eml).toMatch(/^To: Ann Lee <ann@example\.com>$/m);
    expect(eml).toMatch(/^Subject: Welcome to IT Help$/m);
  });

  it('never lets a name add a header or a recipient (checked at the SMTP server)', async () => {
    await projectStore();
    const r = await cli(withSmtp(['add-customer', '--project', 'ITH', '--email', 'eve@example.com', '--name', 'Eve\r\nBcc: attacker@evil.test', '--json']));
    // CR/LF fold into a space: the name is valid, and nothing leaks into the headers.
    expect(r.code).toBe(0);
    expect(sink.messages).toHaveLength(1);
    const message = sink.messages[0]!;
    expect(message.rcptTo).toEqual(['eve@example.com']);
    expect(headerValues(message, 'bcc')).toEqual([]);
    expect(headerValues(message, 'to')).toHaveLength(1);
  });

  it('refuses an invalid email as an invalid row (exit 1) and a name with control characters', async () => {
    await projectStore();
    const r = await cli(['add-customer', '--project', 'ITH', '--email', 'not-an-email', '--name', 'X', '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({
      ok: false,
      totals: { rows: 1, invalid: 1, created: 0 },
      problems: [{ line: 1, email: 'not-an-email', status: 'invalid', reason: "'not-an-email' is not an email address: it has no @" }],
    });
    const ctl = await cli(['add-customer', '--project', 'ITH', '--email', 'x@example.com', '--name', 'Bad\u0007Bell', '--json']);
    expect(ctl.code).toBe(1);
    expect(ctl.json()).toMatchObject({ problems: [{ status: 'invalid', reason: expect.stringContaining('control characters') }] });
    // In words: no "line 1" (the flags are the input), and no CSV "cell" in the fix.
    const pw = join(dir, 'short.txt');
    await writeFile(pw, 'short\n', { mode: 0o600 });
    const short = await cli(['add-customer', '--project', 'ITH', '--email', 'ok@example.com', '--name', 'O K', '--password-file', pw, '--no-invite']);
    expect(short.code).toBe(1);
    expect(short.stdout).toContain(
      '\n  [invalid] ok@example.com: the password is shorter than 8 characters; give another, or none to create the customer without a predefined password\n',
    );
  });

  it('without a terminal, never waits: exit 2 naming what is missing', async () => {
    await projectStore();
    const r = await cli(['add-customer', '--project', 'ITH', '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'add-customer', error: { code: 'missing-option', message: expect.stringContaining('--email and --name') } });
  });

  it('takes a password from stdin and keeps it out of stdout, stderr, the store and the outbox', async () => {
    await projectStore();
    const password = 'Sup3r-Secret-Pw!';
    const r = await cli(['add-customer', '--project', 'ITH', '--email', 'pw@example.com', '--name', 'Pat W', '--password-stdin', '--json'], `${password}\n`);
    expect(r.code).toBe(0);
    // The store: its snapshot and its log.
    const store = (await readFile(join(dir, 'jsm-store.json'), 'utf8')) + (await readFile(join(dir, 'jsm-store.json.journal'), 'utf8'));
    const outbox = await readdir(join(dir, 'outbox'));
    const eml = await readFile(join(dir, 'outbox', outbox[0]!), 'utf8');
    for (const text of [r.stdout, r.stderr, store, eml]) expect(text).not.toContain(password);
    expect(store).toContain('{PKCS5S2}');
    expect(eml).toMatch(/change/i);
    const list = await cli(['customers', 'list', '--project', 'ITH', '--json']);
    expect(list.json()).toMatchObject({ customers: [{ passwordSet: true, mustChangePassword: true }] });
    expect(list.stdout).not.toContain('PKCS5S2');
  });

  it('a password given for a customer who exists is not set, and the row says so', async () => {
    await projectStore();
    const first = await cli(['add-customer', '--project', 'ITH', '--email', 'a1@example.com', '--name', 'A One', '--no-invite']);
    expect(first.code).toBe(0);
    const hashBefore = (await readStore(dir)).customers['a1@example.com'];
    const again = await cli(['add-customer', '--project', 'ITH', '--email', 'a1@example.com', '--name', 'A One', '--password-stdin', '--no-invite', '--json'], 'Other-Passw0rd\n');
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ totals: { existing: 1 } });
    expect((await readStore(dir)).customers['a1@example.com']).toEqual(hashBefore);
    expect(again.stderr).toContain('a1@example.com exists already: the password given was ignored');
    // From a CSV password cell: the report's reason says it.
    await writeFile(join(dir, 'pw.csv'), 'email,name,password\na1@example.com,A One,Other-Passw0rd\n');
    const csv = await runCli(['import-csv', 'pw.csv', '--project', 'ITH', '--no-invite', '--report', 'r.csv'], { cwd: dir });
    expect(csv.code, csv.stderr).toBe(0);
    expect(await readFile(join(dir, 'r.csv'), 'utf8')).toContain('the password given was ignored: the customer exists');
    expect(csv.stdout + csv.stderr + again.stdout + again.stderr).not.toContain('Other-Passw0rd');
  });

  it('reads --password-file and shows a generated password once, on stderr only', async () => {
    await projectStore();
    await writeFile(join(dir, 'pw.txt'), 'From-A-File-123\n', { mode: 0o600 });
    const file = await cli(['add-customer', '--project', 'ITH', '--email', 'f@example.com', '--name', 'F', '--password-file', 'pw.txt', '--no-invite']);
    expect(file.code).toBe(0);
    expect(file.stdout + file.stderr).not.toContain('From-A-File-123');
    const gen = await cli(['add-customer', '--project', 'ITH', '--email', 'g@example.com', '--name', 'G', '--generate-password', '--no-invite', '--json']);
    expect(gen.code).toBe(0);
    const shown = /shown once; give it by a safe channel\): (\S+)/.exec(gen.stderr)?.[1] ?? '';
    expect(shown).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{20}$/);
    expect(gen.stdout).not.toContain(shown);
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).not.toContain(shown);
  });

  it('refuses a password given two ways, and never takes one as an option value', async () => {
    await projectStore();
    const two = await cli(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', '--generate-password', '--password-stdin']);
    expect(two.code).toBe(2);
    const value = await cli(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', '--password', 'hunter22', '--json']);
    expect(value.code).toBe(2);
    expect(value.json()).toMatchObject({ ok: false, error: { code: 'unknown-option', hint: expect.stringContaining('--password-stdin, --password-file or --generate-password') } });
    // Written with "=", the value is part of the option commander names: it is shown as "…".
    for (const args of [['--password=hunter22'], ['--token=hunter22', '--json'], ['--password-stdin=hunter22'], ['-phunter22', '--json']]) {
      const r = await cli(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toContain('hunter22');
      expect(r.stderr).toContain(`unknown option '${(args[0] as string).replace('=hunter22', '=…').replace('-phunter22', '-p…')}'`);
      expect(r.stderr).toContain('never option values');
    }
  });

  it('keeps the store file mode 600', async () => {
    await createProject();
    expect((await stat(join(dir, 'jsm-store.json'))).mode & 0o777).toBe(0o600);
  });
});
