import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A real small file system (a tmpfs of 256 KiB, mounted by the test when it runs as root), filled
 * up by the run itself: the store keeps its last good version and the command says the disk is full.
 */
const tempDir = useTempDirs();
const isRoot = process.getuid?.() === 0;
let mountPoint = '';
let mounted = false;
let reason = isRoot ? '' : 'not running as root: cannot mount a small tmpfs';

beforeAll(async () => {
  if (!isRoot) return;
  mountPoint = await mkdtemp(join(tmpdir(), 'jsm-provision-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    reason = `mount -t tmpfs failed (${(error as Error).message.split('\n')[0]})`;
  }
});

afterAll(async () => {
  if (mounted) execFileSync('umount', [mountPoint]);
  if (mountPoint) await rm(mountPoint, { recursive: true, force: true });
});

function csv(prefix: string, rows: number): string {
  const lines = ['email,name'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,${prefix} Customer Number ${i}`);
  return `${lines.join('\n')}\n`;
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(stderr).not.toContain('internal error');
}

describe('a real full disk (tmpfs)', () => {
  it('an import that cannot fit exits non-zero, says the disk is full, and the previous store opens with all its customers', async (ctx) => {
    if (!mounted) {
      console.log(`skipped: ${reason}`);
      ctx.skip();
    }
    const dir = join(mountPoint, 'store');
    execFileSync('mkdir', ['-p', dir]);
    const work = await tempDir();
    const target = ['--target', join(dir, 'jsm-store.json')];
    expect((await runCli(['project', 'create', 'ITH', '--name', 'IT Help', ...target], { cwd: work })).code).toBe(0);
    await writeFile(join(work, 'small.csv'), csv('a', 40));
    await writeFile(join(work, 'big.csv'), csv('b', 4000));
    expect((await runCli(['import-csv', 'small.csv', '--project', 'ITH', '--no-invite', ...target], { cwd: work })).code).toBe(0);

    const full = await runCli(['import-csv', 'big.csv', '--project', 'ITH', '--no-invite', '--json', ...target], { cwd: work });
    expect(full.code).not.toBe(0);
    noStackTrace(full.stderr);
    const error = full.json<{ ok: boolean; error: { code: string; message: string } }>();
    expect(error.ok).toBe(false);
    expect(error.error.code).toBe('disk-full');
    expect(error.error.message).toContain(join(dir, 'jsm-store.json'));
    expect(error.error.message).toContain('is full');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const list = await runCli(['customers', 'list', '--project', 'ITH', '--json', ...target], { cwd: work });
    expect(list.code, list.stderr).toBe(0);
    expect(list.json<{ count: number }>().count).toBe(40);
  });

  it('an outbox on a full disk fails those invitations with the reason, no stack trace; they are sent once when there is room', async (ctx) => {
    if (!mounted) {
      console.log(`skipped: ${reason}`);
      ctx.skip();
    }
    const work = await tempDir();
    const outbox = join(mountPoint, 'outbox');
    expect((await runCli(['project', 'create', 'ITH', '--name', 'IT Help'], { cwd: work })).code).toBe(0);
    await writeFile(join(work, 'c.csv'), csv('o', 30));
    // Leave room for a few messages only.
    const { bavail, bsize } = await statfs(mountPoint);
    const filler = join(mountPoint, 'filler');
    await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - 12 * 1024)));

    const run = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--outbox', outbox, '--mail-from', 'help@example.com', '--json'], { cwd: work });
    noStackTrace(run.stderr);
    expect(run.code, run.stderr).toBe(1);
    const summary = run.json<{ totals: { created: number }; invitations: { sent: number; failed: number } }>();
    expect(summary.totals.created).toBe(30);
    expect(summary.invitations.failed).toBeGreaterThan(0);
    expect(summary.invitations.sent + summary.invitations.failed).toBe(30);
    const failed = await runCli(['invitations', 'list', '--project', 'ITH', '--status', 'failed', '--json'], { cwd: work });
    const listed = failed.json<{ invitations: { reason: string }[] }>().invitations;
    expect(listed).toHaveLength(summary.invitations.failed);
    expect(listed[0]?.reason).toMatch(/the disk holding .*outbox is full/);
    expect((await readdir(outbox)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    await rm(filler);
    const resend = await runCli(['invitations', 'send', '--project', 'ITH', '--failed', '--yes', '--outbox', outbox, '--mail-from', 'help@example.com', '--json'], { cwd: work });
    expect(resend.code, resend.stderr).toBe(0);
    const files = (await readdir(outbox)).filter((n) => n.endsWith('.eml'));
    expect(files).toHaveLength(30);
    expect(new Set(files.map((f) => f.split('_')[0])).size).toBe(30);
  });

  it('store and outbox on one disk that fills while sending: exit 1 with the summary and the error; all are sent once there is room', async (ctx) => {
    if (!mounted) {
      console.log(`skipped: ${reason}`);
      ctx.skip();
    }
    // A disk of its own, where the customers fit and their invitations (the outbox beside the store) do not.
    const disk = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=120k,mode=0700', 'tmpfs', disk], { stdio: 'pipe' });
    try {
      const work = join(disk, 'work');
      execFileSync('mkdir', ['-p', work]);
      expect((await runCli(['project', 'create', 'ITH', '--name', 'IT Help'], { cwd: work })).code).toBe(0);
      const input = await tempDir();
      await writeFile(join(input, 'c.csv'), csv('d', 300));

      const run = await runCli(['import-csv', join(input, 'c.csv'), '--project', 'ITH', '--mail-from', 'help@example.com', '--json'], { cwd: work });
      noStackTrace(run.stderr);
      // The customers were written: not exit 2 ("nothing was written"), and the summary is there.
      expect(run.code, run.stderr).toBe(1);
      const summary = run.json<{ ok: boolean; totals: { created: number }; invitations: { sent: number }; error: { code: string; message: string; hint: string } }>();
      expect(summary).toMatchObject({ ok: false, totals: { created: 300 }, error: { code: 'disk-full' } });
      expect(summary.error.message).toContain('is full');
      expect(summary.error.hint).toContain('invitations send --in-doubt');
      expect(run.stderr.match(/error:/g)).toHaveLength(1);
      // Its counts are what the store holds (what it could not record is in doubt there, and here).
      const show = await runCli(['project', 'show', '--project', 'ITH', '--json'], { cwd: work });
      const stored = show.json<{ invitations: Record<string, number> }>().invitations;
      const said = run.json<{ invitations: Record<string, number>; problems: { invitation?: string; reason: string }[] }>();
      for (const state of ['sent', 'failed', 'pending', 'inDoubt']) expect(said.invitations[state], state).toBe(stored[state]);
      expect(stored.inDoubt).toBeGreaterThan(0);
      const doubtful = said.problems.filter((p) => p.invitation === 'in-doubt');
      expect(doubtful).toHaveLength(stored.inDoubt as number);
      expect(doubtful.every((p) => /the store could not record it|recorded as being sent/.test(p.reason))).toBe(true);

      // Still full: `invitations send` into an outbox elsewhere stops at its first record, with its
      // summary and the error (exit 1). (Into the full outbox it is refused by the preflight.)
      const send = ['invitations', 'send', '--project', 'ITH', '--mail-from', 'help@example.com', '--yes', '--json'];
      const elsewhere = await tempDir();
      const still = await runCli([...send, '--outbox', elsewhere], { cwd: work });
      noStackTrace(still.stderr);
      expect(still.code, still.stderr).toBe(1);
      expect(still.json()).toMatchObject({ ok: false, command: 'invitations send', invitations: { sent: 0 }, error: { code: 'disk-full', hint: expect.stringContaining('--in-doubt') } });
      expect(still.stderr.match(/error:/g)).toHaveLength(1);
      expect((await readdir(elsewhere)).filter((n) => n.endsWith('.eml'))).toEqual([]);

      // Room again: what was pending, then what is in doubt, is sent; each customer has one message.
      execFileSync('mount', ['-o', 'remount,size=8m', disk], { stdio: 'pipe' });
      const mail = ['--project', 'ITH', '--mail-from', 'help@example.com', '--yes', '--json'];
      expect((await runCli(['invitations', 'send', ...mail], { cwd: work })).code).toBe(0);
      expect((await runCli(['invitations', 'send', '--in-doubt', '--failed', ...mail], { cwd: work })).code).toBe(0);
      const files = (await readdir(join(work, 'outbox'))).filter((n) => n.endsWith('.eml'));
      expect(new Set(files.map((f) => f.split('_')[0])).size).toBe(300);
      expect(files).toHaveLength(300);
      const after = await runCli(['project', 'show', '--project', 'ITH', '--json'], { cwd: work });
      expect(after.json()).toMatchObject({ invitations: { sent: 300, pending: 0, inDoubt: 0, failed: 0 } });
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './preflight-commands.cases.js';
import './preflight-report-full.cases.js';
import './rest-disk-full.cases.js';
import './state-folder-full.cases.js';
import '../contract/import-mail-report-full.cases.js';
