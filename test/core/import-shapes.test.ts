/**
 * Real-world CSV export shapes through the whole import pipeline, in process: the CSV reader, the
 * core's runImport and a real local store in a temp folder (the assertions the e2e suite made by
 * spawning the CLI once per shape). The CLI's own part stays covered by spawns in
 * test/e2e/import-csv.test.ts (a BOM export with SMTP, --encoding, a pipe file whose password must
 * not reach the output) and test/csv/cli.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/core/run.js';
import { openCsv, type CsvReadOptions } from '../../src/csv/index.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { candidates } from '../../src/csv/candidates.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { createProjectStore } from '../support/e2e.js';
import { RecordingMailer, RecordingReporter } from '../support/recording-reporter.js';
import { readStore, storedNames } from '../support/store.js';
import { useTempDirs } from '../support/tmp.js';
import { fixture } from '../csv/helpers.js';

const tempDir = useTempDirs();


/** `import-csv <file> --project ITH [--no-invite]` into dir's store, in process. */
async function importCsv(dir: string, file: string, options: CsvReadOptions & { noInvite?: boolean } = {}) {
  const { noInvite = false, ...csv } = options;
  const reader = await openCsv(file, csv);
  const target = await LocalTarget.open(join(dir, 'jsm-store.json'));
  const mailer = new RecordingMailer();
  try {
    const project = await target.getProject('ITH');
    const outcome = await runImport(candidates(reader.batches), { command: 'import-csv', project, kind: 'welcome', invitations: noInvite ? 'none' : 'send', dryRun: false }, {
      target, mailer: async () => mailer, outbox: null, messageId: messageIdFor, reporter: new RecordingReporter(), runId: `shapes-${Math.random()}`,
    });
    return { outcome, mailer };
  } finally {
    reader.close();
    await target.close();
  }
}

async function projectDir(): Promise<string> {
  const dir = await tempDir();
  await createProjectStore(dir);
  return dir;
}

describe('import of real-world export shapes (in process, real store)', () => {
  it('Excel "CSV UTF-8" (BOM, CRLF, quoted comma, empty formatted row)', async () => {
    const dir = await projectDir();
    const { outcome, mailer } = await importCsv(dir, fixture('excel-utf8-bom.csv'));
    expect(outcome.summary).toMatchObject({ ok: true, totals: { rows: 4, created: 4 }, problems: [] });
    expect(await storedNames(dir)).toEqual({
      'ana.silva@example.com': 'Ana Silva',
      'jose.nunez@example.com': 'José Núñez',
      'lee.chen@example.com': 'Chen, Lee',
      'maria.garcia@example.com': 'María García',
    });
    expect(mailer.recipients().sort()).toEqual(['ana.silva@example.com', 'jose.nunez@example.com', 'lee.chen@example.com', 'maria.garcia@example.com']);
  });

  it('Excel semicolon export with first and last name columns', async () => {
    const dir = await projectDir();
    const { outcome } = await importCsv(dir, fixture('excel-semicolon.csv'), { noInvite: true });
    expect(outcome.summary.ok).toBe(true);
    expect(await storedNames(dir)).toEqual({
      'jonas.becker@example.de': 'Jonas Becker',
      'lea.hoffmann@example.de': 'Lea Hoffmann',
      'anna-lena.koch@example.de': 'Anna-Lena Koch',
      'felix.schulz@example.de': 'Felix',
    });
  });

  it('Excel "Unicode Text" (UTF-16LE, tab) and UTF-16BE with a password column', async () => {
    const dir = await projectDir();
    expect((await importCsv(dir, fixture('unicode-text.txt'), { noInvite: true })).outcome.summary.ok).toBe(true);
    const { outcome } = await importCsv(dir, fixture('utf16be.csv'), { noInvite: true });
    expect(outcome.summary.ok).toBe(true);
    const names = await storedNames(dir);
    expect(names['lukasz.nowak@example.pl']).toBe('Łukasz Nowak');
    expect(names['taro.yamada@example.jp']).toBe('山田 太郎');
    expect(names['sven.olsen@example.no']).toBe('Sven Ølsen');
    const store = await readStore(dir);
    expect(store.customers['sven.olsen@example.no']?.passwordHash).toMatch(/^\{PKCS5S2\}/);
    expect(store.customers['ines.muller@example.ch']?.passwordHash).toBeUndefined();
  });

  it('windows-1252 with € and é, given the encoding', async () => {
    const dir = await projectDir();
    const { outcome } = await importCsv(dir, fixture('windows-1252.csv'), { encoding: 'windows-1252', noInvite: true });
    expect(outcome.summary.ok).toBe(true);
    expect(await storedNames(dir)).toEqual({
      'rene.dubois@example.fr': 'René Dubois',
      'accounts@example.com': 'Accounts (€) Desk',
      'chloe.lefevre@example.fr': 'Chloé Lefèvre',
    });
  });

  it('quoted commas, doubled quotes and newlines; blank line; too many cells; empty email', async () => {
    const dir = await projectDir();
    const { outcome, mailer } = await importCsv(dir, fixture('quoted.csv'));
    expect(outcome.summary.ok).toBe(false);
    const json = outcome.summary;
    expect(json.totals).toEqual({ rows: 6, created: 4, existing: 0, invalid: 2, duplicate: 0, failed: 0 });
    expect(json.problems.map((p) => [p.line, p.status])).toEqual([[7, 'invalid'], [8, 'invalid']]);
    expect(json.problems[0]?.reason).toContain('has 4 cells but the header has 3');
    expect(json.problems[1]?.reason).toBe('has no email address');
    expect(await storedNames(dir)).toEqual({
      'ann.lee@example.com': 'Lee, Ann',
      'bob@example.com': 'Robert "Bob" Stone',
      'carol@example.com': 'Carol Danvers',
      'frank@example.com': 'Frank Ocean',
    });
    expect(mailer.sent).toHaveLength(4);
  });

  it('pipe-delimited, where an unquoted | in a password makes that row invalid and the rest go on', async () => {
    const dir = await projectDir();
    const { outcome } = await importCsv(dir, fixture('pipe.csv'), { noInvite: true });
    expect(outcome.summary).toMatchObject({ ok: false, totals: { rows: 3, created: 2, invalid: 1 }, problems: [{ line: 4, email: '', reason: expect.stringContaining('line 4 has 4 cells but the header has 3') }] });
    expect(JSON.stringify(outcome.summary)).not.toContain('1843');
  });
});
