/**
 * Rows without a name (a CSV of `email,organization`, `add-customer --email` alone): a name is
 * needed only to create someone, so an existing customer joins the project and its organizations,
 * and a new one is refused with the way to a name, alike in a dry run and a real one, on either kind
 * of target.
 */
import { describe, expect, it } from 'vitest';
import type { RunSettings } from '../../src/core/results.js';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow, Mailer } from '../../src/core/types.js';
import { NAME_NEEDED } from '../../src/core/validate.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { MemoryTarget } from '../support/memory-target.js';
import { RecordingMailer, RecordingReporter } from '../support/recording-reporter.js';

async function* rows(list: CandidateRow[]): AsyncIterable<CandidateRow> {
  yield* list;
}

async function run(target: MemoryTarget, dryRun: boolean) {
  const mailer = new RecordingMailer();
  const project = await target.getProject('ITH');
  const settings: RunSettings = { command: 'import-csv', project, kind: 'welcome', invitations: 'send', dryRun };
  const input: CandidateRow[] = [
    { line: 2, email: 'maria@example.com', fullName: '', organizations: ['Legal'] },
    { line: 3, email: 'new@example.com', fullName: '', organizations: ['Finance'] },
    { line: 4, email: 'named@example.com', fullName: 'Named Person' },
  ];
  const out = await runImport(rows(input), settings, {
    target,
    mailer: async (): Promise<Mailer> => mailer,
    outbox: null,
    messageId: messageIdFor,
    reporter: new RecordingReporter(),
    runId: `run-${dryRun}`,
  });
  return { out, mailer };
}

describe('rows without a name', () => {
  for (const kind of ['local', 'rest'] as const) {
    it(`an existing customer joins the project and an organization; a new one is invalid with the way to a name (${kind}, dry run = real run)`, async () => {
      const results = [];
      for (const dryRun of [true, false]) {
        const target = MemoryTarget.withProject('ITH', 'IT Help', true, { kind });
        target.addCustomer('Maria@example.com', 'Maria Silva');
        const { out, mailer } = await run(target, dryRun);
        results.push(out.rows.map((r) => [r.email, r.status, r.invitation, r.reason ?? '']));
        expect(out.summary.totals, `dry run ${dryRun}`).toMatchObject({ rows: 3, created: 1, existing: 1, invalid: 1 });
        if (!dryRun) {
          expect(target.customers.get('maria@example.com')).toMatchObject({ fullName: 'Maria Silva', projects: ['ITH'] });
          expect(target.customers.has('new@example.com')).toBe(false);
          expect(target.orgs.get('legal')?.members.has('maria@example.com')).toBe(true);
          // Nothing was planned for the row that was refused: its organization is not made.
          expect(target.orgs.has('finance')).toBe(false);
          expect(mailer.attempts).toEqual(['named@example.com']);
        }
        expect(out.summary.organizations, `dry run ${dryRun}`).toMatchObject({ created: 1, memberships: 1 });
      }
      expect(results[0]).toEqual(results[1]);
      expect(results[1]).toContainEqual(['new@example.com', 'invalid', 'none', NAME_NEEDED]);
      expect(results[1]).toContainEqual(['maria@example.com', 'existing', 'none', '']);
    });
  }
});

describe('the note on an existing customer whose name differs', () => {
  it('is not made for a row that gives no name (it asked for none)', async () => {
    const { nameKept } = await import('../../src/core/apply.js');
    expect(nameKept('', 'Bob Baker')).toBeUndefined();
    expect(nameKept('Robert Baker', 'Bob Baker')).toMatch(/^the name given \(Robert Baker\) was not applied/);
  });
});
