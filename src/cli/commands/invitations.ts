import { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { suppressedReason } from '../../core/invitation-policy.js';
import { sendRecords } from '../../core/send.js';
import type { InvitationRecord, InvitationView } from '../../core/types.js';
import { action, withTarget } from '../action.js';
import { checkRestDelivery, mailSetup, newRunId, openTarget, resolveProject } from '../context.js';
import { invitationsPreviewCommand } from './invitations-preview.js';
import { addCommonOptions, addMailOptions, addProjectOption, type CommonOptions, type MailOptions, type ProjectOption } from '../options.js';
import type { Output } from '../output.js';
import { asRun } from '../signals.js';
import { askConfirm, canPrompt } from '../prompts.js';

const VIEWS: InvitationView[] = ['pending', 'in-doubt', 'failed', 'sent', 'suppressed'];

/** `sending` at rest means a run started it and never saw it accepted: in doubt. */
export function invitationView(record: InvitationRecord): InvitationView {
  return record.status === 'sending' ? 'in-doubt' : record.status;
}

export function invitationsCommand(): Command {
  const invitations = new Command('invitations').description('list invitations, and send those deferred, failed or in doubt');
  addCommonOptions(
    addProjectOption(
      invitations
        .command('list')
        .description('list the invitations of a project')
        .addOption(new Option('--status <status>', 'only those in this state').choices(VIEWS)),
    ),
  )
    .addHelpText('after', '\nExample:\n  $ jsm-provision invitations list --project ITH --status in-doubt')
    .action(action('invitations list', listInvitations));
  addCommonOptions(
    addMailOptions(
      addProjectOption(
        invitations
          .command('send')
          .description("send pending invitations, under the project's setting as it is now")
          .option('--in-doubt', 'also send those in doubt (a cut-off run may have sent them already)')
          .option('--failed', 'also retry those that failed')
          .option('-y, --yes', 'do not ask for confirmation in a terminal'),
      ),
    ),
  )
    .addHelpText('after', '\nExamples:\n  $ jsm-provision invitations send --project ITH\n  $ jsm-provision invitations send --project ITH --failed --yes')
    .action(action('invitations send', sendInvitations));
  invitations.addCommand(invitationsPreviewCommand());
  return invitations;
}

async function listInvitations(out: Output, options: CommonOptions & ProjectOption & { status?: InvitationView }): Promise<number> {
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const records = target.ledger
        .list(project.key)
        .filter((r) => options.status === undefined || invitationView(r) === options.status);
      const rows = records.map((r) => ({
        email: r.email,
        fullName: r.fullName,
        status: invitationView(r),
        kind: r.kind,
        deferred: r.deferred,
        messageId: r.messageId ?? null,
        updatedAt: r.updatedAt,
        reason: r.reason ?? (r.suppressedBy ? suppressedReason(r.suppressedBy) : null),
      }));
      out.jsonResult({ ok: true, command: 'invitations list', target: target.kind, project: project.key, invitations: rows });
      if (rows.length === 0) out.result(`no invitations${options.status ? ` ${options.status}` : ''} in ${project.key}`);
      else out.result(rows.map((r) => `${r.status.padEnd(10)} ${r.email}  ${r.fullName}${r.reason ? `  (${r.reason})` : ''}`).join('\n'));
      return 0;
    },
  );
}

type SendOptions = CommonOptions & ProjectOption & MailOptions & { inDoubt?: boolean; failed?: boolean; yes?: boolean };

async function sendInvitations(out: Output, options: SendOptions): Promise<number> {
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const wanted = new Set<InvitationView>(['pending']);
      if (options.inDoubt) wanted.add('in-doubt');
      if (options.failed) wanted.add('failed');
      const due = target.ledger.list(project.key).filter((r) => wanted.has(invitationView(r)));
      const mail = mailSetup(options, target, [...new Set(due.map((r) => r.kind))], (message) => out.warn(message));
      const totals = { sent: 0, suppressed: 0, failed: 0, pending: 0, inDoubt: 0, suppressedBy: null as 'project-setting' | null, outbox: mail.outbox };
      const problems: { email: string; status: string; reason: string }[] = [];
      let interrupted = () => false;
      try {
        if (!project.sendVerificationEmails) {
          totals.suppressed = due.length;
          totals.suppressedBy = 'project-setting';
        } else if (due.length > 0) {
          checkRestDelivery(target, options);
          if (!options.yes && canPrompt() && !(await askConfirm(`Send ${due.length} invitation(s) for ${project.key}?`))) {
            throw new UsageError('declined', 'the send was not confirmed: nothing was sent');
          }
          // Preflight: the SMTP server takes the sender, or the outbox can be written, before any claim.
          await mail.preflight();
          // The claim is the one gate to sending: each record is claimed only if it is still as
          // listed here, under the lock, so two sends at once (resends too) never send one twice.
          const expected = new Map(due.map((r) => [r.key, { ...r }]));
          const outcomes = await asRun(async (signal) => {
            interrupted = () => signal.aborted;
            return sendRecords(project, due.map((r) => r.key), { target, mailer: mail.mailer, messageId: mail.messageId, runId: newRunId(), signal }, expected);
          });
          const leftToOthers = interrupted() ? 0 : due.filter((r) => !outcomes.has(r.key)).length;
          if (leftToOthers > 0) out.note(`${leftToOthers} invitation(s) were claimed by another run meanwhile (or are being sent by one): left to it`);
          for (const record of due) {
            const outcome = outcomes.get(record.key);
            if (outcome?.outcome === 'sent') totals.sent++;
            else if (outcome) {
              if (outcome.outcome === 'failed') totals.failed++;
              problems.push({ email: record.email, status: outcome.outcome, reason: outcome.reason ?? outcome.outcome });
            }
          }
        }
      } finally {
        await mail.close();
      }
      for (const note of mail.templates.notes()) out.note(note);
      totals.pending = target.ledger.count(project.key, 'pending');
      totals.inDoubt = target.ledger.count(project.key, 'sending');
      const ok = problems.length === 0 && !interrupted();
      out.jsonResult({
        ok,
        command: 'invitations send',
        target: target.kind,
        project: project.key,
        invitations: totals,
        problems,
        ...(interrupted() ? { error: { code: 'interrupted', message: 'interrupted: the invitations not yet sent stay pending', hint: 'run the same command again to send them' } } : {}),
      });
      if (totals.suppressedBy) {
        out.result(`${project.key} says "Do not send account verification emails": nothing sent; ${due.length} invitation(s) stay as they are`);
      } else {
        const where = totals.sent > 0 ? (mail.outbox ? ` to the outbox ${mail.outbox}` : ' by SMTP') : '';
        out.result(`invitations for ${project.key}: ${totals.sent} sent${where}, ${totals.failed} failed, ${totals.inDoubt} in doubt, ${totals.pending} pending`);
        for (const p of problems) out.result(`  ${p.email}: [${p.status}] ${p.reason}`);
      }
      if (interrupted()) {
        out.note('Interrupted: the invitations not yet sent stay pending; run the same command again to send them.');
        return 130;
      }
      return ok ? 0 : 1;
    },
  );
}
