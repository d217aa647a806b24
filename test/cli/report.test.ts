import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportWriter, type ReportColumns, type ReportRow } from '../../src/cli/io/report.js';
import { ProblemList, type RowResult, type RunSummary } from '../../src/core/results.js';
import { runImport } from '../../src/core/run.js';
import type { CandidateRow, Reporter } from '../../src/core/types.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const quiet: Reporter = { reading: () => undefined, progress: () => undefined, sending: () => undefined };

function row(index: number, status: RowResult['status'], email = `r${index}@example.com`): RowResult {
  return { index, line: index + 2, email, fullName: `Row ${index}`, status, invitation: 'none', ...(status === 'created' ? {} : { reason: `why ${index}` }) };
}

describe('ProblemList: the first N problems by input order, and a count of the rest', () => {
  it('keeps at most its limit whatever the order rows arrive in', () => {
    const list = new ProblemList(3);
    for (const index of [9, 1, 7, 3, 5, 0, 8, 2]) list.add(index, { line: index, email: '', status: 'invalid', reason: '' });
    expect(list.list().map((p) => p.line)).toEqual([0, 1, 2]);
    expect(list.total).toBe(8);
    expect(list.omitted).toBe(5);
  });
});

describe('a run over garbage holds a bounded number of problems', () => {
  it('50,000 invalid rows: 1,000 problems held, the rest counted; rejected rows go to the sink, not the outcome', async () => {
    const dir = await tempDir();
    const target = await LocalTarget.open(join(dir, 'jsm-store.json'));
    await target.createProject('ITH', 'IT Help');
    const project = await target.getProject('ITH');
    async function* garbage(): AsyncIterable<CandidateRow> {
      for (let i = 0; i < 50_000; i++) yield { line: i + 2, email: `garbage ${i}`, fullName: 'x' };
      yield { line: 50_002, email: 'ok@example.com', fullName: 'Ok' };
    }
    let sunk = 0;
    const outcome = await runImport(garbage(), { command: 'import-csv', project, kind: 'welcome', invitations: 'none', dryRun: false }, {
      target, mailer: () => Promise.reject(new Error('no mail')), outbox: null, messageId: () => '<x@y>', reporter: quiet, runId: 'r', onRejected: () => void sunk++,
    });
    await target.close();
    expect(sunk).toBe(50_000);
    expect(outcome.rows.map((r) => r.email)).toEqual(['ok@example.com']);
    expect(outcome.summary.totals).toMatchObject({ rows: 50_001, created: 1, invalid: 50_000 });
    expect(outcome.summary.problems).toHaveLength(1_000);
    expect(outcome.summary.problems[0]).toMatchObject({ line: 2, email: 'garbage 0' });
    expect(outcome.summary.problemsOmitted).toBe(49_000);
  });
});

const summary: RunSummary = {
  ok: false, command: 'import-csv', target: 'local', project: 'ITH', dryRun: false,
  totals: { rows: 5, created: 2, existing: 0, invalid: 2, duplicate: 1, failed: 0 },
  invitations: { sent: 0, suppressed: 2, failed: 0, pending: 0, inDoubt: 0, suppressedBy: 'flag', outbox: null },
  organizations: { created: 0, addedToProject: 0, memberships: 0 },
  problems: [],
};

describe('ReportWriter: rows streamed while reading, merged in input order at the end', () => {
  it('an invitation written to the outbox is `outbox` in the report, not `sent` (SMTP runs keep `sent`)', async () => {
    const dir = await tempDir();
    const sent: RowResult = { ...row(0, 'created'), invitation: 'sent' };
    for (const [name, outbox, word] of [['outbox.csv', join(dir, 'outbox'), 'outbox'], ['smtp.csv', null, 'sent']] as const) {
      const report = ReportWriter.open(join(dir, name));
      await report.finish({ ...summary, invitations: { ...summary.invitations, sent: 1, outbox } }, [sent]);
      expect((await readFile(join(dir, name), 'utf8')).split('\r\n')[1]).toBe(`2,r0@example.com,Row 0,created,${word},,`);
    }
  });


  it('CSV: spilled and applied rows in input order; formulas neutralised; control characters shown as U+XXXX', async () => {
    const dir = await tempDir();
    const file = join(dir, 'result.csv');
    const report = ReportWriter.open(file);
    report.add(row(0, 'invalid', '=cmd@example.com'));
    report.add(row(2, 'invalid', 'a\u001b[2J@example.com'));
    report.add(row(3, 'duplicate'));
    await report.finish(summary, [row(1, 'created'), row(4, 'created', 'b\u202e@example.com')]);
    const text = await readFile(file, 'utf8');
    expect(text.split('\r\n')).toEqual([
      '\ufeffline,email,fullName,status,invitation,reason,organizations',
      "2,'=cmd@example.com,Row 0,invalid,none,why 0,",
      '3,r1@example.com,Row 1,created,none,,',
      '4,aU+001B[2J@example.com,Row 2,invalid,none,why 2,',
      '5,r3@example.com,Row 3,duplicate,none,why 3,',
      '6,bU+202E@example.com,Row 4,created,none,,',
      '',
    ]);
    expect(await readdir(dir)).toEqual(['result.csv']);
  });

  it('100,000 rows spilled while reading and merged with applied rows: all in input order', async () => {
    const dir = await tempDir();
    const file = join(dir, 'result.csv');
    const report = ReportWriter.open(file);
    const applied: RowResult[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (i % 3 === 0) applied.push(row(i, 'created'));
      else report.add(row(i, 'invalid'));
    }
    await report.finish(summary, applied);
    const lines = (await readFile(file, 'utf8')).split('\r\n').slice(1, -1);
    expect(lines).toHaveLength(100_000);
    expect(lines.every((line, i) => line.startsWith(`${i + 2},r${i}@example.com,`))).toBe(true);
    expect(await readdir(dir)).toEqual(['result.csv']);
  });

  it('JSON: the summary, then every row with its exact values; no raw control character in the bytes', async () => {
    const dir = await tempDir();
    const file = join(dir, 'result.json');
    const report = ReportWriter.open(file);
    report.add(row(1, 'invalid', 'a\u001b\u202e@example.com'));
    await report.finish(summary, [row(0, 'created')]);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/[\u001b\u202e]/);
    const parsed = JSON.parse(text) as { totals: unknown; rows: { email: string; reason: string | null }[] };
    expect(parsed.totals).toEqual(summary.totals);
    expect(parsed.rows).toEqual([
      { line: 2, email: 'r0@example.com', fullName: 'Row 0', status: 'created', invitation: 'none', reason: null, organizations: [] },
      { line: 3, email: 'a\u001b\u202e@example.com', fullName: 'Row 1', status: 'invalid', invitation: 'none', reason: 'why 1', organizations: [] },
    ]);
  });

  it("a command's extra columns (import-mail's messages): after the standard ones in CSV, beside them in JSON, with head keys", async () => {
    const dir = await tempDir();
    type Line = ReportRow & { messages: number };
    const columns: ReportColumns<Line> = { names: ['messages'], cells: (r) => [r.messages] };
    const lines: Line[] = [
      { ...row(0, 'created'), messages: 2 },
      { index: 1, line: 'inbox.mbox#2', email: 'bot@example.com', fullName: '', status: 'skipped', invitation: 'none', reason: 'automatic mail', messages: 1 },
    ];
    const csv = ReportWriter.open(join(dir, 'people.csv'), columns);
    await csv.finish({ ...summary, dryRun: true }, lines, { messages: { read: 3 } });
    expect((await readFile(join(dir, 'people.csv'), 'utf8')).split('\r\n')).toEqual([
      '\ufeffline,email,fullName,status,invitation,reason,organizations,messages,dryRun',
      '2,r0@example.com,Row 0,created,none,,,2,true',
      'inbox.mbox#2,bot@example.com,,skipped,none,automatic mail,,1,true',
      '',
    ]);
    const json = ReportWriter.open(join(dir, 'people.json'), columns);
    await json.finish(summary, lines, { messages: { read: 3 } });
    const parsed = JSON.parse(await readFile(join(dir, 'people.json'), 'utf8')) as { messages: unknown; totals: unknown; rows: unknown[] };
    expect(parsed.messages).toEqual({ read: 3 });
    expect(parsed.totals).toEqual(summary.totals);
    expect(parsed.rows).toEqual([
      { line: 2, email: 'r0@example.com', fullName: 'Row 0', status: 'created', invitation: 'none', reason: null, organizations: [], messages: 2 },
      { line: 'inbox.mbox#2', email: 'bot@example.com', fullName: '', status: 'skipped', invitation: 'none', reason: 'automatic mail', organizations: [], messages: 1 },
    ]);
  });

  it('a run that stops leaves no report and no temp file', async () => {
    const dir = await tempDir();
    const report = ReportWriter.open(join(dir, 'result.csv'));
    for (let i = 0; i < 5_000; i++) report.add(row(i, 'invalid'));
    await report.discard();
    expect(await readdir(dir)).toEqual([]);
  });
});
