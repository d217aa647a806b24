import type { Plan } from '../core/plan.js';
import { errorBody, RunError, TargetError, UsageError } from '../core/errors.js';
import { decideForRun } from '../core/invitation-policy.js';
import { printable } from '../core/printable.js';
import { checkOrganizations } from '../core/organizations.js';
import { runImport, type RunOutcome } from '../core/run.js';
import type { RowResult, RunSettings, RunSummary } from '../core/results.js';
import type { Target } from '../core/target.js';
import { isBatch, type CandidateRow, type InvitationKind, type ProjectInfo, type RowSource } from '../core/types.js';
import { checkRestDelivery, mailSetup, newRunId } from './context.js';
import type { MailOptions } from './options.js';
import type { Output } from './output.js';
import { plural, renderPlan, renderSummary } from './render.js';
import { checkReportPath, checkStoreFolder, runFiles } from './preflight.js';
import { ReportWriter } from './report.js';
import { TerminalReporter } from './reporter.js';
import { asRun } from './signals.js';

export interface RowRunOptions extends MailOptions {
  command: string;
  kind: InvitationKind;
  noInvite: boolean;
  defer: boolean;
  dryRun: boolean;
  report?: string;
  /** The files the run reads (besides the store): the report must not be one of them. */
  inputs?: readonly string[];
  /** Keep invalid and duplicate rows in the returned rows (a command writing its own report needs them). */
  keepRejected?: boolean;
  /** A dry run keeps every row only when something will read them (default: when --report is given). */
  keepRows?: boolean;
  /** Asks before writing when the plan sends invitations (import commands, in a terminal). */
  confirm?: (plan: Plan, text: string) => Promise<boolean>;
  mailConcurrency?: number;
  /** `--organization`: organizations every row joins too. */
  organization?: string[];
  /** false: `--no-create-organizations`. */
  createOrganizations?: boolean;
}

/** What a row run ended with: the core's outcome, plus what the CLI around it saw. */
export interface RowRun {
  /** The summary as printed under --json (with `error` when interrupted or the report failed). */
  summary: RunSummary & { error?: { code: string; message: string; hint?: string } };
  rows: RowResult[];
  declined: boolean;
  interrupted: boolean;
  /**
   * An error the run ended with after its rows were written: the target refusing the run part-way
   * (a TargetError: exit 3), the report, or the store while sending.
   */
  endedWith: RunError | undefined;
  /** The project's failed invitations after the run (this run's and earlier ones'), for a reminder. */
  failedInProject?: number;
  /** "local store <path>" or "JSM <url>", for the human summary. */
  where: string;
  command: string;
  target: Target['kind'];
}

/** The one exit code of a row run (docs/contract.md, "Exit codes"). */
export function exitCodeFor(run: Pick<RowRun, 'declined' | 'interrupted' | 'summary'> & { endedWith?: RunError | undefined }): number {
  // Declined at the confirmation: the person stopped the run before anything was written, as
  // Ctrl-C at the question does (130), not a run that finished with problems (1).
  if (run.declined) return 130;
  if (run.interrupted) return 130;
  // The target refused the run part-way: 3, as a refusal before the first row is.
  if (run.endedWith instanceof TargetError) return 3;
  return run.summary.ok ? 0 : 1;
}

/**
 * Prints a row run: the one JSON object (with `extra` keys beside the summary's), or the human
 * summary (with `extraText` after it), then what stopped it. Returns the exit code.
 */
export function printRowRun(run: RowRun, out: Output, extra: { json?: Record<string, unknown>; text?: string } = {}): number {
  if (run.declined) {
    out.note('Nothing was written and nothing was sent.');
    out.jsonResult({ ok: false, command: run.command, target: run.target, project: run.summary.project, error: { code: 'declined', message: 'the run was not confirmed: nothing was written and nothing was sent' } });
    return exitCodeFor(run);
  }
  out.jsonResult({ ...run.summary, ...(extra.json ?? {}) });
  if (!out.json && !out.quiet) {
    const text = renderSummary(run.summary, out.color, run.where);
    out.result(extra.text !== undefined ? `${text}\n${extra.text}` : text);
    // Invitations that failed in earlier runs are still owed: a re-run that changes nothing says so.
    const earlier = (run.failedInProject ?? 0) - run.summary.invitations.failed;
    if (earlier > 0) out.note(`${plural(earlier, 'invitation')} of ${run.summary.project} failed in an earlier run: retry with \`invitations send --failed\` and the same --smtp or --outbox`);
  } else if (!out.json && !run.summary.ok && !run.interrupted) {
    // --quiet prints only errors: rows that went wrong are, so a run that exits 1 says why (stderr).
    out.always(renderSummary(run.summary, out.errColor, run.where));
  }
  if (run.endedWith) out.errorWords(run.endedWith);
  if (run.interrupted) out.note('Interrupted: what was done is recorded. Run the same command again to finish.');
  return exitCodeFor(run);
}

/** Runs rows through the one pipeline and prints the outcome (add-customer, import-csv). */
export async function runRows(
  source: RowSource,
  target: Target,
  project: ProjectInfo,
  options: RowRunOptions,
  out: Output,
): Promise<{ code: number; rows: RowResult[] }> {
  const run = await runRowsOutcome(source, target, project, options, out);
  return { code: printRowRun(run, out), rows: run.rows };
}

/**
 * Runs rows through the one pipeline: preflight, the core run, the report. Prints only notes and
 * warnings (stderr); the summary is the caller's to render (printRowRun).
 */
export async function runRowsOutcome(
  source: RowSource,
  target: Target,
  project: ProjectInfo,
  options: RowRunOptions,
  out: Output,
): Promise<RowRun> {
  const mail = mailSetup(options, target, [options.kind], (message) => out.warn(message));
  const settings: RunSettings = {
    command: options.command,
    // The project as invitations name it (--portal-url wins over the target's portal).
    project: mail.forInvitations(project),
    kind: options.kind,
    noInvite: options.noInvite,
    defer: options.defer,
    dryRun: options.dryRun,
    createOrganizations: options.createOrganizations !== false,
  };
  const extraOrganizations = organizationOption(options.organization);
  // Preflight: whatever would stop the run is found before its first write, and leaves nothing behind.
  let report: ReportWriter | undefined;
  if (options.report) {
    await checkReportPath(options.report, runFiles(target, options.inputs ?? [], options.smtpPasswordFile));
    report = ReportWriter.open(options.report);
  }
  // Whether this run sends: the one policy, asked for a new customer (nothing is sent by a dry run).
  const sends = decideForRun(settings, 'new').action === 'send';
  const willSend = !options.dryRun && sends;
  // A dry run refuses what the real run would refuse: a REST run with nowhere to send invitations.
  if (sends) checkRestDelivery(target, options);
  let undoOutbox = async () => undefined as void;
  const reporter = new TerminalReporter(out);
  let outcome: RunOutcome;
  try {
    if (!options.dryRun && target.kind === 'local') await checkStoreFolder(target.location);
    if (willSend) undoOutbox = await mail.preflight();
    const confirm = options.confirm;
    const sink = report;
    const onRejected = options.keepRejected ? undefined : sink ? (row: RowResult) => sink.add(row) : () => undefined;
    const language = mail.templates.defaultLanguage;
    const withLang = language === undefined ? source : withLanguage(source, language);
    const rows = extraOrganizations.length === 0 ? withLang : withOrganizations(withLang, extraOrganizations);
    outcome = await asRun((signal) => runImport(rows, settings, {
      target,
      mailer: mail.mailer,
      outbox: mail.outbox,
      messageId: mail.messageId,
      reporter,
      runId: newRunId(),
      signal,
      ...(onRejected ? { onRejected } : {}),
      keepRows: options.keepRows ?? options.report !== undefined,
      ...(confirm
        ? {
            confirm: (plan: Plan) => {
              reporter.stop();
              return confirm(plan, renderPlan(plan, out.errColor, mail.outbox));
            },
          }
        : {}),
      ...(options.mailConcurrency ? { mailConcurrency: options.mailConcurrency } : {}),
    }));
  } catch (error) {
    await report?.discard();
    await undoOutbox();
    throw error;
  } finally {
    reporter.stop();
    await mail.close();
  }
  for (const note of mail.templates.notes()) out.note(note);
  // An outbox folder made for invitations that none of the rows needed goes again (if still empty).
  // A declined run sent nothing either (its summary counts what it would have sent).
  if (outcome.declined || outcome.summary.invitations.sent === 0) await undoOutbox();
  const where = `${target.kind === 'local' ? 'local store' : 'JSM'} ${target.location}`;
  const base = { rows: outcome.rows, declined: outcome.declined, interrupted: outcome.interrupted, where, command: options.command, target: target.kind, failedInProject: target.ledger.count(project.key, 'failed') };
  if (outcome.declined) {
    await report?.discard();
    return { ...base, rows: [], summary: outcome.summary, endedWith: undefined };
  }
  // The run itself is done and recorded: a report that cannot be written (a disk that filled up
  // since the preflight) does not hide its outcome. The summary says so in `error`, and the exit is 1.
  let reportFailed: UsageError | undefined;
  if (report) {
    try {
      await report.finish(outcome.summary, outcome.rows);
      out.note(`report written to ${printable(options.report ?? '')}`);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      reportFailed = error;
    }
  }
  const stopped = outcome.stopped === undefined ? undefined : storeStopped(outcome.stopped);
  const failure = outcome.refused ?? stopped ?? reportFailed;
  if (outcome.refused && reportFailed) out.errorWords(reportFailed);
  const summary = failure
    ? { ...outcome.summary, ok: false, error: errorBody(failure) }
    : outcome.interrupted
      ? { ...outcome.summary, ok: false, error: { code: 'interrupted', message: 'interrupted: what was done is recorded', hint: 'run the same command again to finish' } }
      : outcome.summary;
  return { ...base, summary, endedWith: failure };
}

/**
 * The error that stopped the sending after the customers were written (a store on a full disk),
 * with what it leaves behind: the outcomes since the store's last write could not be recorded.
 */
export function storeStopped(error: unknown, before = 'the customers are written. '): UsageError {
  if (!(error instanceof RunError)) throw error;
  const hint =
    `${before}When the store can be written again (free space), \`invitations send\` sends the invitations still pending, ` +
    'and `invitations list --status in-doubt` shows those whose outcome could not be recorded: `invitations send --in-doubt` sends them ' +
    '(an outbox file is written again; by SMTP some may have been delivered already)';
  return new UsageError(error.code, error.message, hint);
}

/** Each row of a source changed by `change`, in the batches it came in. */
async function* mapRows(source: RowSource, change: (row: CandidateRow) => CandidateRow): RowSource {
  for await (const item of source) yield isBatch(item) ? item.map(change) : change(item);
}

/** `--language` for the rows that name none, so that a deferred invitation keeps it in the ledger. */
function withLanguage(source: RowSource, language: string): RowSource {
  return mapRows(source, (row) => (row.language === undefined || row.language.trim() === '' ? { ...row, language } : row));
}

/** `--organization` values, checked before anything is read or written. */
export function organizationOption(values: readonly string[] | undefined): string[] {
  // `--organization "$ORG"` with the variable unset: said, not silently nothing.
  if (values?.some((value) => value.trim() === '')) {
    throw new UsageError('bad-organization', '--organization is empty', 'give the organization\'s name (is the variable it comes from set?), or leave the option out');
  }
  const checked = checkOrganizations(values);
  if (!checked.ok) throw new UsageError('bad-organization', `--organization: ${checked.reason}`);
  return checked.names;
}

/** `--organization` for every row, after the row's own (the first spelling seen wins). */
export function withOrganizations(source: RowSource, extra: readonly string[]): RowSource {
  return mapRows(source, (row) => ({ ...row, organizations: [...(row.organizations ?? []), ...extra] }));
}
