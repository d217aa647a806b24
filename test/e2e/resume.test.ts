import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { readStore } from '../support/store.js';
import { useTempDirs } from '../support/tmp.js';
import { hookLine, projectStore, untilStopped, watch } from '../faults/helpers.js';

const tempDir = useTempDirs();
const smtp = useSmtpSink();
let sink: SmtpSink;
beforeEach(() => {
  sink = smtp.sink;
});

/*
 * Kill and interrupt moments are chosen by observable events, never by a wait: a test-hook marker
 * (JSM_PROVISION_TEST_HOOKS, the process stops itself there) or the n-th message at the SMTP sink.
 * 600 rows: two provisioning chunks (500 + 100) and about twenty claim batches of 32, enough for
 * kills between chunks, between batches and late in the sending. The moments no longer depend on
 * the run lasting long, so the file is no bigger than that.
 */
const ROWS = 600;

/** Every 50th row has a password (hashed on the thread pool, as real imports with passwords are). */
function customersCsv(prefix: string, rows = ROWS): string {
  const lines = ['email,name,password'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,${prefix} ${i},${i % 50 === 0 ? `Pw-${prefix}-${i}-xyz` : ''}`);
  return `${lines.join('\n')}\n`;
}

async function freshProject(csv: string): Promise<string> {
  const dir = await tempDir();
  await projectStore(dir);
  await writeFile(join(dir, 'customers.csv'), csv);
  return dir;
}

const importArgs = () => ['import-csv', 'customers.csv', '--project', 'ITH', '--json', ...smtp.mail()];

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A small seeded generator, so the kill moments are the same on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('resume after kill -9', () => {
  const random = mulberry32(20261126);
  // Two kills before any invitation went out (after the first chunk; at the first claim), three after.
  const moments = [
    { label: 'after the first chunk, nothing committed', hook: 'provisioned@1', afterMessages: 0 },
    { label: 'just before the first invitation', hook: 'claimed@1', afterMessages: 0 },
    { label: 'after the first invitations', hook: '', afterMessages: 1 + Math.floor(random() * 40) },
    { label: 'midway', hook: '', afterMessages: 150 + Math.floor(random() * 150) },
    { label: 'late', hook: '', afterMessages: 450 + Math.floor(random() * 120) },
  ];

  it.each(moments)('$label: a re-run ends with everyone once and no address emailed twice', async (moment) => {
    const dir = await freshProject(customersCsv('k'));
    sink.messages.length = 0;
    const run = watch(importArgs(), { cwd: dir, env: moment.hook ? { JSM_PROVISION_TEST_HOOKS: moment.hook } : {} });
    if (moment.hook) {
      const [step, n] = moment.hook.split('@');
      await run.stderrMatches(hookLine(step ?? '', Number(n)));
    }
    if (moment.afterMessages > 0) await until(() => sink.accepted().length >= moment.afterMessages);
    run.kill('SIGKILL');
    expect((await run.done).code).toBe(137);
    if (moment.hook) expect(sink.accepted()).toHaveLength(0);

    const rerun = await runCli(importArgs(), { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = rerun.json<{ totals: { rows: number; created: number; existing: number }; invitations: { inDoubt: number } }>();
    expect(summary.totals.rows).toBe(ROWS);
    expect(summary.totals.created + summary.totals.existing).toBe(ROWS);

    const store = await readStore(dir);
    expect(Object.keys(store.customers)).toHaveLength(ROWS);
    const ledger = Object.values(store.invitations.ITH ?? {});
    expect(ledger).toHaveLength(ROWS);
    const inDoubt = ledger.filter((r) => r.status === 'sending').map((r) => r.email);
    expect(ledger.filter((r) => r.status !== 'sent' && r.status !== 'sending')).toEqual([]);
    expect(summary.invitations.inDoubt).toBe(inDoubt.length);
    // Only what was claimed when the kill came can be in doubt: the batch being sent and the next.
    expect(inDoubt.length).toBeLessThanOrEqual(64);

    const received = sink.accepted().map((m) => m.rcptTo[0] ?? '');
    expect(new Set(received).size).toBe(received.length); // nobody emailed twice
    const covered = new Set([...received, ...inDoubt]);
    expect(covered.size).toBe(ROWS); // everyone received theirs or is listed in doubt
    for (const r of ledger.filter((x) => x.status === 'sent')) expect(received).toContain(r.email);
  }, 120_000);
});

describe('interrupts and concurrent runs', () => {
  it('SIGINT while rows are provisioned: stops taking rows, prints the summary, exits 130; a re-run finishes', async () => {
    // Three chunks: the signal is handled while the second chunk's passwords hash, so the third is never started.
    const N = 1_100;
    const dir = await freshProject(customersCsv('s', N));
    sink.messages.length = 0;
    // The process stops itself once the first chunk is provisioned; the SIGINT waits for it there.
    const run = watch(importArgs(), { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: 'provisioned@1' } });
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
    expect(partial.totals.created).toBeGreaterThanOrEqual(500); // the first chunk was done when it came
    expect(partial.totals.failed).toBe(N - partial.totals.created); // "not processed: run again"
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
    const dir = await freshProject(customersCsv('t').replace(/,Pw-[^\n]*/g, ','));
    sink.messages.length = 0;
    const run = watch(importArgs(), { cwd: dir });
    await until(() => sink.accepted().length >= 50);
    run.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    const partial = stopped.json<{ totals: { created: number }; invitations: { sent: number; pending: number; inDoubt: number } }>();
    expect(partial.totals.created).toBe(ROWS);
    expect(partial.invitations.inDoubt).toBe(0);
    expect(partial.invitations.sent).toBeLessThan(ROWS);
    expect(partial.invitations.sent + partial.invitations.pending).toBe(ROWS);
    expect(sink.accepted()).toHaveLength(partial.invitations.sent);

    const rerun = await runCli(importArgs(), { cwd: dir });
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ totals: { existing: ROWS }, invitations: { sent: partial.invitations.pending, inDoubt: 0 } });
    const received = sink.accepted().map((m) => m.rcptTo[0]);
    expect(received).toHaveLength(ROWS);
    expect(new Set(received).size).toBe(ROWS);
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
