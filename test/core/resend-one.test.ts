/** One person's invitation on an admin's word: the same gates as every send (the project's setting, the ledger's claim). */
import { describe, expect, it } from 'vitest';
import { planOne, sendOne, type OnePlan } from '../../src/core/resend-one.js';
import type { SendContext } from '../../src/core/send.js';
import type { InvitationRecord, Mailer } from '../../src/core/types.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { MemoryTarget } from '../support/memory-target.js';
import { RecordingMailer } from '../support/recording-reporter.js';

const ALIVE = () => false;

function setup(status: InvitationRecord['status'], extra: Partial<InvitationRecord> = {}, sendVerificationEmails = true) {
  const target = MemoryTarget.withProject('ITH', 'IT Help', sendVerificationEmails);
  target.addCustomer('maria@example.com', 'Maria Silva', ['ITH']);
  const record: InvitationRecord = {
    project: 'ITH', key: 'maria@example.com', email: 'maria@example.com', fullName: 'Maria Silva', kind: 'welcome',
    status, deferred: false, mustChangePassword: false, updatedAt: '2026-12-01T10:00:00.000Z', ...extra,
  };
  target.ledger.add([record]);
  const mailer = new RecordingMailer();
  const ctx: SendContext = { target, mailer: async (): Promise<Mailer> => mailer, messageId: messageIdFor, runId: 'one-run' };
  return { target, mailer, ctx };
}

async function planFor(target: MemoryTarget, selection = { inDoubt: false, again: false }, email = 'Maria@Example.com'): Promise<OnePlan> {
  return planOne(target, await target.getProject('ITH'), email, selection, ALIVE);
}

describe('invitations send --email', () => {
  it('sends a pending or failed invitation, under its recorded Message-ID', async () => {
    for (const status of ['pending', 'failed'] as const) {
      const { target, mailer, ctx } = setup(status);
      const plan = await planFor(target);
      expect(plan.ok).toBe(true);
      const outcome = await sendOne(plan as Extract<OnePlan, { ok: true }>, ctx);
      expect(outcome).toMatchObject({ outcome: 'sent', before: status, messageId: messageIdFor('ITH', 'maria@example.com', 'welcome') });
      expect(mailer.attempts).toEqual(['maria@example.com']);
      expect(target.ledger.get('ITH', 'maria@example.com')?.status).toBe('sent');
    }
  });

  it('an invitation sent already goes again only with --again, under a new Message-ID derived from the first', async () => {
    const first = messageIdFor('ITH', 'maria@example.com', 'welcome');
    const { target, mailer, ctx } = setup('sent', { messageId: first });
    const refused = await planFor(target);
    expect(refused).toMatchObject({ ok: false, refusal: { code: 'already-sent', message: `maria@example.com's invitation was sent already (2026-12-01T10:00:00.000Z, Message-ID ${first}); an invitation is sent at most once unless you ask for it again`, hint: expect.stringContaining('--again') } });
    const plan = await planFor(target, { inDoubt: false, again: true });
    const outcome = await sendOne(plan as Extract<OnePlan, { ok: true }>, ctx);
    expect(outcome).toMatchObject({ outcome: 'sent', before: 'sent' });
    expect(outcome.messageId).toMatch(/^<[0-9a-f]{32}@jsm-provision\.invalid>$/);
    expect(outcome.messageId).not.toBe(first);
    expect(mailer.sent[0]?.messageId).toBe(outcome.messageId);
    expect(target.ledger.get('ITH', 'maria@example.com')).toMatchObject({ status: 'sent', messageId: outcome.messageId });
  });

  it('an invitation in doubt goes only with --in-doubt, under the Message-ID it may have arrived with', async () => {
    const id = messageIdFor('ITH', 'maria@example.com', 'welcome');
    const { target, mailer, ctx } = setup('sending', { runId: 'dead-run', messageId: id });
    expect(await planFor(target)).toMatchObject({ ok: false, refusal: { code: 'invitation-in-doubt', hint: expect.stringContaining('--in-doubt') } });
    expect(await planOne(target, await target.getProject('ITH'), 'maria@example.com', { inDoubt: true, again: false }, () => true)).toMatchObject({ ok: false, refusal: { code: 'being-sent' } });
    const plan = await planFor(target, { inDoubt: true, again: false });
    expect(await sendOne(plan as Extract<OnePlan, { ok: true }>, ctx)).toMatchObject({ outcome: 'sent', before: 'in-doubt', messageId: id });
    expect(mailer.attempts).toEqual(['maria@example.com']);
  });

  it("honours the project's setting as it is now, and says so; sends nothing", async () => {
    const { target, mailer, ctx } = setup('pending', {}, false);
    const plan = await planFor(target);
    expect(await sendOne(plan as Extract<OnePlan, { ok: true }>, ctx)).toMatchObject({ outcome: 'suppressed', suppressedBy: 'project-setting', before: 'pending' });
    expect(mailer.attempts).toEqual([]);
    expect(target.ledger.get('ITH', 'maria@example.com')?.status).toBe('pending');
  });

  it('an address with no invitation is refused, naming the way to see what is recorded', async () => {
    const { target } = setup('pending');
    expect(await planFor(target, undefined, 'nobody@example.com')).toMatchObject({ ok: false, refusal: { code: 'no-invitation', hint: 'see what is recorded with: jsm-provision invitations list --project ITH' } });
  });
});
