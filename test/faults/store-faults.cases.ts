import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { runIdFor } from '../../src/store/lock.js';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { emails, killedAt, projectStore, writeCsv } from './helpers.js';

/*
 * The local store where runs are cut off and re-run with other settings: what a re-run says it did
 * is what the store records, and what a later command acts on.
 */
const smtp = useSmtpSink();
const tempDir = useTempDirs();

interface Summary {
  invitations: { sent: number; suppressed: number; pending: number; inDoubt: number };
}

describe('a re-run after a kill', () => {
  it('--no-invite records the suppression of what the killed run owed; a later invitations send emails none of them', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    const input = emails('n', 50);
    await writeCsv(dir, 'c.csv', input);
    // Killed once the customers and the invitations they are owed are durable, nothing sent.
    await killedAt('commit@1', ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir });
    const again = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite', ...smtp.mail()], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<Summary>().invitations).toMatchObject({ sent: 0, suppressed: 50, pending: 0 });
    const records = [...((await LocalStore.open(store)).data.invitations.ITH?.values() ?? [])];
    expect(records).toHaveLength(50);
    for (const record of records) expect(record).toMatchObject({ status: 'suppressed', suppressedBy: 'flag' });
    // Another invitation owed later (deferred), then sent: only that one goes out.
    await writeCsv(dir, 'd.csv', ['later@example.com']);
    const deferred = await runCli(['import-csv', 'd.csv', '--project', 'ITH', '--json', '--defer-invites'], { cwd: dir });
    expect(deferred.code, deferred.stderr).toBe(0);
    const send = await runCli(['invitations', 'send', '--project', 'ITH', '--json', '--yes', ...smtp.mail()], { cwd: dir });
    expect(send.code, send.stderr).toBe(0);
    expect(smtp.sink.accepted().flatMap((m) => m.rcptTo)).toEqual(['later@example.com']);
  });
});

describe("a live run's sends", () => {
  it('are shown as being sent, not in doubt, by invitations list and project show; a dead run\'s are in doubt', async () => {
    const dir = await tempDir();
    const path = await projectStore(dir);
    const store = await LocalStore.open(path);
    // This test process is the live run; a run id of a process that is gone is the cut-off one.
    const live = runIdFor('5f0c0000-0000-4000-8000-000000000001');
    const dead = 'e1d0c0de-0000-4000-8000-000000000002~999999999.1@nowhere.invalid';
    store.mutate((data) => {
      const customers: string[] = [];
      const invitations: [string, string][] = [];
      for (const [key, runId] of [['live@example.com', live], ['dead@example.com', dead]] as const) {
        data.customers.set(key, { email: key, fullName: key, createdAt: '2026-01-01T00:00:00.000Z', projects: ['ITH'] });
        let byKey = data.invitations.ITH;
        if (!byKey) data.invitations.ITH = byKey = new Map();
        byKey.set(key, { project: 'ITH', key, email: key, fullName: key, kind: 'welcome', status: 'sending', deferred: false, mustChangePassword: false, runId, updatedAt: '2026-01-01T00:00:00.000Z' });
        customers.push(key);
        invitations.push(['ITH', key]);
      }
      return { customers, invitations };
    });
    await store.commit();
    const shown = await runCli(['project', 'show', '--project', 'ITH', '--json'], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json<{ invitations: Record<string, number> }>().invitations).toMatchObject({ inDoubt: 1, sending: 1 });
    const listed = await runCli(['invitations', 'list', '--project', 'ITH', '--json', '--status', 'in-doubt'], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json<{ invitations: { email: string }[] }>().invitations.map((r) => r.email)).toEqual(['dead@example.com']);
  });
});
