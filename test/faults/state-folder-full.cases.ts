import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteIntentFile } from '../../src/store/intents.js';
import { tmpfsAvailable } from '../support/tmpfs.js';

/*
 * A full state folder (a real small tmpfs, filled, mounted by the test as root): what is written
 * there fails naming the file and the cause, never as an internal error.
 */
const available = tmpfsAvailable();
let mountPoint = '';

beforeAll(async () => {
  if (!available.ok) return;
  mountPoint = await mkdtemp(join(tmpdir(), 'jsm-state-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { stdio: 'ignore' });
  await writeFile(join(mountPoint, 'left.jsonl'), '{"t":"intent"}\n');
  await writeFile(join(mountPoint, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
});

afterAll(async () => {
  if (!available.ok) return;
  execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  await rm(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!available.ok)('a full state folder', () => {
  it("a dead run's intent file that cannot be rewritten: disk-full naming it, the old file kept", async () => {
    const file = join(mountPoint, 'left.jsonl');
    const record = { project: 'ITH', key: 'a@example.com', email: 'a@example.com', fullName: 'A', kind: 'welcome' as const, status: 'pending' as const, deferred: false, mustChangePassword: false, updatedAt: 'now' };
    const intents = Array.from({ length: 200 }, () => ({ record, username: 'a@example.com', at: Date.now() }));
    await expect(rewriteIntentFile(file, intents)).rejects.toMatchObject({ code: 'disk-full', message: expect.stringContaining(`cannot write ${file}: the disk holding ${mountPoint} is full`) });
    expect(await readFile(file, 'utf8')).toBe('{"t":"intent"}\n');
  });
});
