import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach } from 'vitest';
import { useSmtpSink } from '../support/e2e.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { useTempDirs } from '../support/tmp.js';
import { projectStore } from '../faults/helpers.js';

/*
 * What the resume (kill -9) and interrupt tests share: a project store per test, the SMTP sink, and
 * an import of ROWS customers. Kill and interrupt moments are chosen by observable events, never by
 * a wait: a test-hook marker (JSM_PROVISION_TEST_HOOKS, the process stops itself there) or the n-th
 * message at the SMTP sink. ROWS (600) is the size of the two concurrent imports; the runs that are
 * killed or interrupted take fewer rows, and make their chunks of few rows (chunks()).
 */
export const ROWS = 600;

/**
 * The test setting that makes an import's provisioning chunks `rows` rows (the CLI's default is 500),
 * with the stop steps `stops` (JSM_PROVISION_TEST_HOOKS): two or three chunks from a hundred-odd rows,
 * as 600 or 1,100 rows make them by default. The hook lines then count the chunks (hookCount, in ../faults/helpers.ts).
 */
export function chunks(rows: number, stops = ''): { JSM_PROVISION_TEST_HOOKS: string } {
  return { JSM_PROVISION_TEST_HOOKS: [stops, `chunk-rows=${rows}`].filter(Boolean).join(',') };
}

/** Every 50th row has a password (hashed on the thread pool, as real imports with passwords are). */
export function customersCsv(prefix: string, rows = ROWS): string {
  const lines = ['email,name,password'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,${prefix} ${i},${i % 50 === 0 ? `Pw-${prefix}-${i}-xyz` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** Registers the hooks (call at the top of a test file): temp folders and the SMTP sink. */
export function useImportRuns(): {
  sink: () => SmtpSink;
  freshProject: (csv: string) => Promise<string>;
  importArgs: () => string[];
} {
  const tempDir = useTempDirs();
  const smtp = useSmtpSink();
  let sink: SmtpSink;
  beforeEach(() => {
    sink = smtp.sink;
  });
  return {
    sink: () => sink,
    freshProject: async (csv) => {
      const dir = await tempDir();
      await projectStore(dir);
      await writeFile(join(dir, 'customers.csv'), csv);
      return dir;
    },
    importArgs: () => ['import-csv', 'customers.csv', '--project', 'ITH', '--json', ...smtp.mail()],
  };
}
