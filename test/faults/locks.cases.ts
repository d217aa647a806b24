import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { checkInvariant, emails, hookLine, projectStore, watch, watchInProcess, writeCsv } from './helpers.js';

/*
 * The store's lock: a live owner is waited for and never broken (a SIGSTOPped holder resumes and
 * both runs finish), an owner that cannot be checked is reported and waited for until the admin
 * breaks it, a dead owner's lock is recovered. Ordered by test hooks and stderr lines, never sleeps.
 */
const HOOKS = 'JSM_PROVISION_TEST_HOOKS';

// Runs at the same time as the other groups of concurrent.test.ts, its tests one after another.
describe('locks', { concurrent: true }, () => {
  const smtp = useSmtpSink();
  const tempDir = useTempDirs();
  it.sequential('a paused writer holding the lock is waited for, never broken; both finish and nothing is lost', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    await writeCsv(dir, 'a.csv', emails('p', 50));
    await writeCsv(dir, 'b.csv', emails('q', 50));
    const a = watch(['import-csv', 'a.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'lock-held@1' } });
    await a.stderrMatches(hookLine('lock-held', 1));
    // The waiter runs in this process (the paused holder is the process that matters), and says it
    // waits as soon as it does (lock-notice-ms=0; users are told after a second).
    const b = watchInProcess(['import-csv', 'b.csv', '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'lock-notice-ms=0' } });
    // Said on stderr under --json too: who holds it, and that it is never broken.
    await b.stderrMatches(new RegExp(`waiting for .*jsm-store\\.json: held by process ${a.pid} on .* never broken`));
    await a.resume();
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(() => JSON.parse(rb.stdout)).not.toThrow();
    await checkInvariant(store, [...emails('p', 50), ...emails('q', 50)], smtp.sink, true);
  });

  it.sequential('a lock from another host is reported with owner and age and waited for, until the admin breaks it', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    await writeCsv(dir, 'c.csv', emails('h', 5));
    await writeFile(`${store}.lock`, JSON.stringify({ pid: 4242, host: 'elsewhere.example', at: Date.now() - 10 * 60_000 }));
    // In this process: the lock's owner is a record on disk, no process (the wait is said at once: lock-notice-ms=0).
    const run = watchInProcess(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, env: { [HOOKS]: 'lock-notice-ms=0' } });
    await run.stderrMatches(/held by process 4242 on elsewhere\.example for 10 min .*cannot be checked from this host.*store unlock --target/);
    const unlock = await runCli(['store', 'unlock', '--json'], { cwd: dir });
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.json()).toMatchObject({ ok: true, removed: true, owner: { pid: 4242, host: 'elsewhere.example' } });
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.json<{ totals: { created: number } }>().totals.created).toBe(5);
  });

  it.sequential('a wait for a lock that cannot be checked ends (JSM_LOCK_WAIT) with exit 2, the owner named, nothing written', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    await writeCsv(dir, 'c.csv', emails('w', 5));
    await writeFile(`${store}.lock`, JSON.stringify({ pid: 4242, host: 'elsewhere.example', at: Date.now() }));
    const before = await readFile(store, 'utf8');
    const run = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, env: { JSM_LOCK_WAIT: '0' } });
    expect(run.code).toBe(2);
    const { error } = run.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('store-locked');
    expect(error.message).toContain('process 4242 on elsewhere.example');
    expect(await readFile(store, 'utf8')).toBe(before);
    // The wait is taken once: a command whose write timed out does not wait again as it closes
    // (JSM_LOCK_WAIT=3 took 6 s). The test hooks name each time the lock is asked for.
    for (const args of [['import-csv', 'c.csv', '--no-invite'], ['project', 'set-notifications', '--no-verification']]) {
      const again = await runCli([...args, '--project', 'ITH', '--json'], { cwd: dir, env: { JSM_LOCK_WAIT: '0', JSM_PROVISION_TEST_HOOKS: 'none' } });
      expect(again.code, args[0]).toBe(2);
      expect(again.stderr.match(/jsm-provision-test-hook: before-lock/g), args[0]).toHaveLength(1);
    }
  });

  it.sequential('a lock whose owner died on this host is recovered by itself, without a wait', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    await writeCsv(dir, 'c.csv', emails('r', 5));
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(`${store}.lock`, JSON.stringify({ pid: Number(gone.stdout), host: hostname(), at: Date.now() }));
    const run = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--json', '--no-invite'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('waiting');
    expect(run.json<{ totals: { created: number } }>().totals.created).toBe(5);
  });

  it.sequential('store unlock refuses the lock of a live process on this host', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() });
    await writeFile(`${store}.lock`, lock);
    const unlock = await runCli(['store', 'unlock', '--json'], { cwd: dir });
    expect(unlock.code).toBe(2);
    expect(unlock.json()).toMatchObject({ ok: false, error: { code: 'lock-live' } });
    expect(unlock.stderr).toContain(`process ${process.pid}`);
    expect(await readFile(join(dir, 'jsm-store.json.lock'), 'utf8')).toBe(lock);
  });
});
