import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvitationState } from '../../src/core/types.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * The ledger's counts per state (a summary's inDoubt and pending) are kept as records are set,
 * not counted one by one: after every kind of change (new records, claims, sends, another
 * process's commits caught up, a compaction, the store read again from disk) they must equal a
 * count of the records themselves.
 */
const tempDir = useTempDirs();
const STATES: InvitationState[] = ['pending', 'sending', 'sent', 'failed', 'suppressed'];

function byScan(store: LocalStore, project: string, status: InvitationState): number {
  return [...(store.data.invitations[project]?.values() ?? [])].filter((r) => r.status === status).length;
}

async function expectExact(target: LocalTarget, project = 'ITH'): Promise<void> {
  // The store behind the ledger: the one the target holds, and a fresh reader of the files.
  const store = (target as unknown as { ledger: { store: LocalStore } }).ledger.store;
  for (const status of STATES) expect(target.ledger.count(project, status), `${status} (in memory)`).toBe(byScan(store, project, status));
  const reread = await LocalTarget.open(target.location);
  const fresh = await LocalStore.open(target.location);
  for (const status of STATES) expect(reread.ledger.count(project, status), `${status} (read again)`).toBe(byScan(fresh, project, status));
}

const record = (key: string, status: 'pending' | 'suppressed') => ({ project: 'ITH', key, email: key, fullName: 'x', kind: 'welcome' as const, status, deferred: false, mustChangePassword: false, updatedAt: 'now', ...(status === 'suppressed' ? { suppressedBy: 'flag' as const } : {}) });
const row = (i: number, status: 'pending' | 'suppressed' = 'pending') => ({ email: `c${i}@example.com`, key: `c${i}@example.com`, fullName: `C ${i}`, exists: null, invitation: record(`c${i}@example.com`, status) });

describe('ledger counts per state', () => {
  it('stay equal to a count of the records through new records, claims, sends, other processes and re-reads', async () => {
    const dir = await tempDir();
    const path = join(dir, 'jsm-store.json');
    const a = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
    const project = await a.createProject('ITH', 'IT Help');
    await a.provision(project, [0, 1, 2, 3, 4, 5].map((i) => row(i)));
    await a.provision(project, [6, 7].map((i) => row(i, 'suppressed')));
    await a.flush();
    await expectExact(a);

    // Claimed (sending), then one sent and one failed.
    const claimed = await a.ledger.claimForSending('ITH', ['c0@example.com', 'c1@example.com', 'c2@example.com'], 'run-a');
    expect(claimed).toHaveLength(3);
    a.ledger.update({ ...claimed[0]!, status: 'sent', messageId: '<m0@example.com>' });
    a.ledger.update({ ...claimed[1]!, status: 'failed', reason: 'refused' });
    await a.ledger.commit();
    expect(a.ledger.count('ITH', 'sending')).toBe(1);
    await expectExact(a);

    // Another process claims and adds; the first catches up when it commits next.
    const b = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
    await b.ledger.claimForSending('ITH', ['c3@example.com'], 'run-b');
    await b.provision(project, [8, 9].map((i) => row(i)));
    await b.flush();
    await a.provision(project, [10].map((i) => row(i)));
    await a.flush();
    expect(a.ledger.count('ITH', 'sending')).toBe(2);
    expect(a.ledger.count('ITH', 'pending')).toBe(5);
    await expectExact(a);
    await expectExact(b);

    // A change the log cannot hold rewrites the snapshot: read again, the counts come from it.
    await a.setSendVerificationEmails('ITH', true);
    expect(JSON.parse(await readFile(path, 'utf8')).invitations.ITH['c3@example.com']).toMatchObject({ status: 'sending' });
    await expectExact(a);
  });
});
