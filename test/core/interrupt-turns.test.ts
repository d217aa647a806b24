/**
 * A signal is handled as a macrotask. The local store answers at once between its commits, so a
 * run whose chunks never wait for I/O (organization memberships, no invitations) must still give
 * the event loop a turn between chunks, or Ctrl-C is seen only once every row is done.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow } from '../../src/core/types.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { RecordingMailer, RecordingReporter } from '../support/recording-reporter.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

async function* rows(n: number): AsyncIterable<CandidateRow> {
  for (let i = 0; i < n; i++) yield { line: i + 2, email: `m${i}@example.com`, fullName: `Member ${i}`, organizations: [`Org ${i % 3}`] };
}

describe('an interrupt during a local import with organizations', () => {
  it('is seen at the next chunk (not after the last): the rest is not processed, exit as interrupted', async () => {
    const target = await LocalTarget.open(join(await tempDir(), 'jsm-store.json'));
    const project = await target.createProject('ITH', 'IT Help');
    const controller = new AbortController();
    const reporter = new RecordingReporter();
    let signalled = false;
    reporter.progress = (done, total) => {
      // As the signal handler would: queued as a macrotask when the first chunk is done.
      if (done >= 10 && !signalled) {
        signalled = true;
        setImmediate(() => controller.abort());
      }
      RecordingReporter.prototype.progress.call(reporter, done, total);
    };
    const mailer = new RecordingMailer();
    const out = await runImport(rows(60), { command: 'import-csv', project, kind: 'welcome', invitations: 'none', dryRun: false }, {
      target,
      mailer: async () => mailer,
      outbox: null,
      messageId: messageIdFor,
      reporter,
      runId: 'run-interrupt',
      signal: controller.signal,
      chunkSize: 10,
    });
    await target.close();
    expect(out.interrupted).toBe(true);
    expect(out.summary.totals).toMatchObject({ rows: 60, created: 10, failed: 50 });
    expect(out.summary.organizations.memberships).toBe(10);
  });
});
