import { execFileSync } from 'node:child_process';
import { chmod, chown, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A store's files as people and other programs leave them: saved by an editor (no final line
 * break, CRLF line ends), replaced by something that is not a file, unreadable for this user.
 */
const tempDir = useTempDirs();

/** A store with a project and `n` customers, the customers in its log. */
async function storeWithLog(dir: string, n: number): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const store = await LocalStore.open(path);
  store.mutate((data) => {
    data.projects.ITH = { key: 'ITH', name: 'IT Help', sendVerificationEmails: true, createdAt: '2026-01-01T00:00:00.000Z' };
  });
  await store.commit();
  addCustomers(store, 'c', n);
  await store.commit();
  return path;
}

function addCustomers(store: LocalStore, prefix: string, n: number): void {
  store.mutate((data) => {
    const customers: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = `${prefix}${i}@example.com`;
      data.customers.set(key, { email: key, fullName: `Customer ${i}`, createdAt: '2026-01-01T00:00:00.000Z', projects: ['ITH'] });
      customers.push(key);
    }
    return { customers };
  });
}

describe("the store's journal as an editor saves it", () => {
  it('a last line whose checksum holds is whole without its final line break; the next write keeps it', async () => {
    const path = await storeWithLog(await tempDir(), 40);
    const journal = `${path}.journal`;
    const text = await readFile(journal, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    await writeFile(journal, text.slice(0, -1));
    const store = await LocalStore.open(path);
    expect(store.data.customers.size).toBe(40);
    addCustomers(store, 'd', 1);
    await store.commit();
    const again = await LocalStore.open(path);
    expect(again.data.customers.size).toBe(41);
    expect(again.data.customers.has('c39@example.com')).toBe(true);
  });

  it('a journal with CRLF line ends reads as written, and takes further lines', async () => {
    const path = await storeWithLog(await tempDir(), 30);
    const journal = `${path}.journal`;
    await writeFile(journal, (await readFile(journal, 'utf8')).replace(/\n/g, '\r\n'));
    const store = await LocalStore.open(path);
    expect(store.data.customers.size).toBe(30);
    addCustomers(store, 'd', 2);
    await store.commit();
    expect((await LocalStore.open(path)).data.customers.size).toBe(32);
  });
});

describe('a hand-edited invitation record', () => {
  const edited = (key: string, record: Record<string, unknown>) => `${JSON.stringify({ invitations: { ITH: { [key]: { kind: 'welcome', status: 'pending', updatedAt: '2026-01-02T00:00:00.000Z', ...record } } } })}\n`;

  it('for someone who is not a customer of the project, or at another address, is refused naming the line; nobody is invited', async () => {
    const path = await storeWithLog(await tempDir(), 2);
    const journal = `${path}.journal`;
    const text = await readFile(journal, 'utf8');
    for (const [line, why] of [
      [edited('stranger@example.com', { email: 'stranger@example.com', fullName: 'Stranger' }), /damaged at line 3\.invitations\.ITH\.stranger@example\.com: "stranger@example\.com" is not a customer of ITH/],
      [edited('c1@example.com', { email: 'stranger@example.com' }), /damaged at line 3\.invitations\.ITH\.c1@example\.com: the email "stranger@example\.com" is not the one it is filed under/],
    ] as const) {
      await writeFile(journal, text + line);
      await expect(LocalStore.open(path)).rejects.toMatchObject({ code: 'store-damaged', message: expect.stringMatching(why) });
    }
    // An edit an import could have made (an invitation owed to a customer) is kept.
    await writeFile(journal, text + edited('c1@example.com', {}));
    expect((await LocalStore.open(path)).data.invitations.ITH?.get('c1@example.com')).toMatchObject({ status: 'pending', email: 'c1@example.com' });
  });
});

describe('what is not a regular file at the store, its journal or its lock', () => {
  for (const which of ['', '.journal', '.lock']) {
    it(`a FIFO at jsm-store.json${which} is refused within seconds, exit 2, naming it`, async () => {
      const dir = await tempDir();
      const path = await storeWithLog(dir, 3);
      await rm(`${path}${which}`, { force: true });
      execFileSync('mkfifo', [`${path}${which}`]);
      await writeFile(join(dir, 'c.csv'), 'email,name\nnew@example.com,New\n');
      const started = Date.now();
      const run = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, timeoutMs: 20_000 });
      expect(run.code, run.stderr).toBe(2);
      const { error } = run.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe('not-a-file');
      expect(error.message).toContain(`${path}${which} is a FIFO`);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }
});

/** Root without the capabilities that read or write past a file's mode. */
const NO_DAC = ['setpriv', '--bounding-set=-dac_override,-dac_read_search'];
/**
 * The store's owner (nobody): reading and entering folders is allowed past their modes, so that the
 * CLI loads from a checkout only root may enter (a CI clone in a 0700 temp folder); every write is
 * checked as the owner's.
 */
const AS_OWNER = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];

describe.skipIf(process.getuid?.() !== 0)('a journal this user may not read (the run as another user, from root)', () => {
  it('is named a permission problem, never a damaged store to restore from a backup', async () => {
    const dir = await tempDir();
    const path = await storeWithLog(dir, 3);
    await chmod(dir, 0o755);
    await chown(`${path}.journal`, 65534, 65534);
    await chmod(`${path}.journal`, 0o600);
    // Root without the capabilities that pass over file modes: the journal is another user's, 0600.
    // (Not a run as that user: the checkout it runs from may be a folder only root can enter.)
    const run = await runCli(['customers', 'list', '--project', 'ITH', '--json'], { cwd: dir, wrap: NO_DAC });
    expect(run.code, run.stderr).toBe(2);
    const { error } = run.json<{ error: { code: string; message: string; hint?: string } }>();
    expect(error.code).toBe('store-unreadable');
    expect(error.message).toContain(`${path}.journal`);
    expect(error.message).toContain('permission denied');
    expect(JSON.stringify(error)).not.toContain('backup');
  });
});

describe.skipIf(process.getuid?.() !== 0)('a run under sudo (root) on a store of another user', () => {
  it("keeps the store, its journal and what it creates the owner's: the owner's next run reads and writes them", async () => {
    const dir = await tempDir();
    const path = await storeWithLog(dir, 0);
    await chmod(dir, 0o755);
    await rm(`${path}.journal`, { force: true });
    for (const file of [dir, path]) await chown(file, 65534, 65534);
    await writeFile(join(dir, 'c.csv'), 'email,name\nroot-run@example.com,Root Run\n');
    // As root: a new journal (the log starts), then a full rewrite (a new project).
    const asRoot = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir });
    expect(asRoot.code, asRoot.stderr).toBe(0);
    const created = await runCli(['project', 'create', 'OPS', '--name', 'Operations', '--json'], { cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    for (const file of [path, `${path}.journal`]) expect((await stat(file)).uid, file).toBe(65534);
    await writeFile(join(dir, 'd.csv'), 'email,name\nowner-run@example.com,Owner Run\n');
    await chown(join(dir, 'd.csv'), 65534, 65534);
    const asOwner = await runCli(['import-csv', 'd.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, wrap: AS_OWNER });
    expect(asOwner.code, asOwner.stderr).toBe(0);
    expect([...(await LocalStore.open(path)).data.customers.keys()].sort()).toEqual(['owner-run@example.com', 'root-run@example.com']);
  });
});
