/**
 * One person's invitation, sent on an admin's word (`invitations send --email E`). The same gates as
 * every send: the project's setting as it is now (the one policy), and the ledger's claim, so that
 * nothing goes twice by accident. What the bulk send leaves alone needs the same explicit flag here
 * (`--in-doubt`); a failed one is sent, since it never arrived; one that was sent goes again only
 * with `--again`, under a new Message-ID (receivers such as Gmail drop a repeat of a Message-ID
 * they have seen, which would make the second sending vanish).
 */
import { decideForRun, type InvitationDecision } from './invitation-policy.js';
import { sendRecords, type SendContext } from './send.js';
import type { Target } from './target.js';
import type { InvitationRecord, InvitationView, ProjectInfo, SuppressedBy } from './types.js';
import { emailKey } from './validate.js';

export interface OneSelection {
  /** Send it although it is in doubt (a cut-off run may have sent it). */
  inDoubt: boolean;
  /** Send it although it was sent. */
  again: boolean;
}

/** Why the invitation is not sent at all: the command stops before anything is written. */
export interface OneRefusal {
  code: 'no-invitation' | 'already-sent' | 'invitation-in-doubt' | 'being-sent';
  message: string;
  hint: string;
}

export type OnePlan =
  | { ok: true; project: ProjectInfo; record: InvitationRecord; view: InvitationView; decision: InvitationDecision; again: boolean }
  | { ok: false; record?: InvitationRecord; refusal: OneRefusal };

export interface OneOutcome {
  email: string;
  /** `sent`, `failed`, `in-doubt`, `suppressed` (the project's setting), or `left` (another run claimed it first). */
  outcome: 'sent' | 'failed' | 'in-doubt' | 'pending' | 'suppressed' | 'left';
  reason?: string;
  suppressedBy?: SuppressedBy;
  messageId?: string;
  /** The state it was in before (`sent` for a second sending). */
  before: InvitationView;
  interrupted: boolean;
  /** The ledger could not be written: what stopped it. */
  stopped?: unknown;
}

function viewOf(record: InvitationRecord): InvitationView {
  return record.status === 'sending' ? 'in-doubt' : record.status;
}

/**
 * What sending one person's invitation would do. `runIsLive` says whether the run that marked a
 * record `sending` is still alive on this host (then it is being sent, not in doubt).
 */
export function planOne(target: Target, project: ProjectInfo, email: string, selection: OneSelection, runIsLive: (runId: string | undefined) => boolean): OnePlan {
  const record = target.ledger.get(project.key, emailKey(email));
  if (record === undefined) {
    return {
      ok: false,
      refusal: {
        code: 'no-invitation',
        message: `${email} has no invitation in ${project.key}: jsm-provision invites the customers it creates, and did not create this one (or its ledger is elsewhere)`,
        hint: `see what is recorded with: jsm-provision invitations list --project ${project.key}`,
      },
    };
  }
  const view = viewOf(record);
  const who = record.email;
  const at = ` (${record.updatedAt}${record.messageId ? `, Message-ID ${record.messageId}` : ''})`;
  if (record.status === 'sending' && runIsLive(record.runId)) {
    return { ok: false, record, refusal: { code: 'being-sent', message: `${who}'s invitation is being sent right now by another run`, hint: 'wait for that run to end, then look with invitations list' } };
  }
  if (view === 'in-doubt' && !selection.inDoubt) {
    return {
      ok: false,
      record,
      refusal: {
        code: 'invitation-in-doubt',
        message: `${who}'s invitation is in doubt${at}: a run was cut off while sending it, so it may have arrived`,
        hint: 'ask the customer first; to send it anyway, add --in-doubt',
      },
    };
  }
  if (view === 'sent' && !selection.again) {
    return {
      ok: false,
      record,
      refusal: {
        code: 'already-sent',
        message: `${who}'s invitation was sent already${at}; an invitation is sent at most once unless you ask for it again`,
        hint: 'to send it once more (under a new Message-ID), add --again',
      },
    };
  }
  const decision = decideForRun({ invitations: 'send', project }, 'invitation-due');
  return { ok: true, project, record, view, decision, again: view === 'sent' };
}

/** Sends the planned invitation (or records nothing, when the project's setting suppresses it). */
export async function sendOne(plan: Extract<OnePlan, { ok: true }>, ctx: SendContext): Promise<OneOutcome> {
  const { project, record, decision, view } = plan;
  const base = { email: record.email, before: view, interrupted: false };
  if (decision.action === 'suppress') return { ...base, outcome: 'suppressed', suppressedBy: decision.suppressedBy, reason: decision.reason };
  const previous = record.messageId;
  const context: SendContext = plan.again
    ? {
        ...ctx,
        // A second sending is another message: its own Message-ID, derived from the first.
        messageId: (p, key, kind) => ctx.messageId(p, `${key} again after ${previous ?? record.updatedAt}`, kind),
        freshMessageId: true,
      }
    : ctx;
  const { outcomes, stopped } = await sendRecords(project, [record.key], context, new Map([[record.key, { ...record }]]));
  const done = outcomes.get(record.key);
  const after = ctx.target.ledger.get(project.key, record.key);
  const interrupted = Boolean(ctx.signal?.aborted) && done === undefined;
  if (done === undefined) {
    return { ...base, outcome: 'left', reason: 'another run claimed it first', interrupted, ...(stopped !== undefined ? { stopped } : {}) };
  }
  return {
    ...base,
    outcome: done.outcome,
    ...(done.reason !== undefined ? { reason: done.reason } : {}),
    ...(after?.messageId !== undefined ? { messageId: after.messageId } : {}),
    ...(stopped !== undefined ? { stopped } : {}),
  };
}
