import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { MailError, type InvitationMessage } from '../../src/core/types.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { faultError, fileFaults, writeFileAtomically, type FileStep } from '../../src/util/atomic-file.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A full or failing disk, injected through the file layer's one seam (fileFaults): every write of
 * the store, its journal, the outbox and the report checks what was written and fails with an error
 * naming the file and the cause, keeping the last good file.
 */
const tempDir = useTempDirs();
afterEach(() => {
  fileFaults.inject = null;
});

/** Fails `step` on files whose name contains `part`, with `code`, from the `after`-th time on. */
function failAt(step: FileStep, part: string, code: string, after = 0): void {
  let seen = 0;
  fileFaults.inject = (s, path) => {
    if (s === step && path.includes(part) && seen++ >= after) throw faultError(code);
  };
}

async function storeWith(dir: string, n: number): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const target = await LocalTarget.open(path);
  const project = await target.createProject('ITH', 'IT Help');
  await target.provision(project, Array.from({ length: n }, (_, i) => ({ email: `c${i}@example.com`, key: `c${i}@example.com`, fullName: `C ${i}`, exists: null })));
  await target.close();
  return path;
}

async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('writes on a full disk', () => {
  for (const [step, code, words] of [
    ['write', 'ENOSPC', 'is full'],
    ['fsync', 'ENOSPC', 'is full'],
    ['write', 'EDQUOT', 'quota'],
    ['fsync', 'EIO', 'input/output error'],
    ['rename', 'EIO', 'input/output error'],
  ] as const) {
    it(`a store commit failing with ${code} at ${step} names the file and the cause, and keeps the last good store`, async () => {
      const dir = await tempDir();
      const path = await storeWith(dir, 20);
      const before = await readFile(path, 'utf8');
      const store = await LocalStore.open(path);
      store.mutate((data) => {
        data.customers.set('new@example.com', { email: 'new@example.com', fullName: 'New', mustChangePassword: false, createdAt: 'now', projects: ['ITH'] });
      });
      failAt(step, 'jsm-store.json', code);
      const error = await rejection(() => store.commit());
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain(path);
      expect((error as UsageError).message).toContain(words);
      expect((error as UsageError).hint).toMatch(/run the same command again/);
      // The last good store, byte for byte; no temp file left behind.
      expect(await readFile(path, 'utf8')).toBe(before);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect([...(await LocalStore.open(path)).data.customers.keys()]).toHaveLength(20);
      // Room again: the same store commits what was pending.
      fileFaults.inject = null;
      await store.commit();
      expect([...(await LocalStore.open(path)).data.customers.keys()]).toHaveLength(21);
    });
  }

  it('a short write is written on from where it stopped, never a shorter file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.json');
    fileFaults.inject = (step) => (step === 'write' ? 7 : undefined);
    const text = JSON.stringify({ data: 'x'.repeat(5000) });
    await writeFileAtomically(path, text);
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('a short write followed by a full disk fails, and the old file stays whole', async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.json');
    await writeFile(path, 'old and good');
    let writes = 0;
    fileFaults.inject = (step) => {
      if (step !== 'write') return undefined;
      if (writes++ === 0) return 100;
      throw faultError('ENOSPC');
    };
    const error = await rejection(() => writeFileAtomically(path, 'y'.repeat(10_000)));
    expect((error as UsageError).code).toBe('disk-full');
    expect((error as UsageError).message).toBe(`cannot write ${path}: the disk holding ${dir} is full; the last good copy was kept`);
    expect(await readFile(path, 'utf8')).toBe('old and good');
    expect(await readdir(dir)).toEqual(['f.json']);
  });

  for (const [label, failing] of [
    ['cut short, then the disk is full', (writes: number) => (writes === 0 ? 10 : 'fail')],
    ['failing at its fsync', () => 'fsync'],
  ] as const) {
    it(`a log append ${label} leaves only whole lines; the store opens without it, and the same commit succeeds later`, async () => {
      const dir = await tempDir();
      const path = await storeWith(dir, 3);
      const journal = `${path}.journal`;
      const target = await LocalTarget.open(path, {}, { commitEveryMs: 60_000 });
      const project = await target.getProject('ITH');
      await target.provision(project, [{ email: 'c3@example.com', key: 'c3@example.com', fullName: 'C 3', exists: null }]);
      await target.flush();
      const before = await readFile(journal, 'utf8');
      await target.provision(project, [{ email: 'c4@example.com', key: 'c4@example.com', fullName: 'C 4', exists: null }]);
      let writes = 0;
      fileFaults.inject = (step, file) => {
        if (!file.endsWith('.journal')) return undefined;
        const what = failing(writes);
        if (step === 'write') {
          writes++;
          if (what === 'fail') throw faultError('ENOSPC');
          if (typeof what === 'number') return what;
        }
        if (step === 'fsync' && what === 'fsync') throw faultError('ENOSPC');
        return undefined;
      };
      const error = await rejection(() => target.flush());
      expect((error as UsageError).message).toContain(`cannot write ${journal}: the disk holding ${dir} is full`);
      fileFaults.inject = null;
      // Cut back to the last whole line: the log is as it was before the failed append.
      expect(await readFile(journal, 'utf8')).toBe(before);
      expect([...(await LocalStore.open(path)).data.customers.keys()].sort()).toEqual(['c0@example.com', 'c1@example.com', 'c2@example.com', 'c3@example.com']);
      await target.flush();
      expect([...(await LocalStore.open(path)).data.customers.keys()]).toHaveLength(5);
    });
  }

  it('an outbox on a full disk fails the one invitation (not in doubt), naming the file and the cause', async () => {
    const dir = await tempDir();
    const mailer = createOutboxMailer({ dir, from: 'help@example.com' });
    failAt('write', '.eml', 'ENOSPC');
    const message: InvitationMessage = { kind: 'welcome', to: { email: 'jane@example.com', fullName: 'Jane' }, project: { key: 'ITH', name: 'IT Help' }, mustChangePassword: false, messageId: '<abc123@example.com>' };
    const error = await rejection(() => mailer.send(message));
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).inDoubt).toBe(false);
    expect((error as MailError).message).toMatch(/jane@example\.com_abc123\.eml: the disk holding .* is full/);
    expect(await readdir(dir)).toEqual([]);
  });
});
