import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow, Reporter } from '../../src/core/types.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { fileFaults } from '../../src/util/atomic-file.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A customer and the record that they are owed an invitation become durable in the same write:
 * every version of the store that reaches the disk (each commit, read at its rename) holds, for
 * each new customer, their invitation record. A kill between two commits can then never leave a
 * customer nobody will invite (the re-run finds them existing, with the invitation pending).
 */
const tempDir = useTempDirs();
const quiet: Reporter = { reading: () => undefined, progress: () => undefined, sending: () => undefined };
afterEach(() => {
  fileFaults.inject = null;
});

/** The store a reader would see, from the snapshot's text and the log's (whole lines only). */
function readSync(path: string, snapshot: string, log: string) {
  const store = JSON.parse(snapshot) as { generation: number; customers: Record<string, unknown>; invitations: Record<string, Record<string, { status: string }>> };
  const lines = log.split('\n');
  lines.pop();
  const header = lines.shift();
  if (header && (JSON.parse(header) as { generation: number }).generation === store.generation) {
    for (const line of lines) {
      const batch = JSON.parse(line) as { customers?: Record<string, unknown>; invitations?: Record<string, Record<string, { status: string }>> };
      Object.assign(store.customers, batch.customers ?? {});
      for (const [project, records] of Object.entries(batch.invitations ?? {})) Object.assign((store.invitations[project] ??= {}), records);
    }
  }
  void path;
  return store;
}

async function* rows(n: number): AsyncIterable<CandidateRow> {
  for (let i = 0; i < n; i++) yield { line: i + 2, email: `s${i}@example.com`, fullName: `S ${i}` };
}

describe('customers and their owed invitations', () => {
  it('are in every commit together, chunk by chunk, before any message leaves', async () => {
    const dir = await tempDir();
    const path = join(dir, 'jsm-store.json');
    const setup = await LocalTarget.open(path);
    await setup.createProject('ITH', 'IT Help');
    await setup.close();

    const outbox = join(dir, 'outbox');
    const snapshots: { customers: Record<string, unknown>; invitations: Record<string, Record<string, { status: string }>>; emlFiles: number }[] = [];
    let emlFiles = 0;
    // Each version of the store as it reaches the disk: at a log append's fsync (the snapshot and
    // the log as they are then), or at a snapshot's rename.
    fileFaults.inject = (step, file) => {
      if (step === 'fsync' && file === `${path}.journal`) {
        snapshots.push({ ...readSync(path, readFileSync(path, 'utf8'), readFileSync(file, 'utf8')), emlFiles });
      }
      if (step === 'rename' && file.endsWith('.eml.tmp') === false && file.includes('jsm-store.json')) {
        snapshots.push({ ...readSync(path, readFileSync(file, 'utf8'), ''), emlFiles });
      }
      if (step === 'rename' && file.includes('.eml.')) emlFiles++;
    };
    const target = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
    const project = await target.getProject('ITH');
    const mailer = createOutboxMailer({ dir: outbox, from: 'help@example.com' });
    const settings = { command: 'import-csv', project, kind: 'welcome' as const, invitations: 'send' as const, dryRun: false };
    const outcome = await runImport(rows(50), settings, {
      target, mailer: async () => mailer, outbox, messageId: messageIdFor, reporter: quiet, runId: 'run-1', chunkSize: 10,
    });
    await target.close();
    expect(outcome.summary.totals.created).toBe(50);
    expect(outcome.summary.invitations.sent).toBe(50);

    // One commit per chunk, each before the first message.
    const provisioning = snapshots.filter((s) => s.emlFiles === 0);
    expect(provisioning.length).toBeGreaterThanOrEqual(5);
    const sizes = provisioning.map((s) => Object.keys(s.customers).length);
    expect(sizes.slice(0, 5)).toEqual([10, 20, 30, 40, 50]);
    for (const snapshot of provisioning) {
      for (const key of Object.keys(snapshot.customers)) {
        // Pending, or already claimed for sending (the claim's append is a version of the store too).
        expect(snapshot.invitations.ITH?.[key]?.status, `${key} was committed without its invitation`).toMatch(/^(pending|sending)$/);
      }
    }
  });
});
