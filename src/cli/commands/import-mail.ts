import { Command } from 'commander';
import { errorBody, UsageError } from '../../core/errors.js';
import type { RunSummary } from '../../core/results.js';
import type { MailReportRow, MailSummary } from '../../mailbox/outcome.js';
import type { Exclusions } from '../../mailbox/exclusions.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { printable } from '../../core/printable.js';
import type { Output } from '../io/output.js';
import { checkReportPath, runFiles } from '../runs/preflight.js';
import { ReportWriter, type ReportColumns, type ReportRow } from '../io/report.js';
import { fmt, plural } from '../io/render.js';
import { rowRunResult, runRowsOutcome } from '../runs/run-rows.js';
import type { Colors } from '../io/colors.js';
import type { CommandResult } from '../io/result.js';
import type { CommonOptions } from '../settings/options.js';
import { importMailSchema, parseSettings } from '../settings/settings.js';
import { addImportOptions, importRunOptions } from './import-csv.js';
import { io } from '../io/io.js';

const SHOWN_SKIPS = 20;

export function importMailCommand(): Command {
  const command = new Command('import-mail')
    .description('turn the people who emailed a support inbox into customers (.eml files, folders of them, mbox files)')
    .argument('<path...>', '.eml files, folders of them (read recursively), mbox files, or - for one message on standard input')
    .option('--include-cc', "add the people copied (Cc) on each message too, as JSM does for unknown Cc'd addresses")
    .option('--reply-to', "take the sender from Reply-To when a message has one, rather than From (a web form's visitor, when the form sends as no-reply or as the inbox)")
    .option('--exclude <address|@domain>', "the inbox's own addresses, domains (@example.com) or subdomains (@*.example.com): never made customers (repeatable)", collect);
  return addImportOptions(command)
    .addHelpText(
      'after',
      `
Each message's sender becomes a customer: the address from From (or Reply-To), the name from the
display name (encoded words decoded), or else the address's local part. An address that wrote many
times is one row, from its earliest message; the report says how many messages it sent. Automatic
mail (Auto-Submitted, Precedence: bulk/junk/list/auto_reply, List-Id, List-Unsubscribe, auto-replies,
delivery reports), mailer-daemon and postmaster, no-reply addresses and --exclude addresses are
skipped and listed with their reason; when such a message names someone else in Reply-To (a web
form), the reason says so: --reply-to takes that person instead. Folders are read in order of the
numbers in their file names (an MH folder's 9 before 10). New customers get a "Verify your email for <project>" message, under the same rules as
every invitation (--no-invite, --defer-invites, the project's "Do not send account verification
emails"). A row's line is the message's file, and #n for the n-th message of an mbox.
--exclude takes an address (support@example.com), a domain (@example.com: that domain only) or its
subdomains (@*.example.com: mail.example.com, eu.example.com ..., not example.com itself; give both
for both). Inside a folder, a Maildir's tmp/ is never read, and junk, spam, trash, sent and drafts
folders (Maildir++ .Junk, IMAP "Sent Items" ...) are skipped and named: give one as a path to read it.

Examples (fixtures/ is the package's samples; ~/Mail/… and your-… stand for your own mail):
  $ jsm-provision import-mail fixtures/mail/archive.mbox --project ITH --exclude support@example.com --dry-run
  $ jsm-provision import-mail ~/Mail/helpdesk/ --project ITH --exclude @example.com --exclude @*.example.com --include-cc --report people.csv
  $ jsm-provision import-mail your-message.eml - --project ITH --no-invite --json < your-other-message.eml`,
    )
    .action(action('import-mail', importMail));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function importMail(out: Output, raw: CommonOptions, paths: string[]): Promise<CommandResult> {
  // Parse: every option checked and typed once, before anything is read or written.
  const options = parseSettings(importMailSchema, raw);
  // Loaded here, not at start-up: mailparser is the slowest module to load, and only this command needs it.
  const { MailTally, mailRows, resolveSources } = await import('../../mailbox/index.js');
  const { mailReportRows, mailSummary } = await import('../../mailbox/outcome.js');
  const exclusions = options.exclude ?? NO_EXCLUSIONS;
  // Every path is checked before the target is touched: a typo stops here with exit 2.
  const sources = await resolveSources(paths, { cwd: io().cwd, stdin: io().stdin });
  // After the paths: a path that does not exist is the one thing to say, not a warning before it.
  if (options.exclude === undefined) {
    out.warn("no --exclude given: mail the team sent from the inbox itself would make the inbox a customer; give --exclude <the inbox's address or @domain>");
  }
  const skippedFolders = sources.flatMap((source) => source.skipped);
  if (skippedFolders.length > 0) {
    const shown = skippedFolders.slice(0, 5).map((path) => printable(path)).join(', ');
    const more = skippedFolders.length > 5 ? ` and ${skippedFolders.length - 5} more` : '';
    out.note(`not read: ${shown}${more} (junk, spam, trash, sent and drafts folders are skipped; name one on the command line to read it)`);
  }
  const tally = new MailTally();
  const rows = mailRows(sources, { replyTo: options.replyTo, includeCc: options.includeCc, exclusions }, tally);
  const { report } = options;
  // The report is written by the one ReportWriter, with the `messages` column; skipped people are
  // known only once every message is read, so it gets all its rows at the end (nothing spilled).
  let writer: ReportWriter<MailReportLine> | undefined;
  const run = await withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      // Preflight of the report this command writes itself (runRowsOutcome checks the rest).
      if (report !== undefined) {
        await checkReportPath(report, runFiles(target, paths, options.mail.smtp?.passwordFile));
        writer = ReportWriter.open(report, MAIL_COLUMNS);
      }
      try {
        return await runRowsOutcome(rows, target, project, { ...importRunOptions('import-mail', 'verify', options, out), report: undefined, keepRows: report !== undefined, keepRejected: report !== undefined }, out);
      } catch (error) {
        await writer?.discard();
        throw error;
      }
    },
  );
  // Declined at the confirmation: nothing was read into the store, and no summary to add to.
  if (run.declined) {
    await writer?.discard();
    return rowRunResult(run);
  }
  const extra = mailSummary(tally);
  let done = run;
  if (writer !== undefined) {
    try {
      await writer.finish(run.summary, reportLines(mailReportRows(run.rows, tally)), { messages: extra.messages });
      out.note(`report written to ${printable(writer.file)}`);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      // As for import-csv: the run is done and recorded; its summary says the report failed (exit 1).
      // A run the target refused part-way keeps that error (exit 3); the report's is said beside it.
      if (run.endedWith) out.errorWords(error);
      else done = { ...run, endedWith: error, summary: { ...run.summary, ok: false, error: errorBody(error) } };
    }
  }
  if (extra.messages.ignoredFiles.length > 0) {
    const shown = extra.messages.ignoredFiles.slice(0, 5).map((f) => printable(f)).join(', ');
    const more = extra.messages.ignoredFiles.length > 5 ? ` and ${extra.messages.ignoredFiles.length - 5} more` : '';
    out.note(`left alone: ${shown}${more} (neither an email message nor an mbox file)`);
  }
  return rowRunResult(done, { json: { ...extra }, text: (c) => renderMail(extra, done.summary, c) });
}

/** No --exclude given (warned of). */
const NO_EXCLUSIONS: Exclusions = { addresses: new Set(), domains: new Set(), subdomainsOf: new Set() };

/** The mailbox's part of the human summary: messages read, and who was skipped and why. */
function renderMail(extra: MailSummary, summary: RunSummary, c: Colors): string {
  const m = extra.messages;
  const n = plural;
  const lines = [
    `  ${n(m.read, 'message')} read from ${n(m.files, 'file')}: ${n(summary.totals.rows, 'address', 'addresses')} to provision, ${n(m.skipped, 'message')} skipped`,
  ];
  if (extra.skipped.length > 0) {
    lines.push('Skipped (not provisioned):');
    for (const s of extra.skipped.slice(0, SHOWN_SKIPS)) {
      const times = s.messages > 1 ? c.dim(` (${n(s.messages, 'message')})`) : '';
      lines.push(`  ${printable(String(s.line))}: ${s.email ? `${printable(s.email)}: ` : ''}${printable(s.reason)}${times}`);
    }
    const more = extra.skipped.length - SHOWN_SKIPS;
    if (more > 0) lines.push(`  … and ${fmt(more)} more: use --report <file.csv> or --json to see them all`);
  }
  return lines.join('\n');
}

/** A line of import-mail's report: a row or a skip, with how many messages named the address. */
type MailReportLine = ReportRow & { messages: number };

/** The report of docs/contract.md with a `messages` column after the standard ones. */
const MAIL_COLUMNS: ReportColumns<MailReportLine> = { names: ['messages'], cells: (row) => [row.messages] };

/** Report lines in message order (their index), skipped people as rows with status `skipped`. */
function reportLines(rows: readonly MailReportRow[]): MailReportLine[] {
  return rows.map((row, index) => {
    const { reason, ...rest } = row;
    return { ...rest, index, ...(reason === '' ? {} : { reason }) };
  });
}
