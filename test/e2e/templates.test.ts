import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeWords, textPart } from '../mail/mime.js';
import { LocalStore } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { headerValues, type ReceivedMessage, type SmtpSink } from '../support/smtp-sink.js';

const FIXTURES = path.resolve('fixtures/templates');
const smtp = useSmtpSink();
const projectDir = useProjectDir();
let dir: string;
let sink: SmtpSink;
beforeEach(() => {
  dir = projectDir();
  sink = smtp.sink;
});

const mail = () => ['--project', 'ITH', '--smtp', sink.url, '--mail-from', 'Help Desk <help@example.com>'];
const header = (m: ReceivedMessage, name: string) => decodeWords(headerValues(m, name)[0] ?? '');
const subjects = () => Object.fromEntries(sink.accepted().map((m) => [m.rcptTo.join(','), header(m, 'Subject')]));

describe('--template-dir', () => {
  it('a template with an unknown field stops the run before anything is written or sent (exit 2, file, line, field)', async () => {
    const templates = path.join(dir, 'templates');
    await mkdir(templates);
    await writeFile(path.join(templates, 'welcome.txt'), 'Subject: Welcome to {{project}}\n\nHello {{nmae}},\n');
    await writeFile(path.join(dir, 'people.csv'), 'email,name\nann@example.com,Ann\nbo@example.com,Bo\n');
    const store = await readFile(path.join(dir, 'jsm-store.json'));
    const dry = await runCli(['import-csv', 'people.csv', ...mail(), '--template-dir', 'templates', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(2);
    const r = await runCli(['import-csv', 'people.csv', ...mail(), '--template-dir', 'templates', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'import-csv', error: { code: 'bad-template', message: 'the template templates/welcome.txt line 3: {{nmae}} is not a field the tool knows' } });
    expect(r.stderr).toContain('did you mean {{name}}?');
    expect(await readFile(path.join(dir, 'jsm-store.json'))).toEqual(store);
    expect(sink.messages).toHaveLength(0);
  });

  it('the template folder is checked with the options: before the CSV is read or the store opened', async () => {
    // Neither the CSV nor the store of another folder exists: the template folder is what is said.
    const r = await runCli(['import-csv', 'missing.csv', '--project', 'ITH', '--template-dir', 'no-such-folder', '--target', 'elsewhere/store.json', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'import-csv', error: { code: 'missing-template-dir', message: expect.stringMatching(/no-such-folder does not exist$/) } });
  });

  it('a language column (Locale) picks each customer\'s template with fallbacks; --language fills blank cells; a bad code is a row error', async () => {
    const csv = [
      'email,name,Locale',
      'anna@example.com,Anna Schmidt,de_AT',
      'ana@example.com,Ana Lima,pt-BR',
      'chloe@example.com,Chloé Martin,fr',
      'blank@example.com,Ben Blank,',
      'evil@example.com,Eve,../../etc/passwd',
    ].join('\n');
    const r = await runCli(['import-csv', '-', ...mail(), '--template-dir', FIXTURES, '--language', 'de'], { cwd: dir, input: csv });
    expect(r.code).toBe(1); // the row with a bad language is invalid, the others are done
    expect(r.stdout).toMatch(/line 6.*the language '\.\.\/\.\.\/etc\/passwd' is not a language code/);
    expect(r.stderr).toContain(`1 invitation(s) in fr used welcome.txt: ${FIXTURES} has no welcome.fr.txt`);
    expect(subjects()).toEqual({
      'anna@example.com': 'Ihr Support-Konto für IT Help ist bereit',
      'ana@example.com': 'Sua conta de suporte IT Help está pronta',
      'chloe@example.com': 'Your IT Help support account is ready',
      'blank@example.com': 'Ihr Support-Konto für IT Help ist bereit',
    });
    const anna = sink.accepted().find((m) => m.rcptTo[0] === 'anna@example.com')!;
    expect(textPart(anna.raw)).toContain('Hallo Anna Schmidt,\r\n');
    expect(headerValues(anna, 'Message-ID')[0]).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(anna.raw).not.toMatch(/(?<!\r)\n/);
  });
});

describe('invitations preview', () => {
  it('shows what a customer in the ledger, in the store, or any named address would get, sending nothing; the send matches it', async () => {
    const csv = 'email,name,language\nana@example.com,Ana Lima,pt-BR\nbob@example.com,Bob Stone,\n';
    expect((await runCli(['import-csv', '-', ...mail(), '--defer-invites'], { cwd: dir, input: csv })).code).toBe(0);
    expect((await runCli(['add-customer', '--email', 'quiet@example.com', '--name', 'Quinn Quiet', '--no-invite', '--project', 'ITH'], { cwd: dir })).code).toBe(0);
    // A customer the ledger knows nothing of (made before invitations were recorded): only the store has them.
    const edit = await LocalStore.open(path.join(dir, 'jsm-store.json'));
    edit.mutate((data) => {
      data.invitations['ITH']!.delete('quiet@example.com');
    });
    await edit.commit();
    const store = await readFile(path.join(dir, 'jsm-store.json'));
    const log = await readFile(path.join(dir, 'jsm-store.json.journal'));

    const fromLedger = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'ANA@example.com', '--mail-from', 'help@example.com', '--template-dir', FIXTURES], { cwd: dir });
    expect(fromLedger.code).toBe(0);
    const lines = fromLedger.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'From: help@example.com',
      'To: Ana Lima <ana@example.com>',
      'Subject: Sua conta de suporte IT Help está pronta',
      expect.stringMatching(/^Message-ID: <[0-9a-f]{32}@example\.com>$/),
      'Content-Type: text/plain; charset=utf-8',
    ]);
    expect(fromLedger.stdout).toContain('Olá, Ana Lima,\n');
    expect(fromLedger.stderr).toContain(`template ${path.join(FIXTURES, 'welcome.pt.txt')} (no welcome.pt-BR template: pt is used); nothing was sent`);

    const fromStore = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'quiet@example.com', '--json'], { cwd: dir });
    expect(fromStore.json()).toMatchObject({
      ok: true,
      command: 'invitations preview',
      customer: 'store',
      kind: 'welcome',
      language: null,
      sent: false,
      message: { to: 'Quinn Quiet <quiet@example.com>', subject: 'Welcome to IT Help', html: expect.stringContaining('<p style="margin:0 0 16px;">Hello Quinn Quiet,</p>') },
    });

    const anyone = await runCli(
      ['invitations', 'preview', '--project', 'ITH', '--email', 'new@example.com', '--name', 'Eve\r\nBcc: victim@evil.test <b>', '--language', 'de', '--html'],
      { cwd: dir },
    );
    expect(anyone.code).toBe(0);
    // Quoted as nodemailer writes it into the message: one name, not a second address.
    expect(anyone.stdout).toContain('To: "Eve Bcc: victim@evil.test <b>" <new@example.com>\nSubject: Willkommen bei IT Help\n');
    const comma = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'jd@example.com', '--name', 'Doe, "JD" Jane'], { cwd: dir });
    expect(comma.stdout).toContain('To: "Doe, \\"JD\\" Jane" <jd@example.com>\n');
    expect(anyone.stdout).toContain('<p style="margin:0 0 16px;">Hallo Eve Bcc: victim@evil.test &lt;b&gt;,</p>');
    expect(anyone.stdout).not.toMatch(/^Bcc:/m);

    const verify = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'bob@example.com', '--kind', 'verify', '--language', 'fr', '--json'], { cwd: dir });
    expect(verify.json()).toMatchObject({ customer: 'ledger', kind: 'verify', templateLanguage: 'fr', message: { subject: 'Confirmez votre adresse e-mail pour IT Help' } });

    const unknown = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'nobody@example.com', '--json'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown-customer', hint: 'give --name to preview the message for any address' } });

    expect(await readFile(path.join(dir, 'jsm-store.json'))).toEqual(store);
    expect(await readFile(path.join(dir, 'jsm-store.json.journal'))).toEqual(log);
    expect(sink.messages).toHaveLength(0);

    // --language for the invitations that name none; Ana's own language wins.
    const sent = await runCli(['invitations', 'send', ...mail(), '--template-dir', FIXTURES, '--language', 'de', '--json'], { cwd: dir });
    expect(sent.json()).toMatchObject({ ok: true, invitations: { sent: 2 } });
    expect(subjects()).toEqual({ 'ana@example.com': 'Sua conta de suporte IT Help está pronta', 'bob@example.com': 'Ihr Support-Konto für IT Help ist bereit' });
    const message = sink.accepted().find((m) => m.rcptTo[0] === 'ana@example.com');
    expect(`Message-ID: ${headerValues(message!, 'Message-ID')[0]}`).toBe(lines[3]);
    // Previewed again once sent: it says so (the From shown is this run's, not the one it went with).
    const again = await runCli(['invitations', 'preview', '--project', 'ITH', '--email', 'ana@example.com', '--template-dir', FIXTURES], { cwd: dir });
    expect(again.stderr).toContain(`ana@example.com was sent this invitation already (${headerValues(message!, 'Message-ID')[0]}); this shows it as it would be made now`);
    expect(sink.messages).toHaveLength(2);
  });
});

describe('--portal-url', () => {
  const PORTAL = 'https://help.example.com/servicedesk/customer/portal/3';

  it('gives invitations from the local store a portal link: flag, JSM_PORTAL_URL or the config key portalUrl', async () => {
    await writeFile(path.join(dir, 'jsm-provision.config.json'), JSON.stringify({ portalUrl: `${PORTAL}?from=config` }));
    const runs = [
      { args: ['--email', 'ann@example.com', '--portal-url', PORTAL], env: { JSM_PORTAL_URL: 'https://other.example/' } },
      { args: ['--email', 'bo@example.com'], env: { JSM_PORTAL_URL: PORTAL } },
      { args: ['--email', 'cy@example.com'], env: {} },
    ];
    for (const run of runs) {
      const r = await runCli(['add-customer', '--name', 'Someone', ...run.args, ...mail()], { cwd: dir, env: run.env });
      expect(r.code, r.stderr).toBe(0);
    }
    const texts = Object.fromEntries(sink.accepted().map((m) => [m.rcptTo.join(','), textPart(m.raw)]));
    expect(texts['ann@example.com']).toContain(`Open the customer portal:\r\n${PORTAL}\r\n`);
    expect(texts['bo@example.com']).toContain(`Open the customer portal:\r\n${PORTAL}\r\n`);
    expect(texts['cy@example.com']).toContain(`Open the customer portal:\r\n${PORTAL}?from=config\r\n`);
  });

  it('refuses what is not an http(s) address of a portal before anything is written (exit 2)', async () => {
    const store = await readFile(path.join(dir, 'jsm-store.json'));
    for (const bad of ['help.example.com/portal', 'javascript:alert(1)', 'https://admin:secret@help.example.com/']) {
      const r = await runCli(['add-customer', '--email', 'ann@example.com', '--name', 'Ann', '--portal-url', bad, ...mail(), '--json'], { cwd: dir });
      expect(r.code, bad).toBe(2);
      expect(r.json(), bad).toMatchObject({ ok: false, error: { code: 'bad-portal-url' } });
      expect(r.stdout).not.toContain('secret');
    }
    expect(await readFile(path.join(dir, 'jsm-store.json'))).toEqual(store);
    expect(sink.messages).toHaveLength(0);
  });
});
