import { applyPlan, type ApplyContext, type ApplyResult, type Counted, type RowCounts } from './apply.js';
import type { TargetError } from './errors.js';
import { runSuppressedBy } from './invitation-policy.js';
import { buildPlan, type Plan } from './plan.js';
import {
  emptyTotals,
  isProblem,
  ProblemList,
  summaryOk,
  type InvitationOutcome,
  type RowResult,
  type RunSettings,
  type RunSummary,
} from './results.js';
import type { RowSource } from './types.js';

export interface RunContext extends ApplyContext {
  /** The outbox folder when invitations go there, null when they go by SMTP. */
  outbox: string | null;
  /**
   * false: rows nobody will read (no report): a dry run keeps counts only, and a real run counts
   * each row as it is settled instead of keeping it (`RunOutcome.rows` is then empty). Default true.
   */
  keepRows?: boolean;
  /**
   * When given, invalid and duplicate rows are handed here as they are read (for a report written
   * as it goes) and counted, but not kept: `RunOutcome.rows` then holds only the other rows.
   */
  onRejected?: (row: RowResult) => void;
  /** Asked before anything is written when the plan sends invitations; false stops the run. */
  confirm?: (plan: Plan) => Promise<boolean>;
}

export interface RunOutcome {
  summary: RunSummary;
  /** Every row in input order, for the report (without the rejected ones when `onRejected` took them). */
  rows: RowResult[];
  plan: Plan;
  /** true when the admin said no at the confirmation: nothing was written. */
  declined: boolean;
  interrupted: boolean;
  /** The error that stopped the sending after the customers were written (see ApplyResult). */
  stopped?: unknown;
  /** The target refused the run part-way (see ApplyResult): exit 3, with this summary. */
  refused?: TargetError;
}

/** read -> validate -> plan -> (confirm) -> apply -> invite -> summary: the one bulk pipeline. */
export async function runImport(source: RowSource, settings: RunSettings, ctx: RunContext): Promise<RunOutcome> {
  const keepRows = !settings.dryRun || ctx.keepRows !== false;
  const tally = new Tally(runSuppressedBy(settings.invitations, settings.project.sendVerificationEmails), ctx.outbox);
  const sink = ctx.onRejected;
  const onRejected = sink
    ? (row: RowResult) => {
        tally.add(row);
        sink(row);
      }
    : undefined;
  const plan = await buildPlan(source, ctx.target, settings, (count) => ctx.reporter.reading(count), keepRows, onRejected);
  if (settings.dryRun) return finish(plan, null, ctx, false, tally);
  if (ctx.confirm && plan.counts.invite > 0 && !(await ctx.confirm(plan))) return finish(plan, null, ctx, true, tally);
  const counts: RowCounts | undefined = ctx.keepRows === false ? { row: (row) => tally.add(row), revised: (before, after) => tally.revise(before, after) } : undefined;
  const applied = await applyPlan(plan, counts ? { ...ctx, counts } : ctx);
  return finish(plan, applied, ctx, false, tally);
}

/** Totals, invitation counts and the first problems, counted row by row. */
class Tally {
  readonly totals = emptyTotals();
  readonly invitations: RunSummary['invitations'];
  readonly problems = new ProblemList();
  constructor(suppressedBy: RunSummary['invitations']['suppressedBy'], outbox: string | null) {
    this.invitations = { sent: 0, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy, outbox };
  }
  add(row: RowResult): void {
    this.totals.rows++;
    this.totals[row.status]++;
    countInvitation(this.invitations, row.invitation, 1);
    if (isProblem(row.status)) this.problems.add(row.index, { line: row.line, email: row.email, status: row.status, reason: row.reason ?? row.status });
    else if (row.invitation === 'failed' || row.invitation === 'in-doubt') {
      // A non-zero exit has its reason in `problems`: an invitation that failed is one.
      this.problems.add(row.index, { line: row.line, email: row.email, status: row.status, invitation: row.invitation, reason: row.reason ?? `invitation ${row.invitation}` });
    }
  }

  /** A row counted as `before` that ended as `after` (neither a problem: created, then existing). */
  revise(before: Counted, after: Counted): void {
    this.totals[before.status]--;
    this.totals[after.status]++;
    countInvitation(this.invitations, before.invitation, -1);
    countInvitation(this.invitations, after.invitation, 1);
  }
}

function finish(plan: Plan, applied: ApplyResult | null, ctx: RunContext, declined: boolean, tally: Tally): RunOutcome {
  const settings = plan.settings;
  const rows = mergeByIndex(plan.rejected, applied ? applied.rows : plan.rows.map(wouldBe));
  const { totals, invitations } = tally;
  for (const row of rows) tally.add(row);
  if (!plan.keptRows) {
    const n = plan.counts;
    totals.rows = plan.rowsTotal;
    totals.created += n.create + n.unknown;
    totals.existing += n.existing;
    invitations.sent += n.invite;
    invitations.pending += n.defer;
    invitations.suppressed += n.suppress;
  }
  // In doubt: every invitation of this project that a run started and never saw accepted (not one
  // another live run on this host is sending right now).
  invitations.inDoubt = ctx.target.ledger.inDoubt(settings.project.key, ctx.runId);
  const failedThisRun = applied ? applied.invitationsFailed + applied.invitationsInDoubt : 0;
  const summary: RunSummary = {
    ok: !declined && !applied?.interrupted && summaryOk(totals, failedThisRun),
    command: settings.command,
    target: ctx.target.kind,
    project: settings.project.key,
    dryRun: settings.dryRun,
    totals,
    invitations,
    organizations: settings.dryRun ? { ...plan.organizations.planned } : { ...plan.organizations.made },
    problems: tally.problems.list(),
    ...(tally.problems.omitted > 0 ? { problemsOmitted: tally.problems.omitted } : {}),
  };
  if (applied?.stopped !== undefined || applied?.refused !== undefined) summary.ok = false;
  return {
    summary,
    rows,
    plan,
    declined,
    interrupted: applied?.interrupted ?? false,
    ...(applied?.stopped !== undefined ? { stopped: applied.stopped } : {}),
    ...(applied?.refused !== undefined ? { refused: applied.refused } : {}),
  };
}

/** Both lists are in input order already: merge them rather than sort the whole. */
function mergeByIndex(a: readonly RowResult[], b: readonly RowResult[]): RowResult[] {
  const out: RowResult[] = new Array<RowResult>(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.length; k++) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.index < right.index)) {
      out[k] = left as RowResult;
      i++;
    } else {
      out[k] = right;
      j++;
    }
  }
  return out;
}

function countInvitation(totals: RunSummary['invitations'], outcome: InvitationOutcome, by: 1 | -1): void {
  if (outcome === 'sent') totals.sent += by;
  else if (outcome === 'suppressed') totals.suppressed += by;
  else if (outcome === 'failed') totals.failed += by;
  else if (outcome === 'pending') totals.pending += by;
}

/** How a planned row would end, for a dry run. */
function wouldBe(planned: Plan['rows'][number]): RowResult {
  const { row, invitation } = planned;
  const action = invitation.action;
  const outcome: InvitationOutcome =
    action === 'send' ? 'sent' : action === 'defer' ? 'pending' : action === 'suppress' ? 'suppressed' : 'none';
  const result: RowResult = {
    index: planned.index,
    line: row.line,
    email: row.email,
    fullName: row.fullName,
    status: planned.exists === true ? 'existing' : 'created',
    invitation: outcome,
  };
  if (action === 'suppress' || action === 'defer') result.reason = invitation.reason;
  if (row.organizations) result.organizations = row.organizations;
  return result;
}
