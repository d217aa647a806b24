/**
 * A full disk where the REST ledger lives: no customer is created before the invitation it is owed
 * is on disk, so the run stops with a clear error naming the file, before any create is sent.
 * A real small tmpfs, mounted by the test when running as root (skipped with a reason otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, useRest } from '../rest/helpers.js';

const rest = useRest();

/** The files under `dir` this process holds open (Linux: /proc/self/fd). */
async function openFilesUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir));
}
let mountPoint = '';
let mounted = false;
let why = '';

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'jsm-full-'));
  if (process.getuid?.() !== 0) {
    why = 'not root: cannot mount a small tmpfs';
    return;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
    // Fill it: the next write of any size fails with ENOSPC.
    await writeFile(join(mountPoint, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
  } catch (error) {
    why = `mount failed: ${(error as Error).message}`;
  }
});

afterAll(async () => {
  if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  await rm(mountPoint, { recursive: true, force: true });
});

describe('a full disk under the REST ledger', () => {
  it('stops before the first create, naming the file and the cause', async (ctx) => {
    if (!mounted) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    const jsm = await rest.double();
    const target = await rest.target(jsm, { env: { JSM_STATE_DIR: mountPoint } });
    const project = await target.getProject('ITH');
    const intent = (i: number) => ({
      project: 'ITH', key: `c${i}@example.com`, email: `c${i}@example.com`, fullName: `Customer ${i}`, kind: 'welcome' as const,
      status: 'pending' as const, deferred: false, mustChangePassword: false, updatedAt: new Date().toISOString(),
    });
    const asked = rows(5).map((r, i) => ({ ...r, invitation: intent(i) }));
    // The run stops (every row's outcome with it: none was created), naming the file and the cause.
    await expect(target.provision(project, asked)).rejects.toMatchObject({
      error: {
        code: 'ledger-unwritable',
        message: expect.stringMatching(/^the disk holding .*\.intents\/.*\.jsonl is full: no customer is created before the invitation it is owed is on disk/),
      },
      outcomes: Array.from({ length: 5 }, () => ({ status: 'failed', reason: expect.stringMatching(/^not processed: the run stopped/) })),
    });
    expect(jsm.creates).toEqual([]);
    expect(jsm.calls.filter((c) => c.method === 'POST')).toEqual([]);
    // Closed, the target leaves no file of the full disk open (none for the garbage collector: DEP0137).
    await target.close().catch(() => undefined);
    expect(await openFilesUnder(mountPoint)).toEqual([]);
  });
});
