import type { SuppressedBy } from './types.js';

/**
 * Where the customer stands when the decision is made:
 * - `new`: created by this run;
 * - `existing`: had an account already: never invited again;
 * - `invitation-due`: exists, and an earlier run decided to invite them but was cut off before
 *   the message was started (a `pending`, not deferred, ledger entry): the invitation is still owed.
 */
export type CustomerSituation = 'new' | 'existing' | 'invitation-due';

/** Whether a run invites new customers now, records them as pending (--defer-invites), or not at all (--no-invite). */
export type InvitationsSetting = 'send' | 'defer' | 'none';

export interface InvitationPolicyInput {
  customer: CustomerSituation;
  invitations: InvitationsSetting;
  /** The project's setting: false when "Do not send account verification emails" is on. */
  projectSendsInvitations: boolean;
}

export type InvitationDecision =
  | { action: 'send'; reason: string }
  | { action: 'defer'; reason: string }
  | { action: 'suppress'; suppressedBy: SuppressedBy; reason: string }
  | { action: 'none'; reason: string };

/**
 * The one place that decides whether an invitation goes out, and why not.
 * The project setting wins over the flag when both apply (docs/contract.md `suppressedBy`).
 */
export function decideInvitation(input: InvitationPolicyInput): InvitationDecision {
  if (input.customer === 'existing') {
    return { action: 'none', reason: 'already a customer: not invited again' };
  }
  if (!input.projectSendsInvitations) {
    return { action: 'suppress', suppressedBy: 'project-setting', reason: suppressedReason('project-setting') };
  }
  if (input.invitations === 'none') {
    return { action: 'suppress', suppressedBy: 'flag', reason: suppressedReason('flag') };
  }
  if (input.invitations === 'defer') {
    return { action: 'defer', reason: '--defer-invites: pending until `invitations send`' };
  }
  return {
    action: 'send',
    reason: input.customer === 'new' ? 'new customer' : 'owed by an earlier run that was cut off',
  };
}

/** Why an invitation was suppressed, in words (also for ledger records, which keep only `suppressedBy`). */
export function suppressedReason(by: SuppressedBy): string {
  return by === 'flag' ? 'the run was given --no-invite' : 'the project says "Do not send account verification emails"';
}

/** What a run asks, as the policy needs it. */
export interface RunPolicy {
  invitations: InvitationsSetting;
  project: { sendVerificationEmails: boolean };
}

/** The decision for one customer under a run's flags and its project's setting. */
export function decideForRun(run: RunPolicy, customer: CustomerSituation): InvitationDecision {
  return decideInvitation({
    customer,
    invitations: run.invitations,
    projectSendsInvitations: run.project.sendVerificationEmails,
  });
}

/** What a whole run's `suppressedBy` is, from its configuration (docs/contract.md). */
export function runSuppressedBy(invitations: InvitationsSetting, projectSendsInvitations: boolean): SuppressedBy | null {
  if (!projectSendsInvitations) return 'project-setting';
  if (invitations === 'none') return 'flag';
  return null;
}
