import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { checkInvariant, emails, hookLine, projectStore, watch, writeCsv } from './helpers.js';

/*
 * kill -9 during `apply PLAN` of 3,000 rows, at each durable step (the step stops itself: see
 * src/util/test-hooks.ts), then the same apply again: every customer there, each invited once at
 * most (a batch being sent when killed is in doubt, never sent again by itself), nothing lost.
 */
const smtp = useSmtpSink();
const tempDir = useTempDirs();
const ROWS = 3_000;

const steps = [
  { stop: 'before-rename@1', label: "the plan's progress record is written, not yet in place: nothing of the apply is" },
  { stop: 'commit@1', label: 'the first customers and their owed invitations are durable, nothing sent' },
  { stop: 'sent@5', label: 'five messages were accepted, their outcomes not yet durable' },
  { stop: 'append@3', label: 'outcomes and a later claim are durable' },
];

describe('kill -9 at each durable step of an apply, then the same apply again', () => {
  it.each(steps)('$stop ($label): all 3,000 there, each invited once at most', { timeout: 120_000 }, async ({ stop }) => {
    const dir = await tempDir();
    await projectStore(dir);
    const input = emails('k', ROWS);
    await writeCsv(dir, 'c.csv', input);
    const planned = await runCli(['import-csv', 'c.csv', '--project', 'ITH', '--plan', 'plan.json', '--quiet'], { cwd: dir });
    expect(planned.code, planned.stderr).toBe(0);
    const args = ['apply', 'plan.json', '--json', ...smtp.mail()];
    const run = watch(args, { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: stop } });
    const [step, n] = stop.split('@');
    await run.stderrMatches(hookLine(step ?? '', Number(n)));
    run.kill('SIGKILL');
    expect((await run.done).code).toBe(137);

    const store = join(dir, 'jsm-store.json');
    const cut = await checkInvariant(store, input, smtp.sink, false);
    if (stop === 'before-rename@1') {
      expect(await run.done.then((r) => r.stderr)).toMatch(/jsm-provision-test-hook: before-rename 1 \S*jsm-store\.json\.plans\//);
      expect(cut.customers).toBe(0);
    }

    const rerun = await runCli(args, { cwd: dir, timeoutMs: 100_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = rerun.json<{ totals: { rows: number; created: number; existing: number }; invitations: { inDoubt: number } }>();
    expect(summary.totals.rows).toBe(ROWS);
    expect(summary.totals.created + summary.totals.existing).toBe(ROWS);
    const after = await checkInvariant(store, input, smtp.sink, true);
    expect(summary.invitations.inDoubt).toBe(after.inDoubt);
    expect(after.sent + after.inDoubt).toBe(ROWS);
    if (stop === 'before-rename@1' || stop === 'commit@1') expect(after).toMatchObject({ sent: ROWS, inDoubt: 0 });

    // Finished: the same apply once more is refused (exit 4), nothing sent.
    const delivered = smtp.sink.accepted().length;
    const third = await runCli(args, { cwd: dir });
    expect(third.code).toBe(4);
    expect(smtp.sink.accepted()).toHaveLength(delivered);
  });
});
