/** A customer who exists keeps their name; a row that gives another one says so (it was dropped without a word). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow, ProjectInfo } from '../../src/core/types.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { RecordingMailer, RecordingReporter } from '../support/recording-reporter.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

async function* rows(list: [string, string][]): AsyncIterable<CandidateRow> {
  let line = 2;
  for (const [email, fullName] of list) yield { line: line++, email, fullName };
}

async function run(target: LocalTarget, project: ProjectInfo, list: [string, string][]) {
  const mailer = new RecordingMailer();
  return runImport(rows(list), { command: 'import-csv', project, kind: 'welcome', invitations: 'none', dryRun: false }, {
    target, mailer: async () => mailer, outbox: null, messageId: messageIdFor, reporter: new RecordingReporter(), runId: `run-${list.length}`,
  });
}

describe('an existing customer and another name', () => {
  it('the row is existing with a note naming both names; the same name (spacing aside) gets none', async () => {
    const target = await LocalTarget.open(join(await tempDir(), 'jsm-store.json'));
    const project = await target.createProject('ITH', 'IT Help');
    await run(target, project, [['ann@example.com', 'Ann Lee'], ['bob@example.com', 'Bob King']]);
    const again = await run(target, project, [['ann@example.com', 'Ann Smith'], ['bob@example.com', 'Bob  King']]);
    expect(again.rows.map((r) => r.status)).toEqual(['existing', 'existing']);
    expect(again.rows[0]?.reason).toContain('the name given (Ann Smith) was not applied: the customer exists as Ann Lee, and jsm-provision never renames an existing customer');
    expect(again.rows[1]?.reason ?? '').not.toContain('name given');
    await target.close();
  });
});
