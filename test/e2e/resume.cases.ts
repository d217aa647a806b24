import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { readStore } from '../support/store.js';
import { hookCount, hookLine, watch } from '../faults/helpers.js';
import { chunks, customersCsv, useImportRuns } from './import-runs.js';

/**
 * Rows of each import: enough for invitations to go out in many batches (seven: 24 new invitations
 * claimed each time, 32 with those in flight) and a kill among them. The provisioning takes them in two
 * chunks of CHUNK rows (test setting chunk-rows; the default is 500 rows), so the first kill comes
 * between two chunks; the hook lines show both chunks happened.
 */
const ROWS = 150;
const CHUNK = 75;

// kill -9 at chosen moments of an import, then the same command again (interrupts.test.ts has SIGINT).
const runs = useImportRuns();
const { freshProject, importArgs } = runs;
let sink: SmtpSink;
beforeEach(() => {
  sink = runs.sink();
});

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
  // Two kills before any invitation went out (after the first chunk; at the first claim), three after:
  // among the first 10 messages, between a quarter and a half of them, and between 3/4 and 19/20.
  const moments = [
    { label: 'after the first chunk, nothing committed', hook: 'provisioned@1', afterMessages: 0 },
    { label: 'just before the first invitation', hook: 'claimed@1', afterMessages: 0 },
    { label: 'after the first invitations', hook: '', afterMessages: 1 + Math.floor(random() * 10) },
    { label: 'midway', hook: '', afterMessages: 38 + Math.floor(random() * 37) },
    { label: 'late', hook: '', afterMessages: 113 + Math.floor(random() * 30) },
  ];

  it.each(moments)('$label: a re-run ends with everyone once and no address emailed twice', async (moment) => {
    const dir = await freshProject(customersCsv('k', ROWS));
    sink.messages.length = 0;
    const run = watch(importArgs(), { cwd: dir, env: chunks(CHUNK, moment.hook) });
    if (moment.hook) {
      const [step, n] = moment.hook.split('@');
      await run.stderrMatches(hookLine(step ?? '', Number(n)));
    }
    if (moment.afterMessages > 0) await sink.whenAccepted(moment.afterMessages);
    run.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBe(137);
    if (moment.hook) expect(sink.accepted()).toHaveLength(0);
    if (moment.hook === 'provisioned@1') {
      // Killed after the first of the two chunks, before any commit.
      expect(hookCount(killed.stderr, 'provisioned')).toBe(1);
      expect(hookCount(killed.stderr, 'commit')).toBe(0);
    } else {
      // Both chunks were provisioned before the first claim.
      expect(hookCount(killed.stderr, 'provisioned')).toBe(2);
    }

    const rerun = await runCli(importArgs(), { cwd: dir, env: chunks(CHUNK) });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(hookCount(rerun.stderr, 'provisioned')).toBe(2);
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
