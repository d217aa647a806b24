import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

/** The SMTP password comes from JSM_SMTP_PASSWORD or a file, is checked before the first write, and never shows. */
const PASSWORD = 'Sm7p:Pass@word/Secret';
let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink({ auth: { user: 'helpdesk', pass: PASSWORD } });
});
afterAll(async () => {
  await sink.close();
});
beforeEach(() => {
  sink.messages.length = 0;
  sink.mailFrom.length = 0;
});
const projectDir = useProjectDir();
const CSV = 'email,name\nann@example.com,Ann Lee\nbob@example.com,Bob Stone\n';

function args(extra: string[]): string[] {
  return ['import-csv', 'in.csv', '--project', 'ITH', '--json', '--report', 'result.json', '--smtp', `smtp://helpdesk@127.0.0.1:${sink.port}`, '--mail-from', 'help@example.com', ...extra];
}

function noPassword(text: string): void {
  for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('base64')]) expect(text).not.toContain(form);
}

describe('SMTP password from the environment or a file', () => {
  it('JSM_SMTP_PASSWORD logs in; --smtp-name is the EHLO name the server sees', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), CSV);
    const r = await runCli(args(['--smtp-name', 'provisioner.example.com']), { cwd: dir, env: { JSM_SMTP_PASSWORD: PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, invitations: { sent: 2 } });
    expect(sink.accepted().map((m) => m.rcptTo[0]).sort()).toEqual(['ann@example.com', 'bob@example.com']);
    // the preflight's MAIL FROM, then the two invitations: all under the name given
    expect(new Set(sink.mailFrom.map((m) => m.helo))).toEqual(new Set(['provisioner.example.com']));
    noPassword(r.stdout + r.stderr + (await readFile(join(dir, 'result.json'), 'utf8')));
  });

  it('--smtp-password-file reads the first line of the file', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), CSV);
    await writeFile(join(dir, 'smtp-password'), `${PASSWORD}\n`);
    await chmod(join(dir, 'smtp-password'), 0o600);
    const r = await runCli(args(['--smtp-password-file', 'smtp-password']), { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(sink.accepted()).toHaveLength(2);
    noPassword(r.stdout + r.stderr);
  });

  it('a wrong password stops before the first write: smtp-login-refused, exit 2, nothing written or sent', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), CSV);
    const store = await readFile(join(dir, 'jsm-store.json'));
    const wrong = 'Not-The-Right-One';
    const r = await runCli(args([]), { cwd: dir, env: { JSM_SMTP_PASSWORD: wrong } });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'import-csv', error: { code: 'smtp-login-refused' } });
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect((await readFile(join(dir, 'jsm-store.json'))).equals(store)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['in.csv', 'jsm-store.json']);
    expect(sink.messages).toHaveLength(0);
  });
});
