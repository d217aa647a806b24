import { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { suppressedReason } from '../../core/invitation-policy.js';
import { printable } from '../../core/printable.js';
import type { Target } from '../../core/target.js';
import type { CustomerDetail, InvitationRecord, InvitationView, ProjectInfo } from '../../core/types.js';
import { emailKey } from '../../core/validate.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import type { Output } from '../io/output.js';
import { failed, type CommandResult } from '../io/result.js';
import { columns } from '../io/render.js';
import { common, oneEmail, parseSettings, projectOption, usageCheck } from '../settings/settings.js';

/** `--email` checked as one person's address, with the other settings. */
const customersShowSchema = z.object({ ...common, project: projectOption, email: z.string().transform((value, ctx) => usageCheck(ctx, () => oneEmail(value)) ?? z.NEVER) });

export function customersShowCommand(): Command {
  const command = new Command('show')
    .description('show one customer: name, email, organizations, and their invitation (state, dates, Message-ID)')
    .requiredOption('--email <address>', "the customer's email address");
  return addCommonOptions(addProjectOption(command))
    .addHelpText('after', '\nExample:\n  $ jsm-provision customers show --project ITH --email maria@example.com --json')
    .action(action('customers show', showCustomer));
}

/** What `customers show` found: the account, its organizations on the project, its invitation. */
export interface CustomerShown {
  customer: CustomerDetail | undefined;
  organizations: string[];
  invitation: InvitationRecord | undefined;
}

/** The customer, the project's organizations they are a member of, and their invitation in the ledger. */
export async function findShown(target: Target, project: ProjectInfo, key: string): Promise<CustomerShown> {
  const customer = await target.findCustomer(project, key);
  const invitation = target.ledger.get(project.key, key);
  const organizations: string[] = [];
  if (customer !== undefined) {
    const names = new Set([key, ...(customer.account !== undefined ? [customer.account.toLowerCase()] : [])]);
    for (const org of (await target.organizations(project)).filter((o) => o.inProject)) {
      const members = await target.organizationMembers(org);
      if ([...names].some((n) => members.has(n))) organizations.push(org.name);
    }
  }
  return { customer, organizations: organizations.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), invitation };
}

async function showCustomer(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(customersShowSchema, raw);
  const { email } = options;
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const shown = await findShown(target, project, emailKey(email));
      if (shown.customer === undefined && shown.invitation === undefined) {
        const message = `${printable(email, 80)} is not a customer in ${target.location}, and has no invitation in ${project.key}`;
        const hint = `add them with: jsm-provision add-customer --project ${project.key} --email ${printable(email, 80)} --name "<full name>"`;
        // Exit 1, not 2: the command worked and the answer is "no such customer" (2 is for a
        // command that could not ask: usage or configuration).
        const unknown = new UsageError('unknown-customer', message, hint);
        return failed(unknown, { target: target.kind, project: project.key }, 'problems');
      }
      return { outcome: 'done', json: { target: target.kind, project: project.key, ...renderShownJson(shown) }, text: renderShownText(project.key, shown) };
    },
  );
}

function viewOf(record: InvitationRecord): InvitationView {
  return record.status === 'sending' ? 'in-doubt' : record.status;
}

/** The `--json` fields (pure): `customer` null when only the ledger knows the address. */
export function renderShownJson(shown: CustomerShown): Record<string, unknown> {
  const { customer, invitation } = shown;
  return {
    customer: customer === undefined ? null : { ...customer, organizations: shown.organizations },
    invitation:
      invitation === undefined
        ? null
        : {
            status: viewOf(invitation),
            kind: invitation.kind,
            deferred: invitation.deferred,
            language: invitation.language ?? null,
            messageId: invitation.messageId ?? null,
            updatedAt: invitation.updatedAt,
            reason: invitation.reason ?? (invitation.suppressedBy ? suppressedReason(invitation.suppressedBy) : null),
          },
  };
}

/** The words (pure): one field a line. */
export function renderShownText(project: string, shown: CustomerShown): string {
  const { customer, invitation } = shown;
  const rows: string[][] = [];
  if (customer) {
    rows.push(['name', customer.fullName || '(none)'], ['email', customer.email]);
    if (customer.account !== undefined) rows.push(['account', `${customer.account}${customer.active === false ? ' (inactive: cannot log in)' : ''}`]);
    rows.push(['customer of', customer.projects ? (customer.projects.length > 0 ? customer.projects.join(', ') : '(no project)') : customer.inProject === null ? `(JSM does not say whether of ${project})` : project]);
    if (customer.createdAt !== undefined) rows.push(['created', customer.createdAt]);
    if (customer.passwordSet !== undefined) rows.push(['password', customer.mustChangePassword ? 'set by an administrator; must be changed at first login' : customer.passwordSet ? 'set' : 'none predefined (set through the portal)']);
    rows.push(['organizations', shown.organizations.length > 0 ? shown.organizations.join(', ') : `(none of ${project})`]);
  } else if (invitation) {
    rows.push(['name', invitation.fullName || '(none)'], ['email', invitation.email], ['account', `(none in the target: only the ledger of ${project} knows this address)`]);
  }
  if (invitation) {
    const view = viewOf(invitation);
    const what = invitation.kind === 'verify' ? 'verification message' : 'welcome invitation';
    const when = view === 'sent' ? `sent ${invitation.updatedAt}` : `${view}${invitation.deferred && view === 'pending' ? ' (deferred)' : ''} since ${invitation.updatedAt}`;
    rows.push(['invitation', `${what}, ${when}`]);
    if (invitation.messageId !== undefined) rows.push(['Message-ID', invitation.messageId]);
    if (invitation.language !== undefined) rows.push(['language', invitation.language]);
    const reason = invitation.reason ?? (invitation.suppressedBy ? suppressedReason(invitation.suppressedBy) : undefined);
    if (reason !== undefined) rows.push(['reason', reason]);
  } else {
    rows.push(['invitation', `none recorded in ${project} (jsm-provision invites only the customers it creates)`]);
  }
  return columns(rows).join('\n');
}
