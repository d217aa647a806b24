import { messageOf } from './errors.js';
import { DEFAULT_CONCURRENCY } from './pool.js';
import type { InvitationOutcome, RowResult } from './results.js';
import type { Target } from './target.js';
import { MailError, type InvitationKind, type InvitationRecord, type Mailer, type ProjectInfo } from './types.js';
import { emailKey } from './validate.js';

/** Gives each invitation its deterministic Message-ID. */
export type MessageIds = (project: string, key: string, kind: InvitationKind) => string;

export interface SendContext {
  target: Target;
  mailer: () => Promise<Mailer>;
  messageId: MessageIds;
  runId: string;
  mailConcurrency?: number;
  /** Aborted on interrupt: no new batch is claimed; messages in flight finish. */
  signal?: AbortSignal;
  /** Called with the number of invitations sent (or failed) so far, for progress. */
  onSent?: (count: number) => void;
  /** A deliberate second sending (`--again`): each message gets `messageId`'s id, not the one recorded. */
  freshMessageId?: boolean;
}

const CLAIM_BATCH = 32;

/** The reason on a row whose invitation is still owed because the run was interrupted. */
export const NOT_SENT_INTERRUPTED = 'not sent: the run was interrupted; run the same command again to send it';

export interface SendOutcome {
  outcome: Exclude<InvitationOutcome, 'none' | 'suppressed'>;
  reason?: string;
}

export interface SendTotals {
  sent: number;
  failed: number;
  inDoubt: number;
}

/** What a sending pass did: each invitation's outcome, and what stopped it early, if anything. */
export interface SendPass {
  outcomes: Map<string, SendOutcome>;
  /**
   * The ledger could not be written (a full disk): no more was claimed, and what was claimed but
   * not yet sent was not sent. Outcomes after the last durable write are known here, not recorded.
   */
  stopped?: unknown;
}

/**
 * Sends invitations at most once. Each is first claimed in the ledger (pending -> sending, durable),
 * then sent; the server's acceptance makes it `sent`; a refusal makes it `failed` (may be retried);
 * a connection lost after the data went out leaves it `sending`, which later runs show as in doubt
 * and never send by themselves. With `expected` (the records as the caller listed them), records
 * that are not pending (failed, in doubt) are claimed too, each only if nobody changed it since.
 */
export async function sendRecords(
  project: ProjectInfo,
  keys: readonly string[],
  ctx: SendContext,
  expected?: ReadonlyMap<string, InvitationRecord>,
): Promise<SendPass> {
  const outcomes = new Map<string, SendOutcome>();
  const concurrency = ctx.mailConcurrency ?? DEFAULT_CONCURRENCY;
  // Claimed in small batches: each claim is one durable write, which also makes the outcomes sent
  // before it durable. The next batch is claimed as soon as nothing claimed is left waiting, while
  // the last ones are still in flight, so the senders do not stop at each batch's end. A crash
  // leaves in doubt at most what was claimed and has no durable outcome: those in flight and one
  // batch, `size` in all (32 by default), as before claims overlapped the sending.
  const size = Math.max(CLAIM_BATCH, concurrency * 2);
  const batch = size - concurrency;
  const batches: string[][] = [];
  for (let start = 0; start < keys.length; start += batch) batches.push(keys.slice(start, start + batch));
  const waiting: InvitationRecord[] = [];
  let next = 0;
  let claiming: Promise<void> | null = null;
  let failure: unknown;
  // Records (as claimed) whose outcome was set since the last claim began: durable with the next
  // claim. When a claim fails, those it was to carry, and all set after, are on disk still `sending`.
  let unrecorded: InvitationRecord[] = [];
  const lost: InvitationRecord[] = [];
  // Asked for once, when the first invitation is ready to go (not at all when none is claimed).
  let mailerReady: Promise<Mailer> | undefined;
  const claimNext = (): Promise<void> | null => {
    // Interrupted: nothing new is claimed; what was claimed is still sent.
    if (claiming !== null || next >= batches.length || (next > 0 && ctx.signal?.aborted)) return claiming;
    // A resend (failed, in doubt) claims each record only if it is still as listed: the same gate.
    const carried = unrecorded;
    unrecorded = [];
    claiming = ctx.target.ledger
      .claimForSending(project.key, batches[next++] ?? [], ctx.runId, expected)
      .then((claimed) => void waiting.push(...claimed))
      .catch((error: unknown) => {
        failure ??= error;
        lost.push(...carried);
      })
      .finally(() => {
        claiming = null;
      });
    return claiming;
  };
  const sender = async (): Promise<void> => {
    for (;;) {
      // The ledger cannot be written: nothing more leaves, as no outcome could be recorded.
      if (failure !== undefined) return;
      const record = waiting.shift();
      if (record === undefined) {
        const claim = claimNext();
        if (claim === null) return;
        await claim;
        continue;
      }
      const mailer = await (mailerReady ??= ctx.mailer());
      const messageId = (ctx.freshMessageId ? undefined : record.messageId) ?? ctx.messageId(project.key, record.key, record.kind);
      const outcome = await sendOne(mailer, project, record, messageId);
      outcomes.set(record.key, outcome);
      ctx.onSent?.(outcomes.size);
      const status = outcome.outcome === 'sent' ? 'sent' : outcome.outcome === 'failed' ? 'failed' : 'sending';
      const updated: InvitationRecord = { ...record, status, messageId, updatedAt: new Date().toISOString() };
      if (outcome.reason) updated.reason = outcome.reason;
      else delete updated.reason;
      // Durable with the next claim or the run's last flush; until then a crash leaves it in doubt.
      ctx.target.ledger.update(updated);
      unrecorded.push(record);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, sender));
  if (failure === undefined) return { outcomes };
  // The store could not be written: the outcomes it never got are, as far as it knows, in doubt.
  // Said so on each, and put back as the store has them, so that counts agree with it.
  const why = messageOf(failure);
  for (const record of [...lost, ...unrecorded]) {
    const known = outcomes.get(record.key);
    const what = known?.outcome === 'sent' ? 'accepted by the mail server' : known?.outcome === 'failed' ? `not sent (${known.reason ?? 'failed'})` : 'perhaps delivered';
    outcomes.set(record.key, { outcome: 'in-doubt', reason: `${what}, but the store could not record it (${why}): it shows as in doubt; see: invitations send --in-doubt` });
    ctx.target.ledger.update(record);
  }
  return { outcomes, stopped: failure };
}

async function sendOne(mailer: Mailer, project: ProjectInfo, record: InvitationRecord, messageId: string): Promise<SendOutcome> {
  try {
    await mailer.send({
      kind: record.kind,
      to: { email: record.email, fullName: record.fullName },
      project: { key: project.key, name: project.name, ...(project.portalUrl ? { portalUrl: project.portalUrl } : {}) },
      mustChangePassword: record.mustChangePassword,
      ...(record.language !== undefined ? { language: record.language } : {}),
      messageId,
    });
    return { outcome: 'sent' };
  } catch (error) {
    if (error instanceof MailError && error.inDoubt) {
      return {
        outcome: 'in-doubt',
        reason: `${error.message}; it may have been delivered, so it is not sent again by itself (see: invitations send --in-doubt)`,
      };
    }
    const reason = messageOf(error);
    return { outcome: 'failed', reason: `${reason}; retry with: invitations send --failed (and the same --smtp or --outbox)` };
  }
}

/** Sends the invitations of rows settled in this run and writes each outcome on its row. */
export async function sendClaimed(rows: RowResult[], project: ProjectInfo, ctx: SendContext): Promise<SendTotals & { stopped?: unknown }> {
  const { outcomes, stopped } = await sendRecords(project, rows.map((r) => emailKey(r.email)), ctx);
  const totals: SendTotals & { stopped?: unknown } = { sent: 0, failed: 0, inDoubt: 0 };
  if (stopped !== undefined) totals.stopped = stopped;
  const why = messageOf(stopped);
  for (const row of rows) {
    const outcome = outcomes.get(emailKey(row.email));
    if (!outcome) {
      const record = ctx.target.ledger.get(project.key, emailKey(row.email));
      if (record?.status === 'pending') {
        row.invitation = 'pending';
        row.reason = stopped === undefined ? NOT_SENT_INTERRUPTED : `not sent: the store could not be written (${why}); run the same command again when it can`;
      } else if (stopped !== undefined && record?.status === 'sending' && record.runId === ctx.runId) {
        // Claimed (durably) but never sent: the store says "being sent", and could not be told otherwise.
        row.invitation = 'in-doubt';
        row.reason = `not sent, but recorded as being sent before the store could not be written (${why}): it shows as in doubt; send it with: invitations send --in-doubt`;
        totals.inDoubt++;
      } else {
        row.invitation = 'none';
        row.reason = 'its invitation is being sent by another run';
      }
      continue;
    }
    row.invitation = outcome.outcome;
    if (outcome.reason) row.reason = outcome.reason;
    if (outcome.outcome === 'sent') totals.sent++;
    else if (outcome.outcome === 'failed') totals.failed++;
    else totals.inDoubt++;
  }
  return totals;
}
