import { UsageError } from './errors.js';
import { decideForRun, type CustomerSituation, type InvitationDecision } from './invitation-policy.js';
import type { Plan, PlannedRow } from './plan.js';
import type { TargetError } from './errors.js';
import { ProvisionStopped, type ProvisionRequest } from './target.js';
import { rowResult, type InvitationOutcome, type RowResult } from './results.js';
import type { InvitationRecord, ProvisionOutcome, Reporter, SuppressedBy } from './types.js';
import { NOT_SENT_INTERRUPTED, sendClaimed, type SendContext } from './send.js';
import { joinChunk } from './organizations.js';

/** What sending needs (target, mailer, run id, signal ...), plus progress and the chunk size. */
export interface ApplyContext extends SendContext {
  reporter: Reporter;
  chunkSize?: number;
  /**
   * When given, rows are counted rather than kept (a run without a report): each row is handed to
   * `row` once it is final and `ApplyResult.rows` stays empty. A row handed over as created that
   * the flush shows another process created first is handed to `revised`, as it was and as it is.
   */
  counts?: RowCounts;
}

/** What a row's counts are made of: its status and its invitation's outcome. */
export type Counted = Pick<RowResult, 'status' | 'invitation'>;

export interface RowCounts {
  row(row: RowResult): void;
  revised(before: Counted, after: Counted): void;
}

export interface ApplyResult {
  rows: RowResult[];
  /** Invitations of this run that failed or are now in doubt. */
  invitationsFailed: number;
  invitationsInDoubt: number;
  interrupted: boolean;
  /** What stopped the sending after the customers were written (the store could not be written). */
  stopped?: unknown;
  /** The target refused the run part-way: the rows after it were not reached, no invitation was sent. */
  refused?: TargetError;
}

/**
 * Applies a plan in two steps. First every row: provision in chunks, settle each row and record
 * its invitation in the ledger (durable with the customers, at the flush). Then the invitations:
 * claimed and sent in small batches. A crash in the first step leaves invitations pending, which
 * the re-run sends; a crash in the second leaves at most the batches being claimed and sent in
 * doubt, never sent twice.
 */
export async function applyPlan(plan: Plan, ctx: ApplyContext): Promise<ApplyResult> {
  const { target, reporter } = ctx;
  const chunkSize = ctx.chunkSize ?? 500;
  const result: ApplyResult = { rows: [], invitationsFailed: 0, invitationsInDoubt: 0, interrupted: false };
  const total = plan.rows.length;
  const toSend: RowResult[] = [];
  const createdHere: Created[] = [];
  // Invitations an earlier, cut-off run left owed (pending) that this run suppresses: recorded so.
  const suppressOwed = new Map<SuppressedBy, string[]>();
  const { counts } = ctx;
  // Rows whose invitation is sent at the end: counted only then (counts), as they end.
  const waiting: RowResult[] = [];
  const settled = (row: RowResult): void => {
    if (counts) counts.row(row);
    else result.rows.push(row);
  };
  let done = 0;
  reporter.progress(0, total);
  // Organizations are created and put on the project before the first customer: a target that
  // refuses them stops the run before anything else is written.
  if (plan.organizations.used && total > 0 && !ctx.signal?.aborted) await plan.organizations.prepare();
  // The rows before this one are settled.
  let reached = 0;
  try {
    for (let start = 0; start < total; start += chunkSize) {
      // A turn of the event loop between chunks: a signal's handler (and the progress line's timer)
      // are macrotasks, and a target that answers at once (the local store between its commits)
      // would otherwise run every chunk before Ctrl-C is even seen.
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (result.refused) {
        for (const planned of plan.rows.slice(start)) settled(notReached(planned, `not processed: the run stopped (${result.refused.message}); run the same command again to finish`));
        reached = total;
        break;
      }
      if (ctx.signal?.aborted) {
        result.interrupted = true;
        for (const planned of plan.rows.slice(start)) settled(notReached(planned));
        reached = total;
        break;
      }
      const chunk = plan.rows.slice(start, start + chunkSize);
      const now = new Date().toISOString();
      // Each new customer's owed invitation goes with the request: the target makes the customer and
      // the record durable in one write, so no kill can leave a new customer nobody will invite.
      const owed = chunk.map((planned) => (planned.exists === true ? undefined : owedIfCreated(plan, planned, now)));
      let provisioned: ProvisionOutcome[];
      try {
        provisioned = await target.provision(
          plan.settings.project,
          chunk.map((p, i) => provisionRequest(p, owed[i])),
          () => reporter.progress(Math.min(++done, total), total),
        );
      } catch (error) {
        // The target refused the run part-way (a token revoked): what was done is settled and
        // recorded below, the rest is not reached, and the run ends with its summary and the error.
        if (!(error instanceof ProvisionStopped)) throw error;
        provisioned = error.outcomes;
        result.refused = error.error;
      }
      // Organizations: those the rows name are made ready once, then the chunk's members join them.
      const outcomes = plan.organizations.used && !result.refused ? await joinChunk(plan.organizations, chunk.map((p) => p.row), provisioned) : provisioned;
      const records: InvitationRecord[] = [];
      chunk.forEach((planned, i) => {
        const outcome = outcomes[i] ?? { status: 'failed' as const, reason: 'no answer from the target' };
        const sending = toSend.length;
        const row = settle(plan, planned, outcome, { toSend, records, now, owed: owed[i], suppressOwed, runId: ctx.runId });
        if (planned.row.organizations) row.organizations = planned.row.organizations;
        if (row.invitation === 'in-doubt') result.invitationsInDoubt++;
        const waits = counts !== undefined && toSend.length > sending;
        if (waits) waiting.push(row);
        else settled(row);
        // Counted already (and not kept), a created row is remembered by its counts only.
        if (outcome.status === 'created') createdHere.push({ row: counts && !waits ? null : row, outcome, situation: planned.situation, invitation: row.invitation });
      });
      // A planned row is not needed once settled: a large run does not hold the plan and its results both.
      plan.rows.fill(RELEASED, start, start + chunk.length);
      // What the target did not record with its customers (REST) is recorded here.
      target.ledger.add(records.filter((r) => target.ledger.get(r.project, r.key) === undefined));
      done = start + chunk.length;
      reached = done;
      reporter.progress(done, total);
    }
    // Customers and their pending invitations are durable before the first message leaves.
    await target.flush();
  } catch (error) {
    // A write that failed after some of this run's customers were written (a disk that filled):
    // the run ends with its summary and the error, not as a run that wrote nothing.
    if (!(error instanceof UsageError) || target.wroteCustomers !== true) throw error;
    stoppedWriting(error, plan, reached, createdHere, toSend, counts, settled);
    result.stopped = error;
    for (const row of waiting) settled(row);
    return result;
  }
  for (const [by, keys] of suppressOwed) await target.ledger.suppress(plan.settings.project.key, keys, by);
  reconcile(plan, createdHere, toSend, counts);
  if (toSend.length > 0) {
    if (result.refused) {
      // Nothing more is done after the target refused: the invitations stay pending, and the re-run sends them.
      for (const row of toSend) row.reason = NOT_SENT_REFUSED;
    } else if (ctx.signal?.aborted) {
      result.interrupted = true;
      for (const row of toSend) row.reason = NOT_SENT_INTERRUPTED;
    } else {
      const sent = await sendClaimed(toSend, plan.settings.project, { ...ctx, onSent: (n) => reporter.sending(n, toSend.length) });
      result.invitationsFailed += sent.failed;
      result.invitationsInDoubt += sent.inDoubt;
      // Interrupted only when the interrupt left an invitation unsent: one that came once the last
      // was claimed found nothing left to stop (the run ends as finished, exit 0).
      if (ctx.signal?.aborted && toSend.some((row) => row.reason === NOT_SENT_INTERRUPTED)) result.interrupted = true;
      if (sent.stopped === undefined) await target.flush();
      else {
        // The store could not be written while sending (a full disk). The customers are in it:
        // the run ends with its summary and this error, not as if nothing had been written. One
        // more try to record what is known; a flush that fails is given up by the target.
        result.stopped = sent.stopped;
        await target.flush().catch(() => undefined);
      }
    }
  }
  for (const row of waiting) settled(row);
  return result;
}

/**
 * After a failed write, once some of the run's customers were written: rows not reached are
 * failed, rows the failed write held (the target marked their outcomes failed) are revised to
 * failed, and nothing is sent (the invitations of customers written stay pending, owed).
 */
function stoppedWriting(
  error: UsageError,
  plan: Plan,
  reached: number,
  created: readonly Created[],
  toSend: RowResult[],
  counts: RowCounts | undefined,
  settled: (row: RowResult) => void,
): void {
  const reason = `not written: ${error.message}; run the same command again when the store can be written`;
  for (const planned of plan.rows.slice(reached)) if (planned !== RELEASED) settled(rowResult(planned.index, planned.row, 'failed', 'none', reason));
  for (const { row, outcome, invitation } of created) {
    if (outcome.status !== 'failed') continue;
    if (row === null) {
      counts?.revised({ status: 'created', invitation }, { status: 'failed', invitation: 'none' });
      continue;
    }
    row.status = 'failed';
    row.invitation = 'none';
    row.reason = outcome.reason;
  }
  for (const row of toSend) {
    if (row.status === 'failed') continue;
    row.reason = `not sent: the store could not be written (${error.message}); run the same command again when it can`;
  }
  toSend.length = 0;
}

/**
 * The note on an existing customer's row whose name differs from the one the customer has (compared
 * with runs of white space as one). A row that gives no name (an existing customer joining a project
 * or an organization by email alone) asks for no name: nothing to note.
 */
export function nameKept(given: string, held: string): string | undefined {
  const same = (name: string): string => name.replace(/\s+/g, ' ').trim();
  if (given.trim() === '' || held.trim() === '' || same(given) === same(held)) return undefined;
  return `the name given (${given}) was not applied: the customer exists as ${held}, and jsm-provision never renames an existing customer`;
}

/** The reason on an existing customer's row that came with a password. */
export const PASSWORD_IGNORED = 'the password given was ignored: the customer exists, and jsm-provision never changes the password of an existing account';

/**
 * A row settled as `created`, with the target's outcome object (the local store may revise it):
 * the row itself while it is kept, else (counted already) what it was counted as.
 */
interface Created {
  row: RowResult | null;
  outcome: ProvisionOutcome;
  situation: CustomerSituation;
  invitation: RowResult['invitation'];
}

/** What the target is asked for one planned row (built field by field: 100,000 of them in a large run). */
function provisionRequest(planned: PlannedRow, invitation: InvitationRecord | undefined): ProvisionRequest {
  const { row } = planned;
  const request: ProvisionRequest = { email: row.email, key: row.key, fullName: row.fullName, exists: planned.exists };
  if (row.password) request.password = row.password;
  if (row.username) request.username = row.username;
  if (invitation) request.invitation = invitation;
  return request;
}

/** What a settled row's place in `plan.rows` holds from then on. */
const RELEASED = undefined as unknown as PlannedRow;

/**
 * After the flush, the outcomes say what this process created: a customer that another process
 * created first (its commit was replayed on their store) is `existing` here, and neither counted
 * as created nor invited by this run (the other run owns that invitation).
 */
function reconcile(plan: Plan, created: readonly Created[], toSend: RowResult[], counts: RowCounts | undefined): void {
  const revised = new Set<RowResult>();
  for (const { row, outcome, situation, invitation: before } of created) {
    if (outcome.status !== 'existing') continue;
    const decision = decideForRun(plan.settings, situationAfter(situation, false));
    const invitation = decision.action === 'none' ? 'none' : decision.action === 'suppress' ? 'suppressed' : 'pending';
    if (row === null) {
      counts?.revised({ status: 'created', invitation: before }, { status: 'existing', invitation });
      continue;
    }
    row.status = 'existing';
    row.invitation = invitation;
    delete row.reason;
    if (decision.action === 'suppress' || decision.action === 'defer') row.reason = decision.reason;
    revised.add(row);
  }
  if (revised.size === 0) return;
  const kept = toSend.filter((row) => !revised.has(row));
  toSend.length = 0;
  toSend.push(...kept);
}

/** The invitation a planned row is owed if this run creates its customer; undefined if none. */
function owedIfCreated(plan: Plan, planned: PlannedRow, now: string): InvitationRecord | undefined {
  const decision = decideForRun(plan.settings, 'new');
  return decision.action === 'none' ? undefined : invitationRecord(plan, planned, decision, now);
}

/** What settling a chunk's rows collects: who to invite now, the ledger records to add, the time. */
interface Settling {
  toSend: RowResult[];
  records: InvitationRecord[];
  now: string;
  /** The record sent with the provision request, reused so the ledger holds one object. */
  owed: InvitationRecord | undefined;
  /** Keys whose invitation, owed by an earlier run, this run suppresses (recorded after the flush). */
  suppressOwed: Map<SuppressedBy, string[]>;
  /** This run: an invitation it records in doubt is its own `sending` one. */
  runId: string;
}

/** Why the invitation of a row created without proof (see ProvisionOutcome) is in doubt. */
export const UNPROVEN_CREATE =
  "the account exists, but the answer to this run's create was lost, so whether this run or another one running at the same moment made it is not known: its invitation is in doubt and not sent by itself (send it with: invitations send --in-doubt)";

function settle(plan: Plan, planned: PlannedRow, outcome: ProvisionOutcome, s: Settling): RowResult {
  const { row } = planned;
  if (outcome.status === 'failed') {
    const failed = rowResult(planned.index, row, 'failed', 'none', outcome.reason);
    if (outcome.accountCreated) {
      // This run made the account: its invitation is owed (recorded pending, not sent now), so the
      // re-run that finishes the row, which will find the account existing, still sends it.
      failed.invitation = recordInvitation(plan, planned, 'new', decideForRun(plan.settings, 'new'), s);
    }
    return failed;
  }
  const situation = situationAfter(planned.situation, outcome.status === 'created');
  const decision = decideForRun(plan.settings, situation);
  const invitation = recordInvitation(plan, planned, situation, decision, s);
  const result = rowResult(planned.index, row, outcome.status, invitation);
  if (decision.action === 'suppress' || decision.action === 'defer') result.reason = decision.reason;
  if (outcome.status === 'created' && outcome.unproven && invitation === 'pending' && situation === 'new') {
    // Another run may have made this account and be inviting them: recorded in doubt, never sent by itself.
    const owed = s.records.pop();
    if (owed) s.records.push({ ...owed, status: 'sending', runId: s.runId, reason: UNPROVEN_CREATE, updatedAt: s.now });
    result.invitation = 'in-doubt';
    result.reason = UNPROVEN_CREATE;
    return result;
  }
  // A password given for a customer who exists is not set, on any target: the row says so; and so
  // for a name other than the one the customer has.
  const notes =
    outcome.status === 'existing'
      ? [outcome.note ?? (row.password ? PASSWORD_IGNORED : undefined), outcome.fullName !== undefined ? nameKept(row.fullName, outcome.fullName) : undefined]
      : [];
  for (const note of notes) if (note) result.reason = result.reason ? `${result.reason}; ${note}` : note;
  if (invitation === 'pending' && decision.action === 'send') s.toSend.push(result);
  return result;
}

function recordInvitation(
  plan: Plan,
  planned: PlannedRow,
  situation: CustomerSituation,
  decision: InvitationDecision,
  s: Settling,
): InvitationOutcome {
  if (decision.action === 'none') return 'none';
  if (situation === 'invitation-due') {
    // The record exists already (pending, owed): it stays pending when it is sent now or deferred;
    // suppressed, it is recorded so (else a later `invitations send` would send it after all).
    if (decision.action !== 'suppress') return 'pending';
    const keys = s.suppressOwed.get(decision.suppressedBy);
    if (keys) keys.push(planned.row.key);
    else s.suppressOwed.set(decision.suppressedBy, [planned.row.key]);
    return 'suppressed';
  }
  s.records.push(situation === 'new' && s.owed ? s.owed : invitationRecord(plan, planned, decision, s.now));
  return decision.action === 'suppress' ? 'suppressed' : 'pending';
}

function invitationRecord(plan: Plan, planned: PlannedRow, decision: InvitationDecision, now: string): InvitationRecord {
  const { settings } = plan;
  const { row } = planned;
  const { key: project } = settings.project;
  const { key, email, fullName } = row;
  const kind = settings.kind;
  const mustChangePassword = row.password !== undefined;
  // Whole literals (a suppressed one with its cause): every field in the object itself, not in a
  // second array added later; a large run makes 100,000 of them.
  const record: InvitationRecord =
    decision.action === 'suppress'
      ? { project, key, email, fullName, kind, status: 'suppressed', deferred: false, mustChangePassword, suppressedBy: decision.suppressedBy, updatedAt: now }
      : { project, key, email, fullName, kind, status: 'pending', deferred: decision.action === 'defer', mustChangePassword, updatedAt: now };
  if (row.language !== undefined) record.language = row.language;
  return record;
}

function notReached(planned: PlannedRow, reason = 'not processed: the run was interrupted; run the same command again to finish'): RowResult {
  return rowResult(planned.index, planned.row, 'failed', 'none', reason);
}

/** The reason on a created customer's row whose invitation was not sent because the target refused the run. */
export const NOT_SENT_REFUSED = 'not sent: the run stopped when JSM refused it; the invitation is recorded as owed, and the same command run again sends it';

/**
 * The customer's situation once the target answered, worked out in one place: new if this run
 * created the account; else an invitation still owed by an earlier run, or simply existing.
 */
function situationAfter(planned: PlannedRow['situation'], createdByThisRun: boolean): CustomerSituation {
  if (createdByThisRun) return 'new';
  return planned === 'invitation-due' ? 'invitation-due' : 'existing';
}
