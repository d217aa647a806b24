import type { SuppressedBy } from './types.js';

/**
 * Where the customer stands when the decision is made:
 * - `new`: created by this run;
 * - `existing`: had an account already: never invited again;
 * - `invitation-due`: exists, and an earlier run decided to invite them but was cut off before
 *   the message was started (a `pending`, not deferred, ledger entry): the invitation is still owed.
 */
export type CustomerSituation = 'new' | 'existing' | 'invitation-due';

export interface InvitationPolicyInput {
  customer: CustomerSituation;
  /** --no-invite */
  noInvite: boolean;
  /** --defer-invites */
  defer: boolean;
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
  if (input.noInvite) {
    return { action: 'suppress', suppressedBy: 'flag', reason: suppressedReason('flag') };
  }
  if (input.defer) {
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
  noInvite: boolean;
  defer: boolean;
  project: { sendVerificationEmails: boolean };
}

/** The decision for one customer under a run's flags and its project's setting. */
export function decideForRun(run: RunPolicy, customer: CustomerSituation): InvitationDecision {
  return decideInvitation({
    customer,
    noInvite: run.noInvite,
    defer: run.defer,
    projectSendsInvitations: run.project.sendVerificationEmails,
  });
}

/** What a whole run's `suppressedBy` is, from its configuration (docs/contract.md). */
export function runSuppressedBy(noInvite: boolean, projectSendsInvitations: boolean): SuppressedBy | null {
  if (!projectSendsInvitations) return 'project-setting';
  if (noInvite) return 'flag';
  return null;
}
