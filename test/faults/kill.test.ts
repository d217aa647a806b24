import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { checkInvariant, emails, hookCount, killedAt, projectStore, writeCsv } from './helpers.js';

/*
 * kill -9 at each durable step, chosen by the step itself: JSM_PROVISION_TEST_HOOKS makes the CLI
 * print a marker at the step and stop there (SIGSTOP); the test then kills it. No sleeps. After the
 * kill and after a re-run, the invariant holds (see checkInvariant).
 */
const smtp = useSmtpSink();
const tempDir = useTempDirs();
// 50 rows: invitations are claimed 24 at a time (CLAIM_BATCH 32 less the 8 messages in flight,
// src/core/send.ts), so an import of 50 claims three batches (24, 24, 2): killed at its second claim
// (append@2), 2 invitations are still pending for the re-run to claim. The test counts the claims
// from the markers, so it fails if the size stops giving that.
const ROWS = 50;

const steps = [
  { stop: 'log-written@1', label: 'the first customers are written to the log, its line not yet whole' },
  { stop: 'commit@1', label: 'customers and owed invitations are durable, nothing sent' },
  { stop: 'append@1', label: 'the first batch is claimed' },
  { stop: 'sent@5', label: 'five messages were accepted, their outcomes not yet durable' },
  { stop: 'append@2', label: 'the first outcomes and the second claim are durable' },
];

describe('kill -9 at each durable step of an import', () => {
  it.each(steps)('$stop ($label): nothing lost, nobody emailed twice, the re-run finishes', async ({ stop }) => {
    const dir = await tempDir();
    await projectStore(dir);
    const input = emails('k', ROWS);
    await writeCsv(dir, 'c.csv', input);
    const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...smtp.mail()];
    const killed = await killedAt(stop, args, { cwd: dir });
    // Killed at its second claim, not at the flush of the last outcomes: one batch was claimed before.
    if (stop === 'append@2') expect(hookCount(killed.stderr, 'claimed')).toBe(1);

    const store = join(dir, 'jsm-store.json');
    const cut = await checkInvariant(store, input, smtp.sink, false);
    if (stop === 'commit@1') expect(cut).toMatchObject({ customers: ROWS, pending: ROWS });
    // A kill while sending leaves at most the batch being sent in doubt.
    expect(cut.inDoubt).toBeLessThanOrEqual(32);

    // The markers on (in process they stop nothing; 'markers' names no step) to count the re-run's claims.
    const rerun = await runCli(args, { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: 'markers' } });
    expect(rerun.code, rerun.stderr).toBe(0);
    // Something was still owed after the kill, and the re-run claimed it.
    expect(hookCount(rerun.stderr, 'claimed')).toBeGreaterThanOrEqual(1);
    const summary = rerun.json<{ totals: { rows: number; created: number; existing: number }; invitations: { inDoubt: number } }>();
    expect(summary.totals.rows).toBe(ROWS);
    expect(summary.totals.created + summary.totals.existing).toBe(ROWS);
    const after = await checkInvariant(store, input, smtp.sink, true);
    // In doubt only what a claimed batch left; listed by the re-run.
    expect(summary.invitations.inDoubt).toBe(after.inDoubt);
    expect(after.sent + after.inDoubt).toBe(ROWS);
    if (stop === 'log-written@1' || stop === 'commit@1') expect(after).toMatchObject({ sent: ROWS, inDoubt: 0 });
  });
});
