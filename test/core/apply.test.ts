import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/core/run.js';
import type { ProvisionRequest } from '../../src/core/target.js';
import type { CandidateRow, ProjectInfo, ProvisionOutcome, Reporter } from '../../src/core/types.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const quiet: Reporter = { reading: () => undefined, progress: () => undefined, sending: () => undefined };

async function* rows(...emails: string[]): AsyncIterable<CandidateRow> {
  let line = 2;
  for (const email of emails) yield { line: line++, email, fullName: email.split('@')[0] ?? email };
}

/** The local target, except that the first time it meets `broken` it makes the account but cannot finish the row (as when JSM's membership call keeps failing). */
class HalfDoneOnce extends LocalTarget {
  failed = false;
  static async at(path: string, broken: string): Promise<HalfDoneOnce> {
    const target = new HalfDoneOnce(await LocalStore.open(path));
    target.broken = broken;
    return target;
  }
  broken = '';
  override async provision(project: ProjectInfo, batch: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    const outcomes = await super.provision(project, batch, onRowDone);
    return outcomes.map((outcome, i) => {
      if (this.failed || batch[i]?.key !== this.broken) return outcome;
      this.failed = true;
      return { status: 'failed', reason: 'the account was created, but it could not be made a customer', accountCreated: true };
    });
  }
}

describe('a row whose account was made but which could not be finished', () => {
  it('owes its invitation: not sent now, sent by the re-run that finds the account existing', async () => {
    const dir = await tempDir();
    const store = join(dir, 'jsm-store.json');
    const setup = await LocalTarget.open(store);
    await setup.createProject('ITH', 'IT Help');
    await setup.close();
    const outbox = join(dir, 'outbox');
    const run = async (target: LocalTarget) => {
      const mailer = createOutboxMailer({ dir: outbox, from: 'help@example.com' });
      const project = await target.getProject('ITH');
      const settings = { command: 'import-csv', project, kind: 'welcome' as const, invitations: 'send' as const, dryRun: false };
      const outcome = await runImport(rows('ann@example.com', 'bob@example.com'), settings, {
        target, mailer: async () => mailer, outbox, messageId: messageIdFor, reporter: quiet, runId: `run-${Math.random()}`,
      });
      await target.close();
      return outcome;
    };

    const first = await run(await HalfDoneOnce.at(store, 'bob@example.com'));
    expect(first.rows.map((r) => [r.email, r.status, r.invitation])).toEqual([
      ['ann@example.com', 'created', 'sent'],
      ['bob@example.com', 'failed', 'pending'],
    ]);
    expect(first.summary.ok).toBe(false);
    expect((await readdir(outbox)).filter((f) => f.startsWith('bob'))).toEqual([]);

    const second = await run(await LocalTarget.open(store));
    expect(second.rows.map((r) => [r.email, r.status, r.invitation])).toEqual([
      ['ann@example.com', 'existing', 'none'],
      ['bob@example.com', 'existing', 'sent'],
    ]);
    expect(second.summary.ok).toBe(true);
    expect((await readdir(outbox)).sort().map((f) => f.split('_')[0])).toEqual(['ann@example.com', 'bob@example.com']);
  });
});
