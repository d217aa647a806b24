import type { Plan } from '../core/plan.js';
import { runImport, type RunOutcome } from '../core/run.js';
import type { RowResult, RunSettings } from '../core/results.js';
import type { Target } from '../core/target.js';
import type { CandidateRow, InvitationKind, ProjectInfo } from '../core/types.js';
import { mailSetup, newRunId } from './context.js';
import type { MailOptions } from './options.js';
import type { Output } from './output.js';
import { renderPlan, renderSummary } from './render.js';
import { writeReport } from './report.js';
import { TerminalReporter } from './reporter.js';
import { asRun } from './signals.js';

export interface RowRunOptions extends MailOptions {
  command: string;
  kind: InvitationKind;
  noInvite: boolean;
  defer: boolean;
  dryRun: boolean;
  report?: string;
  /** A dry run keeps every row only when something will read them (default: when --report is given). */
  keepRows?: boolean;
  /** Asks before writing when the plan sends invitations (import commands, in a terminal). */
  confirm?: (plan: Plan, text: string) => Promise<boolean>;
  mailConcurrency?: number;
}

/**
 * Runs rows through the one pipeline and prints the outcome: the shared body of add-customer,
 * import-csv and import-mail. Returns the exit code.
 */
export async function runRows(
  source: AsyncIterable<CandidateRow>,
  target: Target,
  project: ProjectInfo,
  options: RowRunOptions,
  out: Output,
): Promise<{ code: number; rows: RowResult[] }> {
  const settings: RunSettings = {
    command: options.command,
    project,
    kind: options.kind,
    noInvite: options.noInvite,
    defer: options.defer,
    dryRun: options.dryRun,
  };
  const mail = mailSetup(options, target, [options.kind]);
  const reporter = new TerminalReporter(out);
  let outcome: RunOutcome;
  try {
    const confirm = options.confirm;
    const language = mail.templates.defaultLanguage;
    const rows = language === undefined ? source : withLanguage(source, language);
    outcome = await asRun((signal) => runImport(rows, settings, {
      target,
      mailer: mail.mailer,
      outbox: mail.outbox,
      messageId: mail.messageId,
      reporter,
      runId: newRunId(),
      signal,
      keepRows: options.keepRows ?? options.report !== undefined,
      ...(confirm
        ? {
            confirm: (plan: Plan) => {
              reporter.stop();
              return confirm(plan, renderPlan(plan, out.errColor));
            },
          }
        : {}),
      ...(options.mailConcurrency ? { mailConcurrency: options.mailConcurrency } : {}),
    }));
  } finally {
    reporter.stop();
    await mail.close();
  }
  for (const note of mail.templates.notes()) out.note(note);
  if (outcome.declined) {
    out.note('Nothing was written and nothing was sent.');
    return { code: 1, rows: [] };
  }
  if (options.report) {
    await writeReport(options.report, outcome.summary, outcome.rows);
    out.note(`report written to ${options.report}`);
  }
  out.jsonResult(outcome.summary);
  out.result(renderSummary(outcome.summary, out.color, `${target.kind === 'local' ? 'local store' : 'JSM'} ${target.location}`));
  if (outcome.interrupted) {
    out.note('Interrupted: what was done is recorded. Run the same command again to finish.');
    return { code: 130, rows: outcome.rows };
  }
  return { code: outcome.summary.ok ? 0 : 1, rows: outcome.rows };
}

/** `--language` for the rows that name none, so that a deferred invitation keeps it in the ledger. */
async function* withLanguage(source: AsyncIterable<CandidateRow>, language: string): AsyncIterable<CandidateRow> {
  for await (const row of source) yield row.language === undefined || row.language.trim() === '' ? { ...row, language } : row;
}
