import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { closedPort } from '../mail/fixtures.js';
import { tmpfsAvailable } from '../support/tmpfs.js';

/** The preflight of every command that writes: add-customer, invitations send, and the store's own folder. */
const smtp = useSmtpSink();
const projectDir = useProjectDir();
const tempDir = useTempDirs();

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = (await readFile(join(dir, name).toString())).toString('base64');
  return files;
}

describe('preflight of other commands', () => {
  it('add-customer with an outbox that cannot be made: exit 2, nothing written', async () => {
    const dir = projectDir();
    const before = await snapshot(dir);
    const r = await runCli(['add-customer', '--project', 'ITH', '--email', 'ann@example.com', '--name', 'Ann Lee', '--outbox', '/proc/none/outbox', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'add-customer', error: { code: 'outbox-unwritable' } });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('--dry-run checks the report only: an unreachable SMTP server does not stop it, and nothing is written', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const before = await snapshot(dir);
    const port = await closedPort();
    const r = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--dry-run', '--smtp', `smtp://127.0.0.1:${port}`, '--mail-from', 'help@example.com', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: true, invitations: { sent: 1 } });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('invitations send to an SMTP server nobody answers at: exit 2, the ledger unchanged, nothing sent', async () => {
    const dir = projectDir();
    await writeFile(join(dir, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
    expect((await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--defer-invites'], { cwd: dir })).code).toBe(0);
    const before = await snapshot(dir);
    const port = await closedPort();
    const r = await runCli(['invitations', 'send', '--project', 'ITH', '--smtp', `smtp://127.0.0.1:${port}`, '--mail-from', 'help@example.com', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'smtp-unreachable' } });
    expect(await snapshot(dir)).toEqual(before);
    expect(smtp.sink.messages).toHaveLength(0);
  });
});

const { ok: root, reason: noTmpfs } = tmpfsAvailable();
describe.skipIf(!root)('preflight: the local store on a read-only file system (a tmpfs mounted by the test, as root)', () => {
  it('store-unwritable: exit 2, the store unchanged, nothing sent', async () => {
    const base = await tempDir();
    const mnt = join(base, 'ro');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      expect((await runCli(['project', 'create', 'ITH', '--name', 'IT Help'], { cwd: mnt })).code).toBe(0);
      await writeFile(join(base, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const before = await snapshot(mnt);
      const r = await runCli(['import-csv', join(base, 'in.csv'), '--project', 'ITH', '--json', '--report', join(base, 'result.csv'), ...smtp.mail()], { cwd: mnt });
      expect(r.code).toBe(2);
      expect(r.json()).toMatchObject({ error: { code: 'store-unwritable' } });
      expect(r.json<{ error: { message: string } }>().error.message).toContain('read-only');
      expect(await snapshot(mnt)).toEqual(before);
      expect(await readdir(base)).toEqual(['in.csv', 'ro']);
      expect(smtp.sink.messages).toHaveLength(0);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
if (!root) console.log(`skipped the read-only file system test: ${noTmpfs}`);
