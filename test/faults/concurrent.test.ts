import { describe, expect, it } from 'vitest';
import { runCli, runSpawned } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { checkInvariant, emails, hookLine, projectStore, watch, writeCsv } from './helpers.js';

/*
 * Several processes on one store, put in the order under test by the test hooks (each stops itself
 * at a named step, SIGSTOP; the test resumes it with SIGCONT), never by sleeping.
 *
 * This group, the REST group and the locks group (the cases below) run at the same time as each
 * other ({ concurrent: true } on each describe): each has its own SMTP sink and folders (their
 * hooks are registered inside it); the tests within a group run one after another (sequential).
 */
const HOOKS = 'JSM_PROVISION_TEST_HOOKS';

describe('concurrent runs on one store', { concurrent: true }, () => {
  const smtp = useSmtpSink();
  const tempDir = useTempDirs();
  it.sequential('three imports of overlapping files count as created exactly the new customers, each invited once', async () => {
    const dir = await tempDir();
    const store = await projectStore(dir);
    const a = emails('o', 60);
    const b = emails('o', 90).slice(30);
    const c = [...emails('o', 30), ...emails('o', 120).slice(60)];
    await writeCsv(dir, 'a.csv', a);
    await writeCsv(dir, 'b.csv', b);
    await writeCsv(dir, 'c.csv', c);
    // Each provisions in memory and stops before taking the lock: all three commit on top of each other.
    const runs = ['a.csv', 'b.csv', 'c.csv'].map((file) =>
      watch(['import-csv', file, '--project', 'ITH', '--json', ...smtp.mail()], { cwd: dir, env: { [HOOKS]: 'before-lock@1' } }),
    );
    await Promise.all(runs.map((r) => r.stderrMatches(hookLine('before-lock', 1))));
    await Promise.all(runs.map((r) => r.resume()));
    const results = await Promise.all(runs.map((r) => r.done));
    let created = 0;
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      created += result.json<{ totals: { created: number } }>().totals.created;
    }
    expect(created).toBe(120);
    const figures = await checkInvariant(store, emails('o', 120), smtp.sink, true);
    expect(figures).toMatchObject({ customers: 120, sent: 120, inDoubt: 0 });
  });

  it.sequential('without a report, rows are counted as they settle: a row another run created first is counted existing, not created', async () => {
    const dir = await tempDir();
    await projectStore(dir);
    await writeCsv(dir, 'a.csv', emails('n', 60));
    await writeCsv(dir, 'b.csv', emails('n', 90).slice(30));
    const runs = ['a.csv', 'b.csv'].map((file) =>
      watch(['import-csv', file, '--project', 'ITH', '--json', '--no-invite'], { cwd: dir, env: { [HOOKS]: 'before-lock@1' } }),
    );
    await Promise.all(runs.map((r) => r.stderrMatches(hookLine('before-lock', 1))));
    await Promise.all(runs.map((r) => r.resume()));
    let created = 0;
    let revised = 0;
    for (const result of await Promise.all(runs.map((r) => r.done))) {
      expect(result.code, result.stderr).toBe(0);
      const { totals, invitations } = result.json<{ totals: { rows: number; created: number; existing: number }; invitations: { suppressed: number } }>();
      expect(totals.created + totals.existing).toBe(totals.rows);
      // Only the customers this run created had an invitation to suppress.
      expect(invitations.suppressed).toBe(totals.created);
      created += totals.created;
      revised += totals.existing;
    }
    expect(created).toBe(90);
    // The 30 both files hold: created by whichever run committed first, existing for the other.
    expect(revised).toBe(30);
  });

  for (const kind of ['in-doubt', 'failed'] as const) {
    it.sequential(`two "invitations send --${kind}" at once never email anyone twice`, async () => {
      const dir = await tempDir();
      const store = await projectStore(dir);
      const input = emails(kind === 'failed' ? 'f' : 'd', 40);
      await writeCsv(dir, 'c.csv', input);
      smtp.sink.setFaults(kind === 'failed' ? { refuse: 'rcpt' } : { dropAfterData: true });
      // In doubt: a process of its own, as the claims it leaves in doubt name a process that has ended
      // (a run in this one would name this live process, and A, another process, could not tell that
      // its run ended). Failed: in this process, as a failed invitation is claimable whoever failed it.
      const importArgs = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...smtp.mail()];
      const first = kind === 'failed' ? await runCli(importArgs, { cwd: dir }) : await runSpawned(importArgs, { cwd: dir });
      expect(first.code).toBe(1);
      const before = await checkInvariant(store, input, smtp.sink, false);
      expect(kind === 'failed' ? before.failed : before.inDoubt).toBe(40);
      smtp.sink.setFaults({ refuse: null, dropAfterData: false });

      const args = ['invitations', 'send', '--project', 'ITH', `--${kind}`, '--yes', '--json', ...smtp.mail()];
      // A claims its first batch and stops there; B runs to its end meanwhile; then A goes on.
      const a = watch(args, { cwd: dir, env: { [HOOKS]: 'claimed@1' } });
      await a.stderrMatches(hookLine('claimed', 1));
      const b = await runCli(args, { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
      // What A holds claimed is being sent by a live run: B does not call it in doubt.
      expect(b.json<{ invitations: { inDoubt: number } }>().invitations.inDoubt).toBe(0);
      await a.resume();
      const aDone = await a.done;
      expect(aDone.code, aDone.stderr).toBe(0);
      const sentA = aDone.json<{ invitations: { sent: number } }>().invitations.sent;
      const sentB = b.json<{ invitations: { sent: number } }>().invitations.sent;
      expect(sentA).toBeGreaterThan(0);
      expect(sentB).toBeGreaterThan(0);
      expect(sentA + sentB).toBe(40);
      expect(await checkInvariant(store, input, smtp.sink, true)).toMatchObject({ sent: 40, inDoubt: 0 });
    });
  }
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './rest-concurrent.cases.js';
import './locks.cases.js';
