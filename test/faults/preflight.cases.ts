import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { closedPort } from '../mail/fixtures.js';

/**
 * Settings that cannot work are found before the first write: exit 2, one JSON error object with
 * its code and a hint, the store byte for byte as it was, no report, no outbox, nothing at the sink.
 */
const smtp = useSmtpSink();
const projectDir = useProjectDir();
const CSV = 'email,name\nann@example.com,Ann Lee\nbob@example.com,Bob Stone\n';

async function stoppedBeforeWriting(extra: string[], code: string, env: Record<string, string> = {}): Promise<CliResult> {
  const dir = projectDir();
  await writeFile(join(dir, 'in.csv'), CSV);
  const store = await readFile(join(dir, 'jsm-store.json'));
  const before = (await readdir(dir)).sort();
  const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...extra], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(2);
  const body = r.json<{ ok: boolean; error: { code: string; message: string; hint?: string } }>();
  expect(body.ok).toBe(false);
  expect(body.error.code).toBe(code);
  expect(body.error.hint).toBeTruthy();
  expect((await readFile(join(dir, 'jsm-store.json'))).equals(store)).toBe(true);
  expect((await readdir(dir)).sort()).toEqual(before);
  expect(await readFile(join(dir, 'in.csv'), 'utf8')).toBe(CSV);
  expect(smtp.sink.messages).toHaveLength(0);
  return r;
}

describe('preflight: the report', () => {
  it('--report equal to the input CSV never overwrites it: report-is-input', async () => {
    await stoppedBeforeWriting(['--report', 'in.csv', ...smtp.mail()], 'report-is-input');
  });

  it('--report in a folder that does not exist: report-unwritable, and the folder is not made', async () => {
    const r = await stoppedBeforeWriting(['--report', 'missing/result.csv', ...smtp.mail()], 'report-unwritable');
    expect(r.json<{ error: { message: string } }>().error.message).toContain('does not exist');
  });

  it('--report where no file can be made (/proc): report-unwritable', async () => {
    await stoppedBeforeWriting(['--report', '/proc/result.csv', ...smtp.mail()], 'report-unwritable');
  });

  // chattr +i needs root and a file system that keeps the flag (not tmpfs on every kernel).
  const immutable = (file: string): boolean => spawnSync('chattr', ['+i', file]).status === 0;
  it('--report over a file that can never be replaced (immutable): report-unwritable before anything is written', async (ctx) => {
    const dir = projectDir();
    const old = join(dir, 'old.csv');
    await writeFile(old, 'old\n');
    if (!immutable(old)) {
      console.log('skipped: chattr +i is not allowed here');
      ctx.skip();
    }
    try {
      const r = await stoppedBeforeWriting(['--report', 'old.csv', ...smtp.mail()], 'report-unwritable');
      expect(r.json<{ error: { message: string } }>().error.message).toContain('may not be changed (it is immutable or append-only)');
    } finally {
      spawnSync('chattr', ['-i', old]);
    }
  });
});

describe('preflight: how invitations leave', () => {
  it('--outbox under /proc fails at once (it used to never return): outbox-unwritable', async () => {
    await stoppedBeforeWriting(['--outbox', '/proc/jsm-provision/outbox', '--report', 'result.csv'], 'outbox-unwritable');
  });

  it('an SMTP server nobody answers at: smtp-unreachable, with the report not written', async () => {
    const port = await closedPort();
    await stoppedBeforeWriting(['--smtp', `smtp://127.0.0.1:${port}`, '--mail-from', 'help@example.com', '--report', 'result.json'], 'smtp-unreachable');
  });

  it('a sender the server refuses: smtp-sender-refused', async () => {
    smtp.sink.setFaults({ refuse: 'mail' });
    await stoppedBeforeWriting([...smtp.mail(), '--report', 'result.csv'], 'smtp-sender-refused');
    expect(smtp.sink.mailFrom.map((m) => m.address)).toEqual(['help@example.com']);
  });

  it('an SMTP URL holding a password is refused, and the password shows nowhere', async () => {
    const r = await stoppedBeforeWriting(['--smtp', `smtp://helpdesk:Hunter2Secret@127.0.0.1:${smtp.sink.port}`, '--mail-from', 'help@example.com'], 'smtp-password-in-url');
    expect(r.stdout + r.stderr).not.toContain('Hunter2Secret');
    expect(r.stderr).toContain('JSM_SMTP_PASSWORD');
  });
});
