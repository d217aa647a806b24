import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow, Reporter } from '../../src/core/types.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { faultError, fileFaults } from '../../src/util/atomic-file.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A disk that fills after some of a run's customers were written: the run ends with its summary
 * (what was written is created, what was not is failed) and the error, not as a run that wrote
 * nothing (exit 2 "nothing was written").
 */
const tempDir = useTempDirs();
const quiet: Reporter = { reading: () => undefined, progress: () => undefined, sending: () => undefined };
afterEach(() => {
  fileFaults.inject = null;
});

async function* rows(n: number): AsyncIterable<CandidateRow> {
  for (let i = 0; i < n; i++) yield { line: i + 2, email: `p${i}@example.com`, fullName: `P ${i}` };
}

describe('a disk that fills in the middle of an import', () => {
  for (const keepRows of [true, false]) {
    it(`ends the run with its summary: the rows written created, the others failed, and the error (${keepRows ? 'rows kept' : 'counted only'})`, async () => {
      const dir = await tempDir();
      const path = join(dir, 'jsm-store.json');
      const setup = await LocalTarget.open(path);
      await setup.createProject('ITH', 'IT Help');
      await setup.close();
      // Room for two chunks' log lines, not a third.
      let appends = 0;
      fileFaults.inject = (step, file) => {
        if (step === 'fsync' && file === `${path}.journal` && ++appends === 3) throw faultError('ENOSPC');
      };
      const target = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
      const project = await target.getProject('ITH');
      const outbox = join(dir, 'outbox');
      const mailer = createOutboxMailer({ dir: outbox, from: 'help@example.com' });
      const settings = { command: 'import-csv', project, kind: 'welcome' as const, invitations: 'send' as const, dryRun: false };
      const outcome = await runImport(rows(50), settings, {
        target, mailer: async () => mailer, outbox, messageId: messageIdFor, reporter: quiet, runId: 'run-1', chunkSize: 10, keepRows,
      });
      await target.close().catch(() => undefined);
      expect(outcome.stopped).toBeInstanceOf(UsageError);
      expect((outcome.stopped as UsageError).code).toBe('disk-full');
      expect(outcome.summary.totals).toMatchObject({ rows: 50, created: 20, failed: 30 });
      expect(outcome.summary.invitations).toMatchObject({ sent: 0, pending: 20 });
      if (keepRows) {
        expect(outcome.rows.filter((r) => r.status === 'failed').every((r) => /not written/.test(r.reason ?? ''))).toBe(true);
      }
      fileFaults.inject = null;
      const store = await LocalStore.open(path);
      expect(store.data.customers.size).toBe(20);
      expect([...(store.data.invitations.ITH?.values() ?? [])].every((r) => r.status === 'pending')).toBe(true);
    });
  }
});
