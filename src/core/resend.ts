import { decideForRun, type InvitationDecision } from './invitation-policy.js';
import { sendRecords, type SendContext } from './send.js';
import type { Target } from './target.js';
import type { InvitationRecord, ProjectInfo, SuppressedBy } from './types.js';

/** What `invitations send` takes besides the pending ones. */
export interface ResendSelection {
  inDoubt: boolean;
  failed: boolean;
}

/** The invitations a resend would send, and the one policy's word on them. */
export interface ResendPlan {
  project: ProjectInfo;
  due: InvitationRecord[];
  /** `send`, or `suppress` when the project says "Do not send account verification emails". */
  decision: InvitationDecision;
}

export interface ResendOutcome {
  /**
   * Each invitation in one count, as the ledger holds it after the send. `suppressed` stays 0: what
   * the project's setting holds back stays pending (or in doubt, or failed), `suppressedBy` naming it.
   */
  totals: { sent: number; suppressed: number; failed: number; pending: number; inDoubt: number; suppressedBy: SuppressedBy | null };
  /** Every invitation that was not sent, with why (failed, or left in doubt). */
  problems: { email: string; status: string; reason: string }[];
  /** Claimed by another run meanwhile (or being sent by one): left to it. */
  leftToOthers: number;
  interrupted: boolean;
  /** The ledger could not be written while sending (a full disk): what stopped it. */
  stopped?: unknown;
}

/** `sending` at rest means a run started it and never saw it accepted: in doubt. */
function view(record: InvitationRecord): 'pending' | 'in-doubt' | 'failed' | 'sent' | 'suppressed' {
  return record.status === 'sending' ? 'in-doubt' : record.status;
}

/**
 * Lists what a resend would send. Each is an invitation owed to a customer who exists (an earlier
 * run decided to invite them): the policy decides under the project's setting as it is now.
 */
export function planResend(target: Target, project: ProjectInfo, selection: ResendSelection): ResendPlan {
  const wanted = new Set(['pending', ...(selection.inDoubt ? ['in-doubt'] : []), ...(selection.failed ? ['failed'] : [])]);
  const due = target.ledger.list(project.key).filter((r) => wanted.has(view(r)));
  const decision = decideForRun({ invitations: 'send', project }, 'invitation-due');
  return { project, due, decision };
}

/**
 * Sends what the plan lists, when the policy says send. The claim is the one gate to sending: each
 * record is claimed only if it is still as listed, under the lock, so two sends at once (resends
 * too) never send one twice.
 */
export async function resend(plan: ResendPlan, ctx: SendContext): Promise<ResendOutcome> {
  const { project, due, decision } = plan;
  const totals: ResendOutcome['totals'] = { sent: 0, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy: null };
  const problems: ResendOutcome['problems'] = [];
  let leftToOthers = 0;
  let stopped: unknown;
  if (decision.action === 'suppress') {
    // Held back, not suppressed: they stay pending (or in doubt, or failed) and are counted there,
    // each invitation once; `suppressedBy` says why none was sent.
    totals.suppressedBy = decision.suppressedBy;
  } else if (decision.action === 'send' && due.length > 0) {
    const expected = new Map(due.map((r) => [r.key, { ...r }]));
    const sent = await sendRecords(project, due.map((r) => r.key), ctx, expected);
    const { outcomes } = sent;
    if (sent.stopped !== undefined) {
      // The ledger could not be written (a full disk): the sending stopped; the outcomes known are
      // reported. One more try to record them; a flush that fails is given up by the target.
      stopped = sent.stopped;
      await ctx.target.flush().catch(() => undefined);
    } else if (!ctx.signal?.aborted) leftToOthers = due.filter((r) => !outcomes.has(r.key)).length;
    for (const record of due) {
      const outcome = outcomes.get(record.key);
      if (outcome?.outcome === 'sent') totals.sent++;
      else if (outcome) {
        if (outcome.outcome === 'failed') totals.failed++;
        problems.push({ email: record.email, status: outcome.outcome, reason: outcome.reason ?? outcome.outcome });
      }
    }
  }
  totals.pending = ctx.target.ledger.count(project.key, 'pending');
  totals.inDoubt = ctx.target.ledger.inDoubt(project.key, ctx.runId);
  return { totals, problems, leftToOthers, interrupted: Boolean(ctx.signal?.aborted), ...(stopped !== undefined ? { stopped } : {}) };
}
