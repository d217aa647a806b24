import { lstat, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { exportCustomers, type ExportRow } from '../../core/export.js';
import { printable } from '../../core/printable.js';
import { writeFileAtomically } from '../../util/atomic-file.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import { safeText, type Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { plural } from '../io/render.js';
import { csvCell } from '../io/report.js';
import { common, flag, parseSettings, projectOption, text } from '../settings/settings.js';
import { inCwd, io } from '../io/io.js';

/** The header of an export: the import's own column names, read back without --map. */
export const EXPORT_HEADER = ['email', 'full name', 'organization', 'language'] as const;

const exportSchema = z.object({ ...common, project: projectOption, output: text, force: flag }).superRefine((s, ctx) => {
  if (s.json && s.output === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'conflict',
      params: {
        code: 'conflicting-options',
        message: '--json needs --output FILE: without it, the CSV is the only thing written to stdout',
        hint: 'add --output customers.csv (the JSON summary then goes to stdout), or leave out --json',
      },
    });
  }
  // --report writes JSON for a .json name: an export named so would be CSV in a .json file.
  const ending = s.output === undefined ? undefined : /\.(json|xlsx|xls|ods|numbers)$/i.exec(s.output)?.[1]?.toLowerCase();
  if (s.output !== undefined && ending !== undefined) {
    const base = s.output.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
    ctx.addIssue({
      code: 'custom',
      message: 'bad-option',
      params: {
        code: 'bad-option',
        message: `--output ${s.output}: customers export writes CSV (the import format)${ending === 'json' ? '' : `, not an .${ending} file`}`,
        hint: `name the file .csv (e.g. --output ${base || 'customers'}.csv); for JSON: jsm-provision customers list --json`,
      },
    });
  }
});

export function addExportCommand(customers: Command): void {
  addCommonOptions(
    addProjectOption(
      customers
        .command('export')
        .description("write a project's customers as a CSV that import-csv reads back: email, full name, organization, language (never passwords)")
        .addOption(new Option('-o, --output <file>', 'write the CSV to this file (atomically) instead of stdout'))
        .option('--force', 'replace the --output file when it exists'),
    ),
  )
    .addHelpText(
      'after',
      `
Without --output the CSV is the only thing on stdout (so --json needs --output). An existing
--output file is kept unless --force is given; the new file replaces it whole or not at all.
Cells that a spreadsheet would run as a formula (starting with = + - @) get a leading ' .

Examples:
  $ jsm-provision customers export --project ITH > ith.csv
  $ jsm-provision customers export --project ITH --output ith.csv --force --json`,
    )
    .action(action('customers export', runExport));
}

/** The export as CSV text: RFC 4180, CRLF line ends, neutralised formula cells. */
export function exportCsv(rows: readonly ExportRow[]): string {
  const lines = [EXPORT_HEADER.join(',')];
  for (const r of rows) lines.push([r.email, r.fullName, r.organizations.join(';'), r.language ?? ''].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

async function runExport(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(exportSchema, raw);
  const output = options.output === undefined ? undefined : inCwd(options.output);
  if (output !== undefined) await checkOutput(output, options.force);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const all = await exportCustomers(target, project);
      // JSM Cloud leaves out the email of an account whose profile hides it: such a row could not be
      // imported (import-csv needs an email), so it is left out, by name on stderr.
      const rows = all.filter((r) => r.email !== '');
      const hidden = all.filter((r) => r.email === '');
      if (hidden.length > 0) {
        out.warn(
          `${plural(hidden.length, 'customer')} of ${project.key} ${hidden.length === 1 ? 'hides' : 'hide'} their email (an Atlassian profile setting) and ${hidden.length === 1 ? 'is' : 'are'} left out of the export, as import-csv needs an email: ${hidden.map((r) => printable(r.fullName)).join(', ')}; add them to the file by hand if you know their email`,
        );
      }
      const csv = exportCsv(rows);
      if (output === undefined) {
        // The data itself: as it is into a pipe or file; on a terminal, without its escape sequences.
        io().stdout.write(io().stdout.isTTY ? safeText(csv, false) : csv);
        return { outcome: 'done', notes: [`${plural(rows.length, 'customer')} of ${project.key} exported`] };
      }
      await writeFileAtomically(output, csv).catch((error: unknown) => {
        // The contract's code for an --output that cannot be written; a full disk keeps its own.
        if (error instanceof UsageError && error.code === 'not-writable') throw new UsageError('output-unwritable', error.message, error.hint);
        throw error;
      });
      return { outcome: 'done', json: { target: target.kind, project: project.key, count: rows.length, hidden: hidden.length, output }, text: `${plural(rows.length, 'customer')} of ${project.key} written to ${printable(output)}` };
    },
  );
}

/** Before anything is read: an existing file is replaced only with --force, and never a folder or a link. */
async function checkOutput(file: string, force: boolean): Promise<void> {
  const info = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    if (error.code === 'ENOTDIR') return null;
    throw new UsageError('output-unwritable', `cannot check --output ${printable(file)}: ${error.message}`);
  });
  if (info === undefined || info === null) {
    // A file that cannot be made is said now, before the target is read (a Cloud listing takes long).
    const folder = dirname(file);
    const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
    if (!isFolder) {
      throw new UsageError('output-unwritable', `--output ${printable(file)}: the folder ${printable(folder)} does not exist (or is not a folder): nothing was written`, 'create the folder, or choose another --output path');
    }
    return;
  }
  if (!info.isFile()) throw new UsageError('output-unwritable', `--output ${printable(file)} exists and is not a regular file: nothing was written`, 'choose another --output path');
  if (!force) {
    throw new UsageError('output-exists', `--output ${printable(file)} exists already: nothing was written`, 'add --force to replace it, or choose another --output path');
  }
}
