import { UsageError, errorBody } from '../../core/errors.js';
import { suppressedReason } from '../../core/invitation-policy.js';
import { printable } from '../../core/printable.js';
import { planOne, sendOne, type OneOutcome } from '../../core/resend-one.js';
import { runIsLive } from '../../store/lock.js';
import { withTarget } from '../program/action.js';
import { openTarget, resolveProject, type LedgerPlace } from '../runs/context.js';
import { SendSession } from '../runs/send-session.js';
import type { Output } from '../io/output.js';
import type { CommandResult, Outcome } from '../io/result.js';
import { askConfirm, canConfirm } from '../io/prompts.js';
import { storeStopped } from '../runs/run-rows.js';
import type { InvitationsSendSettings } from '../settings/settings.js';

/**
 * `invitations send --email E`: one person's invitation, under the project's setting as it is now.
 * Pending or failed: sent. In doubt: only with --in-doubt. Sent: only with --again (a new
 * Message-ID). Anything else stops before a write (exit 2) saying why and what to add.
 */
export async function sendOneInvitation(out: Output, options: InvitationsSendSettings & { email: string }, ledger: LedgerPlace): Promise<CommandResult> {
  const email = options.email;
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const plan = planOne(target, project, email, { inDoubt: options.inDoubt, again: options.again }, runIsLive);
      if (!plan.ok) {
        // No record: say which ledger was read (a REST ledger may be on another machine).
        const where = plan.refusal.code === 'no-invitation' ? ` (ledger: ${ledger.path}${ledger.exists ? '' : ', which does not exist here'})` : '';
        throw new UsageError(plan.refusal.code, `${plan.refusal.message}${where}`, plan.refusal.hint);
      }
      const session = new SendSession(options.mail, target, project, out, [plan.record.kind]);
      let outcome: OneOutcome;
      try {
        if (plan.decision.action === 'send') {
          const what = `${plan.again ? 'Send again' : 'Send'} the ${plan.record.kind === 'verify' ? 'verification message' : 'invitation'} to ${plan.record.email} (${project.key}, now ${plan.view})?`;
          const go = await session.prepare(options.yes || !canConfirm() ? undefined : () => askConfirm(what));
          // Declined: as for the project-wide send, exit 130 (stopped by the person, nothing done).
          if (!go) return { outcome: 'stopped', json: { target: target.kind, project: project.key, email: plan.record.email, error: { code: 'declined', message: 'the send was not confirmed: nothing was sent' } }, notes: ['Nothing was sent.'] };
        }
        const sendPlan = { ...plan, project: session.project };
        outcome = await session.run((ports) => sendOne(sendPlan, { ...ports, target }));
      } finally {
        await session.close();
      }
      session.notes();
      const stopped = outcome.stopped === undefined ? undefined : storeStopped(outcome.stopped, '');
      const result = oneOutcome(outcome);
      const text = renderOneText(project.key, outcome, session.outbox);
      return {
        outcome: result,
        json: { ...renderOneJson(target.kind, project.key, outcome, session.outbox), ledger, ...(stopped ? { error: errorBody(stopped) } : {}) },
        text,
        quietWords: () => text,
        errors: stopped ? [stopped] : [],
      };
    },
  );
}

/** Stopped when interrupted; done when sent; problems when it was not (failed, in doubt, suppressed by the project, taken by another run). */
export function oneOutcome(outcome: OneOutcome): Outcome {
  if (outcome.interrupted) return 'stopped';
  return outcome.outcome === 'sent' && outcome.stopped === undefined ? 'done' : 'problems';
}

/** The `--json` object: the invitation totals of this one send, and the person's outcome. */
export function renderOneJson(target: string, project: string, outcome: OneOutcome, outbox: string | null): Record<string, unknown> {
  const sent = outcome.outcome === 'sent';
  const reason = outcome.reason ?? (outcome.suppressedBy ? suppressedReason(outcome.suppressedBy) : undefined);
  return {
    target,
    project,
    email: outcome.email,
    invitation: { before: outcome.before, status: outcome.outcome, messageId: outcome.messageId ?? null },
    invitations: {
      sent: sent ? 1 : 0,
      suppressed: outcome.outcome === 'suppressed' ? 1 : 0,
      failed: outcome.outcome === 'failed' ? 1 : 0,
      pending: 0,
      inDoubt: outcome.outcome === 'in-doubt' ? 1 : 0,
      suppressedBy: outcome.suppressedBy ?? null,
      outbox: sent ? outbox : null,
    },
    problems: sent ? [] : [{ email: outcome.email, status: outcome.outcome, reason: reason ?? outcome.outcome }],
    ...(outcome.interrupted ? { error: { code: 'interrupted', message: 'interrupted: the invitation was not sent', hint: 'run the same command again to send it' } } : {}),
  };
}

/** The human summary (pure). */
export function renderOneText(project: string, outcome: OneOutcome, outbox: string | null): string {
  const who = printable(outcome.email, 80);
  switch (outcome.outcome) {
    case 'sent':
      return `${outcome.before === 'sent' ? 'sent again' : 'sent'}: ${who}'s invitation for ${project}${outbox ? `, to the outbox ${outbox}` : ', by SMTP'}${outcome.messageId ? ` (Message-ID ${outcome.messageId})` : ''}`;
    case 'suppressed':
      return `not sent: ${project} says "Do not send account verification emails"; ${who}'s invitation stays ${outcome.before}`;
    default:
      return `not sent: ${who}'s invitation for ${project} is ${outcome.outcome}: ${outcome.reason ?? ''}`.replace(/: $/, '');
  }
}
