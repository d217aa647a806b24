import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { checkInvariant, emails, hookLine, killedAt, projectStore, untilStopped, watch, writeCsv } from './helpers.js';

/*
 * Runs in separate PID namespaces on one host, as containers sharing a store's volume: each run is
 * the same pid of its own namespace, with the same host name. A lock is never taken for a dead owner's
 * from its pid alone. Each run is started under `unshare --pid --fork --mount-proc --kill-child`
 * (root); ordered by test hooks and stderr lines, never sleeps.
 */
const smtp = useSmtpSink();
const tempDir = useTempDirs();
const HOOKS = 'JSM_PROVISION_TEST_HOOKS';
// A shell is the namespace's pid 1 and the CLI its pid 2 in each: the kernel ignores a stop that a
// namespace's pid 1 sends itself (the test hooks' SIGSTOP), and pid 2 collides just the same.
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', '"$0" "$@"; exit $?'];
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

/** The host pid of the CLI: the child of the namespace's shell, the child of `unshare`. */
async function nodeIn(unsharePid: number): Promise<number> {
  const child = async (pid: number): Promise<number> => {
    for (;;) {
      const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim();
      if (children !== '') return Number(children.split(' ')[0]);
      await new Promise((r) => setImmediate(r));
    }
  };
  return child(await child(unsharePid));
}

describe.skipIf(!canUnshare)('locks across PID namespaces (each run has the same pid in its own)', () => {
  it('a live owner in another namespace is waited for, never broken: three runs keep every customer, each emailed once', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    for (const p of ['a', 'b', 'c']) await writeCsv(dir, `${p}.csv`, emails(p, 40));
    const a = watch(['import-csv', 'a.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'lock-held@1' }, wrap: UNSHARE });
    await a.stderrMatches(hookLine('lock-held', 1));
    // The waiters say who holds the lock at their first look at it (lock-notice-ms=0), not after the
    // second a user's run waits before saying so: the test need not wait that second out.
    const b = watch(['import-csv', 'b.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'lock-notice-ms=0' }, wrap: UNSHARE });
    const c = watch(['import-csv', 'c.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'lock-notice-ms=0' }, wrap: UNSHARE });
    // Both wait for the stopped owner (pid 1 of another namespace) instead of breaking its lock.
    await b.stderrMatches(/waiting for .*jsm-store\.json: held by process 2 on .*never broken/);
    await c.stderrMatches(/waiting for .*jsm-store\.json: held by process 2 on .*never broken/);
    const owner = await nodeIn(a.pid);
    await untilStopped(owner);
    process.kill(owner, 'SIGCONT');
    const results = await Promise.all([a.done, b.done, c.done]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const figures = await checkInvariant(store, [...emails('a', 40), ...emails('b', 40), ...emails('c', 40)], smtp.sink, true);
    expect(figures).toMatchObject({ customers: 120, sent: 120 });
  });

  it('the lock of a run killed in another namespace is recovered by itself, without a wait', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    await writeCsv(dir, 'a.csv', emails('a', 5));
    await writeCsv(dir, 'b.csv', emails('b', 5));
    // --kill-child: the namespace's pid 1 dies, and the CLI with it.
    await killedAt('lock-held@1', ['import-csv', 'a.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, wrap: UNSHARE });
    // With lock-notice-ms=0, b would say it waits at its first look at a lock it may not take (not only
    // after a second): it never says so.
    const b = watch(['import-csv', 'b.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, env: { [HOOKS]: 'lock-notice-ms=0' }, wrap: UNSHARE });
    const rb = await b.done;
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).not.toContain('waiting');
    const data = (await LocalStore.open(store)).data;
    expect([...data.customers.keys()].sort()).toEqual(emails('b', 5).sort());
  });

  it('three imports of 3,000 rows at once, in three namespaces, keep all 9,000 customers', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    for (const p of ['a', 'b', 'c']) await writeCsv(dir, `${p}.csv`, emails(p, 3000));
    const runs = ['a', 'b', 'c'].map((p) => watch(['import-csv', `${p}.csv`, '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, wrap: UNSHARE }).done);
    const results = await Promise.all(runs);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ totals: { created: number } }>().totals.created).toBe(3000);
    }
    expect((await LocalStore.open(store)).data.customers.size).toBe(9000);
  });
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './rest-namespaces.cases.js';
