import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { readStore } from '../support/store.js';
import { hookCount, hookLine, untilStopped, watch } from '../faults/helpers.js';
import { chunks, customersCsv, ROWS, useImportRuns } from './import-runs.js';

// SIGINT and SIGTERM at chosen moments, and two runs at once (the kill -9 moments of the same import
// are in resume.cases.ts).
const runs = useImportRuns();
const { freshProject, importArgs } = runs;
let sink: SmtpSink;
beforeEach(() => {
  sink = runs.sink();
});

describe('interrupts and concurrent runs', () => {
  it('SIGINT while rows are provisioned: stops taking rows, prints the summary, exits 130; a re-run finishes', async () => {
    // Three chunks: the signal is handled while the second chunk's passwords hash, so the third is never started.
    // Chunks of 50 rows (test setting chunk-rows) make them from 150 rows (1,100 with the default 500),
    // a password in each (rows 0, 50, 100); the hook lines below show the chunks happened.
    const CHUNK = 50;
    const N = 3 * CHUNK;
    const dir = await freshProject(customersCsv('s', N));
    sink.messages.length = 0;
    // The process stops itself once the first chunk is provisioned; the SIGINT waits for it there.
    const run = watch(importArgs(), { cwd: dir, env: chunks(CHUNK, 'provisioned@1') });
    await run.stderrMatches(hookLine('provisioned', 1));
    await untilStopped(run.pid);
    run.kill('SIGINT');
    run.kill('SIGCONT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: finishing the rows in flight');
    const partial = stopped.json<{ ok: boolean; totals: { rows: number; created: number; failed: number }; invitations: { sent: number; inDoubt: number } }>();
    expect(partial.ok).toBe(false);
    expect(partial.totals.rows).toBe(N);
    expect(partial.totals.created).toBeLessThan(N);
    expect(partial.totals.created).toBeGreaterThanOrEqual(CHUNK); // the first chunk was done when it came
    expect(partial.totals.failed).toBe(N - partial.totals.created); // "not processed: run again"
    // Whole chunks of CHUNK rows were provisioned, one or two of the three: never the third.
    const provisioned = hookCount(stopped.stderr, 'provisioned');
    expect(provisioned).toBeGreaterThanOrEqual(1);
    expect(provisioned).toBeLessThanOrEqual(2);
    expect(partial.totals.created).toBe(provisioned * CHUNK);
    expect(partial.invitations).toMatchObject({ sent: 0, inDoubt: 0 });
    expect(sink.messages).toHaveLength(0);

    const rerun = await runCli(importArgs(), { cwd: dir });
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ totals: { created: N - partial.totals.created, existing: partial.totals.created }, invitations: { sent: N, inDoubt: 0 } });
    const received = sink.accepted().map((m) => m.rcptTo[0]);
    expect(new Set(received).size).toBe(N);
    expect(received).toHaveLength(N);
  }, 120_000);

  it('SIGINT while invitations go out: those in flight finish, the rest stay owed and the re-run sends them once', async () => {
    // 120 rows in two chunks of 60 (test setting chunk-rows; 600 rows make two with the default 500),
    // and five claim batches of 24 new invitations (8 senders): the SIGINT comes in the second batch,
    // after 30 were accepted; at most the batch claimed and those in flight (32) go out after it.
    const N = 120;
    const CHUNK = 60;
    const dir = await freshProject(customersCsv('t', N).replace(/,Pw-[^\n]*/g, ','));
    sink.messages.length = 0;
    const run = watch(importArgs(), { cwd: dir, env: chunks(CHUNK) });
    await sink.whenAccepted(30);
    run.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(hookCount(stopped.stderr, 'provisioned')).toBe(2);
    const partial = stopped.json<{ totals: { created: number }; invitations: { sent: number; pending: number; inDoubt: number } }>();
    expect(partial.totals.created).toBe(N);
    expect(partial.invitations.inDoubt).toBe(0);
    expect(partial.invitations.sent).toBeLessThan(N);
    expect(partial.invitations.sent + partial.invitations.pending).toBe(N);
    expect(sink.accepted()).toHaveLength(partial.invitations.sent);

    const rerun = await runCli(importArgs(), { cwd: dir });
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ totals: { existing: N }, invitations: { sent: partial.invitations.pending, inDoubt: 0 } });
    const received = sink.accepted().map((m) => m.rcptTo[0]);
    expect(received).toHaveLength(N);
    expect(new Set(received).size).toBe(N);
  }, 120_000);

  it('two processes importing 600 rows each into one store end with 1,200 customers', async () => {
    const dir = await freshProject('');
    const noPasswords = (prefix: string) => customersCsv(prefix).replace(/,Pw-[^\n]*/g, ',');
    await writeFile(join(dir, 'a.csv'), noPasswords('a'));
    await writeFile(join(dir, 'b.csv'), noPasswords('b'));
    const run = (file: string) => runCli(['import-csv', file, '--project', 'ITH', '--no-invite', '--json'], { cwd: dir });
    const [a, b] = await Promise.all([run('a.csv'), run('b.csv')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.json()).toMatchObject({ totals: { created: ROWS } });
    expect(b.json()).toMatchObject({ totals: { created: ROWS } });
    expect(Object.keys((await readStore(dir)).customers)).toHaveLength(2 * ROWS);
  }, 120_000);
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './resume.cases.js';
