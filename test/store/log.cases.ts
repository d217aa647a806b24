import { spawn } from 'node:child_process';
import { appendFile, copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { faultError, fileFaults } from '../../src/util/atomic-file.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * The store as a snapshot plus a log of batch lines (src/store/journal.ts): what a reader
 * finds after a torn line, a stale log, a compaction cut off at each step (kill -9 chosen by the
 * test hooks, no sleeps), a full disk during a compaction, a hand-edited file, and a store written
 * by the release before the log (format 1), which is read and upgraded in place.
 */
const tempDir = useTempDirs();
const child = fileURLToPath(new URL('../support/store-child.mjs', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/format-1/', import.meta.url));
afterEach(() => {
  fileFaults.inject = null;
});

const row = (i: number, prefix = 'c') => ({ email: `${prefix}${i}@example.com`, key: `${prefix}${i}@example.com`, fullName: `C ${i}`, exists: null });
const owed = (key: string) => ({ project: 'ITH', key, email: key, fullName: 'x', kind: 'welcome' as const, status: 'pending' as const, deferred: false, mustChangePassword: false, updatedAt: 'now' });

/** A store with a project (in its snapshot) and `n` customers each owed an invitation (in its log). */
async function storeWith(dir: string, n: number): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const target = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
  const project = await target.createProject('ITH', 'IT Help');
  await target.provision(project, Array.from({ length: n }, (_, i) => ({ ...row(i), invitation: owed(`c${i}@example.com`) })));
  await target.close();
  return path;
}

const lines = async (path: string) => (await readFile(`${path}.journal`, 'utf8')).split('\n');

describe('the store log', () => {
  it('holds each commit as one checksummed line after a header naming the snapshot it continues', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 3);
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as { format: number; generation: number; customers: object; checksum: string };
    expect(snapshot).toMatchObject({ format: 2, generation: 1, customers: {} });
    expect(snapshot.checksum).toMatch(/^sha1:[0-9a-f]{40}$/);
    const log = await lines(path);
    expect(log[0]).toBe('{"log":2,"generation":1}');
    expect(log).toHaveLength(3);
    const batch = JSON.parse(log[1] ?? '') as { customers: object; invitations: { ITH: object } };
    expect(Object.keys(batch.customers)).toEqual(['c0@example.com', 'c1@example.com', 'c2@example.com']);
    expect(Object.keys(batch.invitations.ITH)).toEqual(['c0@example.com', 'c1@example.com', 'c2@example.com']);
    expect(log[2]).toBe('');
    const store = await LocalStore.open(path);
    expect(store.data.invitations.ITH?.get('c1@example.com')).toMatchObject({ status: 'pending', email: 'c1@example.com', project: 'ITH' });
  });

  it('puts at most 300 customers in a line, each with the invitation they are owed', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 700);
    const batches = (await lines(path)).slice(1, -1).map((line) => JSON.parse(line) as { customers: object; invitations: { ITH: object } });
    expect(batches.map((b) => Object.keys(b.customers).length)).toEqual([300, 300, 100]);
    for (const b of batches) expect(Object.keys(b.invitations.ITH)).toEqual(Object.keys(b.customers));
  });

  it('a torn last line is not in the store, and the next append cuts it off', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 2);
    const whole = await readFile(`${path}.journal`, 'utf8');
    await appendFile(`${path}.journal`, '{"customers":{"torn@example.com":{"email":"torn@exa');
    const target = await LocalTarget.open(path);
    expect([...(await LocalStore.open(path)).data.customers.keys()]).toEqual(['c0@example.com', 'c1@example.com']);
    await target.provision(await target.getProject('ITH'), [row(9)]);
    await target.close();
    const log = await readFile(`${path}.journal`, 'utf8');
    expect(log.startsWith(whole)).toBe(true);
    expect(log).not.toContain('torn@');
    expect(log.endsWith('\n')).toBe(true);
    expect([...(await LocalStore.open(path)).data.customers.keys()]).toEqual(['c0@example.com', 'c1@example.com', 'c9@example.com']);
  });

  it('a log older than its snapshot (a compaction cut off before starting it anew) is ignored, then replaced', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 2);
    const log = await lines(path);
    // The snapshot moves on to generation 2 (holding everything); the log still says 1, and a line
    // in it would bring back a version the snapshot replaced.
    const store = await LocalStore.open(path);
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const stale = `${log[0]}\n{"customers":{"ghost@example.com":{"email":"ghost@example.com","fullName":"G","mustChangePassword":false,"createdAt":"x","projects":["ITH"]}}}\n`;
    await writeFile(path, JSON.stringify({ ...snapshot, checksum: undefined, generation: 2, customers: Object.fromEntries(store.data.customers), invitations: {} }));
    await writeFile(`${path}.journal`, stale);
    expect([...(await LocalStore.open(path)).data.customers.keys()]).toEqual(['c0@example.com', 'c1@example.com']);
    const target = await LocalTarget.open(path);
    await target.provision(await target.getProject('ITH'), [row(5)]);
    await target.close();
    expect((await lines(path))[0]).toBe('{"log":2,"generation":2}');
    expect([...(await LocalStore.open(path)).data.customers.keys()]).toEqual(['c0@example.com', 'c1@example.com', 'c5@example.com']);
  });

  it('is compacted into a new snapshot when it holds more replaced records than a share of the store', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 10);
    const store = await LocalStore.open(path, {}, { compactMinReplaced: 5, compactShare: 0.2 });
    // Three records replaced: not yet (fewer than 5).
    for (const i of [0, 1, 2]) store.record({ p: 'ITH', k: `c${i}@example.com`, v: { ...owed(`c${i}@example.com`), status: 'sent' } });
    await store.commit();
    expect(await lines(path)).toHaveLength(4);
    for (const i of [3, 4, 5]) store.record({ p: 'ITH', k: `c${i}@example.com`, v: { ...owed(`c${i}@example.com`), status: 'sent' } });
    await store.commit();
    // Six replaced of 20 records: the log is folded into generation 2 and starts anew.
    expect(await lines(path)).toEqual(['{"log":2,"generation":2}', '']);
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as { generation: number; customers: object; invitations: { ITH: Record<string, { status: string }> } };
    expect(snapshot.generation).toBe(2);
    expect(Object.keys(snapshot.customers)).toHaveLength(10);
    expect(Object.values(snapshot.invitations.ITH).filter((r) => r.status === 'sent')).toHaveLength(6);
    const reread = await LocalStore.open(path);
    expect(reread.data).toEqual(store.data);
  });

  for (const stop of ['before-rename', 'snapshot-renamed', 'compacted']) {
    it(`a compaction killed at ${stop} leaves a store that opens with every change`, async () => {
      const dir = await tempDir();
      const path = await storeWith(dir, 40);
      const p = spawn(process.execPath, [child, 'compact', path], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JSM_PROVISION_TEST_HOOKS: stop } });
      await new Promise<void>((resolve, reject) => {
        let err = '';
        p.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes(`test-hook: ${stop} `)) resolve();
        });
        p.on('exit', () => reject(new Error(`ended before ${stop}:\n${err}`)));
      });
      const exited = new Promise((r) => p.on('exit', r));
      p.kill('SIGKILL');
      await exited;
      const store = await LocalStore.open(path);
      expect([...store.data.customers.keys()]).toHaveLength(40);
      // The change was durable in the log before the compaction began: all 40 are sent.
      expect([...(store.data.invitations.ITH?.values() ?? [])].filter((r) => r.status === 'sent')).toHaveLength(40);
      // And the store goes on: a new customer is added and found again.
      const target = await LocalTarget.open(path);
      await target.provision(await target.getProject('ITH'), [row(1, 'after')]);
      await target.close();
      expect([...(await LocalStore.open(path)).data.customers.keys()]).toHaveLength(41);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('a compaction without room is no failure of the commit it follows: what that commit recorded stays as it is; a later one folds the log', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 10);
    const before = await readFile(path, 'utf8');
    const store = await LocalStore.open(path, {}, { compactMinReplaced: 1, compactShare: 0.1 });
    for (let i = 0; i < 10; i++) store.record({ p: 'ITH', k: `c${i}@example.com`, v: { ...owed(`c${i}@example.com`), status: 'sent' } });
    // Room for log lines, not for a second copy of the store.
    fileFaults.inject = (step, file) => {
      if (step === 'write' && /\.jsm-store\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(file)) throw faultError('ENOSPC');
    };
    await store.commit();
    expect((store.compactionFailure as UsageError).message).toContain(`cannot write ${path}: the disk holding ${dir} is full`);
    fileFaults.inject = null;
    expect(await readFile(path, 'utf8')).toBe(before);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const reread = await LocalStore.open(path);
    expect([...(reread.data.invitations.ITH?.values() ?? [])].filter((r) => r.status === 'sent')).toHaveLength(10);
    // With room again, a later run's commit folds the log into the snapshot.
    const later = await LocalStore.open(path, {}, { compactMinReplaced: 1, compactShare: 0.1 });
    later.record({ p: 'ITH', k: 'c0@example.com', v: { ...owed('c0@example.com'), status: 'sent', updatedAt: 'later' } });
    await later.commit();
    expect(later.compactionFailure).toBeUndefined();
    expect(await readFile(path, 'utf8')).not.toBe(before);
    expect([...((await LocalStore.open(path)).data.invitations.ITH?.values() ?? [])].filter((r) => r.status === 'sent')).toHaveLength(10);
  });

  it("the compaction rule counts the store's records in its log too, not only the snapshot's", async () => {
    const dir = await tempDir();
    // 100 customers and their 100 invitations, all in the log; the snapshot holds the project only.
    const path = await storeWith(dir, 100);
    const before = await readFile(path, 'utf8');
    const store = await LocalStore.open(path, {}, { compactMinReplaced: 1, compactShare: 0.5 });
    // 60 replaced records: under half of the store's 200.
    for (let i = 0; i < 60; i++) store.record({ p: 'ITH', k: `c${i}@example.com`, v: { ...owed(`c${i}@example.com`), status: 'sent' } });
    await store.commit();
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('a hand-edited snapshot (checksum no longer matching) is checked record by record: an edit is kept, a damage named', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 2);
    const store = await LocalStore.open(path);
    await store.commit();
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"name":"IT Help"', '"name":"IT Helpdesk"'));
    expect((await LocalStore.open(path)).data.projects.ITH?.name).toBe('IT Helpdesk');
    // A damaged record inside a log line is refused, naming the log and where.
    const log = await readFile(`${path}.journal`, 'utf8');
    await writeFile(`${path}.journal`, log.replace('"fullName":"C 1"', '"fullName":7'));
    await expect(LocalStore.open(path)).rejects.toMatchObject({ code: 'store-damaged', message: expect.stringMatching(/jsm-store\.json\.journal is damaged at line 2\.customers\.c1@example\.com\.fullName/) });
    // Edits that are JSON of the right shape but nothing an import writes: an address that is not
    // one, an email filed under another key, a name with a control character. A good edit is kept.
    const c1 = '"c1@example.com":{"email":"c1@example.com","fullName":"C 1"';
    expect(log).toContain(c1);
    for (const [edited, why] of [
      ['"c1@example.com":{"email":"not-an-email","fullName":"C 1"', /damaged at line 2\.customers\.c1@example\.com: 'not-an-email' is not an email address/],
      ['"c1@example.com":{"email":"c9@example.com","fullName":"C 1"', /the email "c9@example\.com" is not the one it is filed under \("c1@example\.com"\)/],
      ['"c1@example.com":{"email":"c1@example.com","fullName":"C\\u00071"', /the name contains U\+0007/],
    ] as const) {
      await writeFile(`${path}.journal`, log.replace(c1, edited));
      await expect(LocalStore.open(path), edited).rejects.toMatchObject({ code: 'store-damaged', message: expect.stringMatching(why) });
    }
    await writeFile(`${path}.journal`, log.replace('"fullName":"C 1"', '"fullName":"Cé Ünü"'));
    expect((await LocalStore.open(path)).data.customers.get('c1@example.com')?.fullName).toBe('Cé Ünü');
  });

  it('a log holding records this version does not know (a newer release) is refused, never rewritten', async () => {
    const dir = await tempDir();
    const path = await storeWith(dir, 1);
    await appendFile(`${path}.journal`, '{"tickets":{"T-1":{}}}\n');
    const log = await readFile(`${path}.journal`, 'utf8');
    await expect(LocalStore.open(path)).rejects.toMatchObject({ code: 'store-format', message: expect.stringContaining('"tickets"') });
    expect(await readFile(`${path}.journal`, 'utf8')).toBe(log);
  });
});

describe('a store written by the release before the log (format 1, with a journal of ledger entries)', () => {
  async function fixture(): Promise<string> {
    const dir = await tempDir();
    for (const name of ['jsm-store.json', 'jsm-store.json.journal']) await copyFile(join(FIXTURE, name), join(dir, name));
    return join(dir, 'jsm-store.json');
  }
  const expected = {
    'olivia.martin@northwind.example': { projects: ['ITH', 'OPS'] },
    'liam.nguyen@northwind.example': { email: 'Liam.Nguyen@northwind.example', mustChangePassword: true },
    'sofia.rossi@northwind.example': { fullName: 'Sofía Rossi' },
    'noah.schmidt@northwind.example': { projects: ['OPS'] },
    'emma.jones@northwind.example': { fullName: 'Jones, Emma' },
    'zoe.li@northwind.example': { fullName: 'Zoë Li' },
    'mia.costa@northwind.example': { projects: ['ITH'] },
  };
  const statuses = (store: LocalStore) =>
    Object.fromEntries(Object.entries(store.data.invitations).map(([p, byKey]) => [p, Object.fromEntries([...byKey].map(([k, r]) => [k, r.status]))]));
  const wanted = {
    ITH: { 'olivia.martin@northwind.example': 'sent', 'liam.nguyen@northwind.example': 'sent', 'sofia.rossi@northwind.example': 'sent', 'mia.costa@northwind.example': 'pending' },
    OPS: { 'noah.schmidt@northwind.example': 'sent', 'emma.jones@northwind.example': 'sent', 'zoe.li@northwind.example': 'suppressed' },
  };

  it('opens with everything it held, its journal applied, and reading it writes nothing', async () => {
    const path = await fixture();
    const before = await readFile(path, 'utf8');
    const store = await LocalStore.open(path);
    expect(Object.fromEntries(store.data.customers)).toMatchObject(expected);
    expect(store.data.customers.get('liam.nguyen@northwind.example')?.passwordHash).toMatch(/^\{PKCS5S2\}/);
    expect(statuses(store)).toEqual(wanted);
    expect(store.data.invitations.ITH?.get('liam.nguyen@northwind.example')).toMatchObject({ language: 'de', mustChangePassword: true });
    await store.commit();
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('is upgraded in place by its first write: a format-2 snapshot holding all of it, and a new log', async () => {
    const path = await fixture();
    const target = await LocalTarget.open(path);
    await target.provision(await target.getProject('OPS'), [{ ...row(1, 'new'), invitation: { ...owed('new1@example.com'), project: 'OPS' } }]);
    await target.close();
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as { format: number; generation: number; customers: object };
    expect(snapshot).toMatchObject({ format: 2, generation: 1 });
    expect(Object.keys(snapshot.customers)).toHaveLength(8);
    expect((await lines(path))[0]).toBe('{"log":2,"generation":1}');
    const store = await LocalStore.open(path);
    expect(Object.fromEntries(store.data.customers)).toMatchObject(expected);
    expect(statuses(store)).toEqual({ ...wanted, OPS: { ...wanted.OPS, 'new1@example.com': 'pending' } });
  });
});
