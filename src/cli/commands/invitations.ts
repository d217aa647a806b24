import { Command, Option } from 'commander';
import { z } from 'zod';
import { errorBody } from '../../core/errors.js';
import { suppressedReason } from '../../core/invitation-policy.js';
import { planResend, resend, type ResendOutcome } from '../../core/resend.js';
import type { InvitationRecord, InvitationView } from '../../core/types.js';
import { runIsLive } from '../../store/lock.js';
import { action, withTarget } from '../program/action.js';
import { ledgerOf, openTarget, resolveProject, type LedgerPlace } from '../runs/context.js';
import { SendSession } from '../runs/send-session.js';
import { invitationsPreviewCommand } from './invitations-preview.js';
import { sendOneInvitation } from './invitations-send-one.js';
import { addCommonOptions, addMailOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import { common, invitationsSendSchema, parseSettings, projectOption } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import type { CommandResult, Outcome } from '../io/result.js';
import { columns, plural } from '../io/render.js';
import { storeStopped } from '../runs/run-rows.js';
import { askConfirm, canConfirm } from '../io/prompts.js';

const VIEWS: InvitationView[] = ['pending', 'in-doubt', 'sending', 'failed', 'sent', 'suppressed'];

/** `invitations list`: commander checks --status against VIEWS; the schema types it. */
const invitationsListSchema = z.object({ ...common, project: projectOption, status: z.enum(['pending', 'in-doubt', 'sending', 'failed', 'sent', 'suppressed']).optional() });

/**
 * `sending` at rest means a run started it and never saw it accepted: in doubt; unless that run is
 * alive on this host, sending it right now (a resend of in-doubt invitations leaves it alone too).
 */
export function invitationView(record: InvitationRecord): InvitationView {
  if (record.status !== 'sending') return record.status;
  return runIsLive(record.runId) ? 'sending' : 'in-doubt';
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
          .option('--email <address>', "send only this customer's invitation (pending or failed; in doubt with --in-doubt; sent with --again)")
          .option('--again', 'with --email: send it once more although it was sent (under a new Message-ID)')
          .option('-y, --yes', 'do not ask for confirmation in a terminal'),
      ),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ jsm-provision invitations send --project ITH\n  $ jsm-provision invitations send --project ITH --failed --yes\n' +
        '  $ jsm-provision invitations send --project ITH --email maria@example.com --again',
    )
    .action(action('invitations send', sendInvitations));
  invitations.addCommand(invitationsPreviewCommand());
  return invitations;
}

async function listInvitations(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(invitationsListSchema, raw);
  const ledger = await ledgerOf(options.target);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      noteMissingLedger(out, target.location, ledger);
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
      const json = { target: target.kind, project: project.key, ledger, count: rows.length, invitations: rows };
      const from = `(ledger: ${ledger.path})`;
      if (rows.length === 0) return { outcome: 'done', json, text: `no invitations${options.status ? ` ${options.status}` : ''} in ${project.key} ${from}` };
      const lines = columns(rows.map((r) => [r.status, r.email, `${r.fullName}${r.reason ? `  (${r.reason})` : ''}`]));
      return { outcome: 'done', json, text: [...lines, `${plural(rows.length, 'invitation')}${options.status ? ` ${options.status}` : ''} in ${project.key} ${from}`].join('\n') };
    },
  );
}

async function sendInvitations(out: Output, raw: CommonOptions): Promise<CommandResult> {
  // Parse: every option checked and typed once.
  const options = parseSettings(invitationsSendSchema, raw);
  const ledger = await ledgerOf(options.target);
  if (options.email !== undefined) return sendOneInvitation(out, { ...options, email: options.email }, ledger);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      noteMissingLedger(out, target.location, ledger);
      const listed = planResend(target, project, { inDoubt: options.inDoubt, failed: options.failed });
      const { due } = listed;
      const session = new SendSession(options.mail, target, project, out, [...new Set(due.map((r) => r.kind))]);
      const plan = { ...listed, project: session.project };
      let outcome: ResendOutcome;
      try {
        if (plan.decision.action === 'send' && due.length > 0) {
          const go = await session.prepare(options.yes || !canConfirm() ? undefined : () => askConfirm(`Send ${due.length} invitation(s) for ${project.key}?`));
          // Declined: as for the imports, exit 130 (stopped by the person, nothing done) with the reason in `error`.
          if (!go) return { outcome: 'stopped', json: { target: target.kind, project: project.key, error: { code: 'declined', message: 'the send was not confirmed: nothing was sent' } }, notes: ['Nothing was sent.'] };
        }
        outcome = await session.run((ports) => resend(plan, { ...ports, target }));
      } finally {
        await session.close();
      }
      session.notes();
      if (outcome.leftToOthers > 0) out.note(`${outcome.leftToOthers} invitation(s) were claimed by another run meanwhile (or are being sent by one): left to it`);
      const stopped = outcome.stopped === undefined ? undefined : storeStopped(outcome.stopped, '');
      const text = renderResendText(project.key, due.length, outcome, session.outbox, ledger);
      return {
        outcome: resendOutcome(outcome),
        json: { ...renderResendJson(target.kind, project.key, outcome, session.outbox, ledger), ...(stopped ? { error: errorBody(stopped) } : {}) },
        text,
        // --quiet prints only errors: invitations that failed are, so an exit 1 says why (stderr).
        quietWords: () => text,
        errors: stopped ? [stopped] : [],
        notes: outcome.interrupted ? ['Interrupted: the invitations not yet sent stay pending; run the same command again to send them.'] : [],
      };
    },
  );
}

/**
 * A REST ledger that is not there: this machine (with this JSM_STATE_DIR / XDG_STATE_HOME) never
 * recorded an invitation for the instance. Said, so that "no invitations" is not taken for the
 * truth about a ledger kept elsewhere.
 */
function noteMissingLedger(out: Output, location: string, ledger: LedgerPlace): void {
  if (ledger.exists) return;
  out.warn(
    `no invitation ledger for ${location} at ${ledger.path}: no run with this JSM_STATE_DIR (or XDG_STATE_HOME) on this machine recorded invitations there. If the imports ran elsewhere, run this where they ran, or point JSM_STATE_DIR at the folder that holds their ledger`,
  );
}

/** The keys of `invitations send`'s JSON object after `ok` and `command` (pure). */
export function renderResendJson(target: string, project: string, outcome: ResendOutcome, outbox: string | null, ledger: LedgerPlace): Record<string, unknown> {
  return {
    target,
    project,
    ledger,
    invitations: { ...outcome.totals, outbox },
    problems: outcome.problems,
    ...(outcome.interrupted ? { error: { code: 'interrupted', message: 'interrupted: the invitations not yet sent stay pending', hint: 'run the same command again to send them' } } : {}),
  };
}

/** The human summary of `invitations send` (pure). */
export function renderResendText(project: string, listed: number, outcome: ResendOutcome, outbox: string | null, ledger: LedgerPlace): string {
  const t = outcome.totals;
  if (t.suppressedBy) return `${project} says "Do not send account verification emails": nothing sent; ${listed} invitation(s) stay as they are (ledger: ${ledger.path})`;
  const where = t.sent > 0 ? (outbox ? ` to the outbox ${outbox}` : ' by SMTP') : '';
  return [
    `invitations for ${project}: ${t.sent} sent${where}, ${t.failed} failed, ${t.inDoubt} in doubt, ${t.pending} pending (ledger: ${ledger.path})`,
    ...outcome.problems.map((p) => `  ${p.email}: [${p.status}] ${p.reason}`),
  ].join('\n');
}

/** Stopped when interrupted; problems when an invitation was not sent (listed in problems) or the store stopped it; else done. */
export function resendOutcome(outcome: ResendOutcome): Outcome {
  if (outcome.interrupted) return 'stopped';
  if (outcome.stopped !== undefined) return 'problems';
  return outcome.problems.length === 0 ? 'done' : 'problems';
}
