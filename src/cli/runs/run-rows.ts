import type { Plan } from '../../core/plan.js';
import { errorBody, RunError, TargetError, UsageError } from '../../core/errors.js';
import { decideForRun } from '../../core/invitation-policy.js';
import { printable } from '../../core/printable.js';
import { runImport, type RunOutcome } from '../../core/run.js';
import type { RowResult, RunSettings, RunSummary } from '../../core/results.js';
import { CLOUD_SETS_NO_PASSWORDS, takesPasswords, type Target } from '../../core/target.js';
import { isBatch, type CandidateRow, type InvitationKind, type ProjectInfo, type RowSource } from '../../core/types.js';
import type { InvitationsSetting, MailSettings } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import { plural, renderPlan, renderSummary } from '../io/render.js';
import type { Colors } from '../io/colors.js';
import type { CommandResult, Outcome } from '../io/result.js';
import { checkOutboxPath, checkReportPath, checkStoreFolder, runFiles } from './preflight.js';
import { ReportWriter } from '../io/report.js';
import { TerminalReporter } from '../io/reporter.js';
import { SendSession } from './send-session.js';
import { testSetting } from '../../util/test-hooks.js';

/** What a row run takes of a command's settings (settings.ts), and what the command adds. */
export interface RowRunOptions {
  command: string;
  kind: InvitationKind;
  invitations: InvitationsSetting;
  dryRun: boolean;
  mail: MailSettings;
  report?: string | undefined;
  /** The files the run reads (besides the store): the report must not be one of them. */
  inputs?: readonly string[];
  /** Keep invalid and duplicate rows in the returned rows (a command writing its own report needs them). */
  keepRejected?: boolean;
  /** A dry run keeps every row only when something will read them (default: when --report is given). */
  keepRows?: boolean;
  /** Asks before writing when the plan sends invitations (import commands, in a terminal). */
  confirm?: (plan: Plan, text: string) => Promise<boolean>;
  mailConcurrency?: number;
  /** `--organization` (checked by settings.ts): organizations every row joins too. */
  organization: readonly string[];
  /** false: `--no-create-organizations`. */
  createOrganizations: boolean;
}

/** What a row run ended with: the core's outcome, plus what the CLI around it saw. */
export interface RowRun {
  /** The summary as printed under --json (with `error` when interrupted or the report failed). */
  summary: RunSummary & { error?: { code: string; message: string; hint?: string } };
  rows: RowResult[];
  declined: boolean;
  interrupted: boolean;
  /** An interrupt came when the run had nothing left to do (its rows written, its invitations claimed): it ended as finished. */
  interruptedAtEnd?: boolean;
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

/** What became of a row run (result.ts gives its exit code: docs/contract.md, "Exit codes"). */
export function rowRunOutcome(run: Pick<RowRun, 'declined' | 'interrupted' | 'summary'> & { endedWith?: RunError | undefined }): Outcome {
  // Declined at the confirmation: the person stopped the run before anything was written, as
  // Ctrl-C at the question does, not a run that finished with problems.
  if (run.declined) return 'stopped';
  if (run.interrupted) return 'stopped';
  // The target refused the run part-way, as a refusal before the first row is.
  if (run.endedWith instanceof TargetError) return 'refused';
  return run.summary.ok ? 'done' : 'problems';
}

/**
 * A row run as a command's result: the summary's keys (with `extra` keys beside them) under
 * --json, or the human summary (with `extraText` after it), then what stopped it.
 */
export function rowRunResult(run: RowRun, extra: { json?: Record<string, unknown>; text?: (c: Colors) => string } = {}): CommandResult {
  const outcome = rowRunOutcome(run);
  if (run.declined) {
    return { outcome, json: { target: run.target, project: run.summary.project, error: { code: 'declined', message: 'the run was not confirmed: nothing was written and nothing was sent' } }, notes: ['Nothing was written and nothing was sent.'] };
  }
  // `ok` and `command` are the result path's (result.ts); the rest is the summary as the core made it.
  const { ok: _ok, command: _command, ...summary } = run.summary;
  const notes: string[] = [];
  // Invitations that failed in earlier runs are still owed: a re-run that changes nothing says so.
  const earlier = (run.failedInProject ?? 0) - run.summary.invitations.failed;
  if (earlier > 0) notes.push(`${plural(earlier, 'invitation')} of ${run.summary.project} failed in an earlier run: retry with \`invitations send --failed\` and the same --smtp or --outbox`);
  if (run.interrupted) notes.push('Interrupted: what was done is recorded. Run the same command again to finish.');
  else if (run.interruptedAtEnd) notes.push('The interrupt came when every row was written and every invitation under way: the run finished, nothing is left to do.');
  return {
    outcome,
    json: { ...summary, ...(extra.json ?? {}) },
    // --quiet prints only errors: rows that went wrong are, so a run that exits 1 says why (stderr).
    text: (c) => {
      const text = renderSummary(run.summary, c, run.where);
      return extra.text !== undefined ? `${text}\n${extra.text(c)}` : text;
    },
    ...(run.interrupted ? {} : { quietWords: (c: Colors) => renderSummary(run.summary, c, run.where) }),
    notes,
    errors: run.endedWith ? [run.endedWith] : [],
  };
}

/** Runs rows through the one pipeline (add-customer, import-csv): its result, and its rows. */
export async function runRows(
  source: RowSource,
  target: Target,
  project: ProjectInfo,
  options: RowRunOptions,
  out: Output,
): Promise<{ result: CommandResult; rows: RowResult[] }> {
  const run = await runRowsOutcome(source, target, project, options, out);
  return { result: rowRunResult(run), rows: run.rows };
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
  const session = new SendSession(options.mail, target, project, out, [options.kind]);
  const settings: RunSettings = {
    command: options.command,
    project: session.project,
    kind: options.kind,
    invitations: options.invitations,
    dryRun: options.dryRun,
    createOrganizations: options.createOrganizations,
  };
  const extraOrganizations = options.organization;
  // Cloud takes no password: a row that gives one stops the run before its first write (all rows read first).
  if (!takesPasswords(target)) source = await refusePasswords(source, options.inputs, (message) => out.warn(message));
  // Preflight: whatever would stop the run is found before its first write, and leaves nothing behind.
  let report: ReportWriter | undefined;
  if (options.report) {
    await checkReportPath(options.report, runFiles(target, options.inputs ?? [], options.mail.smtp?.passwordFile));
    report = ReportWriter.open(options.report);
  }
  // Whether this run sends: the one policy, asked for a new customer (nothing is sent by a dry run).
  const sends = decideForRun(settings, 'new').action === 'send';
  const willSend = !options.dryRun && sends;
  // A dry run refuses what the real run would refuse: a REST run with nowhere to send invitations.
  if (sends) session.checkRoute();
  // A dry run that would write invitations to an outbox that is a file says so, as the run would.
  if (sends && options.dryRun && session.outbox !== null) await checkOutboxPath(session.outbox);
  const reporter = new TerminalReporter(out);
  // A test setting (JSM_PROVISION_TEST_HOOKS chunk-rows=<n>): chunks of n rows, so a process a test starts makes two chunks of few rows.
  const chunkRows = testSetting('chunk-rows');
  let outcome: RunOutcome;
  let signal: AbortSignal | undefined;
  try {
    if (!options.dryRun && target.kind === 'local') await checkStoreFolder(target.location);
    if (willSend) await session.preflight();
    const confirm = options.confirm;
    const sink = report;
    const onRejected = options.keepRejected ? undefined : sink ? (row: RowResult) => sink.add(row) : () => undefined;
    const language = options.mail.templates.defaultLanguage;
    const withLang = language === undefined ? source : withLanguage(source, language);
    const rows = extraOrganizations.length === 0 ? withLang : withOrganizations(withLang, extraOrganizations);
    outcome = await session.run((ports) => {
      signal = ports.signal;
      return runImport(rows, settings, {
        ...ports,
        target,
        reporter,
        ...(onRejected ? { onRejected } : {}),
        keepRows: options.keepRows ?? options.report !== undefined,
        ...(confirm
          ? {
              confirm: (plan: Plan) => {
                reporter.stop();
                return confirm(plan, renderPlan(plan, out.errColor, session.outbox));
              },
            }
          : {}),
        ...(options.mailConcurrency ? { mailConcurrency: options.mailConcurrency } : {}),
        ...(chunkRows !== undefined && Number.isInteger(chunkRows) && chunkRows > 0 ? { chunkSize: chunkRows } : {}),
      });
    });
  } catch (error) {
    await report?.discard();
    await session.undo();
    throw error;
  } finally {
    reporter.stop();
    await session.close();
  }
  session.notes();
  // An outbox folder made for invitations that none of the rows needed goes again (if still empty).
  // A declined run sent nothing either (its summary counts what it would have sent).
  if (outcome.declined || outcome.summary.invitations.sent === 0) await session.undo();
  const where = `${target.kind === 'local' ? 'local store' : 'JSM'} ${target.location}`;
  const base = { rows: outcome.rows, declined: outcome.declined, interrupted: outcome.interrupted, interruptedAtEnd: !outcome.interrupted && signal?.aborted === true, where, command: options.command, target: target.kind, failedInProject: target.ledger.count(project.key, 'failed') };
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

/** `--organization` for every row, after the row's own (the first spelling seen wins). */
export function withOrganizations(source: RowSource, extra: readonly string[]): RowSource {
  return mapRows(source, (row) => ({ ...row, organizations: [...(row.organizations ?? []), ...extra] }));
}

/**
 * Reads every row of a run on a target that takes no passwords (JSM Cloud): one row that gives a
 * password stops the run before anything is written (exit 2), said once with the lines that have one.
 * An empty password cell is no password.
 */
async function refusePasswords(source: RowSource, inputs: readonly string[] | undefined, warn: (message: string) => void): Promise<RowSource> {
  const rows: CandidateRow[] = [];
  for await (const item of source) {
    if (isBatch(item)) rows.push(...item);
    else rows.push(item);
  }
  const withPassword = rows.filter((r) => r.password !== undefined && r.password.reveal() !== '');
  if (withPassword.length > 0) {
    const lines = withPassword.slice(0, 5).map((r) => r.line).join(', ');
    const more = withPassword.length > 5 ? ` and ${withPassword.length - 5} more` : '';
    const where = inputs && inputs.length > 0 ? `${inputs.map((i) => printable(i)).join(', ')}: ` : '';
    throw new UsageError(
      'passwords-unsupported',
      `${where}${plural(withPassword.length, 'row gives', 'rows give')} a password (line ${lines}${more}), and ${CLOUD_SETS_NO_PASSWORDS}; nothing was written`,
      'remove the password column (or its values) and run again: the invitation tells each new customer how to set a password on the portal',
    );
  }
  // Cloud has no usernames: a username column names nothing there (accounts are found by email).
  const named = rows.filter((r) => r.username !== undefined && r.username.trim() !== '').length;
  if (named > 0) warn(`${plural(named, 'row names', 'rows name')} a username, which JSM Cloud does not have: ignored (accounts are found by email and named by accountId)`);
  return (async function* () {
    for (let i = 0; i < rows.length; i += 500) yield rows.slice(i, i + 500);
  })();
}
