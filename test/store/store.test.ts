import { spawn } from 'node:child_process';
import { readFile, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { invitationSchema } from '../../src/store/format.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { verifyPassword } from '../../src/core/pkcs5s2.js';
import { Secret } from '../../src/core/secret.js';
import { useTempDirs } from '../support/tmp.js';
import { untilStopped } from '../faults/helpers.js';

const child = fileURLToPath(new URL('../support/store-child.mjs', import.meta.url));
const tempDir = useTempDirs();

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => resolve(code));
  });
}

async function newStoreWithProject(dir: string): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const target = await LocalTarget.open(path);
  await target.createProject('ITH', 'IT Help');
  await target.close();
  return path;
}

describe('local store', () => {
  it('is created with mode 600', async () => {
    const path = await newStoreWithProject(await tempDir());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file with exit code 2 and leaves it byte for byte', async () => {
    const path = join(await tempDir(), 'jsm-store.json');
    const damaged = '{"format":1,"projects":{},"customers":{"a@b.c":{"email":42}}';
    await writeFile(path, damaged);
    await expect(LocalStore.open(path)).rejects.toMatchObject({ exitCode: 2, code: 'store-damaged' });
    await writeFile(path, '{"format":1,"projects":{},"customers":{"a@b.c":{"email":42}},"invitations":{}}');
    await expect(LocalStore.open(path)).rejects.toMatchObject({ exitCode: 2, code: 'store-damaged', message: expect.stringContaining('customers.a@b.c.email') });
    await writeFile(path, damaged);
    expect(await readFile(path, 'utf8')).toBe(damaged);
  });

  it('refuses an unknown format, naming the file', async () => {
    const path = join(await tempDir(), 'jsm-store.json');
    await writeFile(path, '{"format":99}');
    await expect(LocalStore.open(path)).rejects.toMatchObject({ exitCode: 2, code: 'store-format', message: expect.stringContaining(path) });
  });

  it('stays valid when the writing process is killed mid-write (SIGKILL at each step of a commit)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'jsm-store.json');
    // Each step of a commit after the first (PER_COMMIT more customers each; the hooks count from 1):
    // the process stops itself there (a test hook), and is killed stopped: no guessed moment. The
    // kill lands at the step whatever the store's size, so the commits are 500 customers, not the
    // child's default 2,000 (each commit rewrites the snapshot: 3 commits of 2,000 took 0.3 s of CPU
    // per writer); the count below still tells a whole commit from a torn one.
    const PER_COMMIT = 500;
    for (const step of ['before-lock', 'lock-held', 'before-rename', 'snapshot-renamed', 'commit']) {
      const p = spawn(process.execPath, [child, 'rewrite', path, String(PER_COMMIT)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, JSM_PROVISION_TEST_HOOKS: `${step}@3` },
      });
      const exited = new Promise((r) => p.on('exit', r));
      await new Promise<void>((resolve, reject) => {
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString('utf8');
          if (new RegExp(`jsm-provision-test-hook: ${step} 3 `).test(stderr)) resolve();
        });
        p.on('exit', () => reject(new Error(`the writer ended before its hook ${step}:\n${stderr}`)));
      });
      await untilStopped(p.pid ?? -1);
      p.kill('SIGKILL');
      await exited;
      const store = await LocalStore.open(path); // parses and validates, or throws
      const count = [...store.data.customers.keys()].length;
      expect(count % PER_COMMIT, step).toBe(0);
      expect(count, step).toBeGreaterThanOrEqual(PER_COMMIT);
    }
    // The lock a killed writer may hold is recovered: a new commit goes through.
    const store = await LocalStore.open(path);
    store.mutate((d) => {
      d.projects.ITH = { key: 'ITH', name: 'IT Help', sendVerificationEmails: true, createdAt: new Date().toISOString() };
    });
    await store.commit();
    expect((await LocalStore.open(path)).data.projects.ITH?.name).toBe('IT Help');
    // ... and the temp files of the killed writers are swept away.
    expect(await readdir(dir)).toEqual(['jsm-store.json']);
  }, 60_000);

  it('loses nothing when two processes add 200 customers each to one store', async () => {
    const path = await newStoreWithProject(await tempDir());
    const codes = await Promise.all([run(['add', path, 'alpha', '200']), run(['add', path, 'beta', '200'])]);
    expect(codes).toEqual([0, 0]);
    const store = await LocalStore.open(path);
    const keys = [...store.data.customers.keys()];
    expect(keys).toHaveLength(400);
    expect(keys.filter((k) => k.startsWith('alpha-'))).toHaveLength(200);
    expect(store.data.customers.get('beta-199@example.com')?.projects).toEqual(['ITH']);
    const leftovers = (await readdir(join(path, '..'))).filter((f) => f !== 'jsm-store.json' && f !== 'jsm-store.json.journal');
    expect(leftovers).toEqual([]);
  }, 60_000);

  it('stores passwords only as {PKCS5S2} hashes and marks them to be changed', async () => {
    const path = await newStoreWithProject(await tempDir());
    const target = await LocalTarget.open(path);
    const project = await target.getProject('ITH');
    const outcomes = await target.provision(project, [
      { email: 'Ann@Example.com', key: 'ann@example.com', fullName: 'Ann', password: new Secret('s3cret-Passw0rd'), exists: null },
      { email: 'bob@example.com', key: 'bob@example.com', fullName: 'Bob', exists: null },
      { email: 'ANN@example.com', key: 'ann@example.com', fullName: 'Ann again', exists: null },
    ]);
    await target.close();
    expect(outcomes.map((o) => o.status)).toEqual(['created', 'created', 'existing']);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('s3cret-Passw0rd');
    const store = await LocalStore.open(path);
    const ann = store.data.customers.get('ann@example.com');
    expect(ann?.mustChangePassword).toBe(true);
    expect(await verifyPassword(new Secret('s3cret-Passw0rd'), ann?.passwordHash ?? '')).toBe(true);
    // Without a predefined password there is no flag: absent is false, as the customer list says.
    expect(store.data.customers.get('bob@example.com')).not.toHaveProperty('mustChangePassword');
    const listed = [];
    for await (const c of target.listCustomers(await target.getProject('ITH'))) listed.push(c);
    expect(listed.find((c) => c.email === 'bob@example.com')).toMatchObject({ mustChangePassword: false, passwordSet: false });
    expect(store.data.customers.get('bob@example.com')?.passwordHash).toBeUndefined();
  });
});

describe('compact invitation records', () => {
  it('round-trip every field through the file, whatever the file leaves out', async () => {
    const dir = await tempDir();
    const path = join(dir, 'jsm-store.json');
    const store = await LocalStore.open(path);
    const full = {
      project: 'ITH', key: 'ann@example.com', email: 'Ann@Example.com', fullName: 'Ann Lee', kind: 'welcome' as const,
      status: 'failed' as const, deferred: true, mustChangePassword: true, language: 'pt-BR', messageId: '<x@y>', suppressedBy: 'flag' as const,
      reason: 'refused', runId: 'run-1', updatedAt: '2026-11-26T00:00:00.000Z',
    };
    // Every field the format knows: a field added to the schema must be added here and to compact().
    expect(Object.keys(full).sort()).toEqual(Object.keys(invitationSchema.shape).sort());
    const lean = { project: 'ITH', key: 'bob@example.com', email: 'bob@example.com', fullName: 'Bob', kind: 'verify' as const, status: 'suppressed' as const, deferred: false, mustChangePassword: false, updatedAt: '2026-11-26T00:00:00.000Z' };
    store.mutate((d) => {
      d.customers.set('ann@example.com', { email: 'ann@example.com', fullName: 'Ann', mustChangePassword: false, createdAt: 'now', projects: ['ITH'] });
      d.customers.set('bob@example.com', { email: 'bob@example.com', fullName: 'Bob', mustChangePassword: false, createdAt: 'now', projects: ['ITH'] });
      d.invitations.ITH = new Map([['ann@example.com', { ...full }], ['bob@example.com', { ...lean }]]);
    });
    await store.commit();
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text).invitations.ITH['bob@example.com']).toEqual({ kind: 'verify', status: 'suppressed', updatedAt: '2026-11-26T00:00:00.000Z' });
    const again = await LocalStore.open(path);
    expect(again.data.invitations.ITH?.get('ann@example.com')).toEqual(full);
    expect(again.data.invitations.ITH?.get('bob@example.com')).toEqual(lean);
  });
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './log.cases.js';
import './lock.cases.js';
import './edited-files.cases.js';
import '../faults/preflight.cases.js';
