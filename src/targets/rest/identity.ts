/**
 * What the account the tool runs as can see, asked before the first write (docs/jsm-api.md, "Who
 * the account is, and what it may see"): who it is (`/rest/api/2/myself`), whether it may browse users
 * (`/rest/api/2/mypermissions`, USER_PICKER), whether a user search finds its own email (User
 * email visibility Hidden or Masked: it does not), and whether it sees every organization of the
 * project (an agent of it, or an admin; others see only their own organizations).
 */
import { z } from 'zod';
import { TargetError } from '../../core/errors.js';
import { accountsByEmail, LookupFailed, RequestFailed } from './accounts.js';
import { reachable } from './discovery.js';
import type { HttpClient } from '../http/http.js';
import { describeAnswer, userSchema } from './wire.js';

/** How a row's account is found (`--match-accounts`). */
export type AccountMatch = 'email' | 'username' | 'jsm-username';
export const ACCOUNT_MATCHES: readonly AccountMatch[] = ['email', 'username', 'jsm-username'];

export interface Identity {
  /** The account's username. */
  name: string;
  /** null when a search finds accounts by email; else why not, in words. */
  emailsHidden: string | null;
  /** Whether the account sees every organization (an agent of the project, or an admin); true when that could not be read. */
  seesAllOrganizations: boolean;
}

/** Permissions asked for: browsing users, and what makes JSM show every organization. */
const PERMISSIONS = ['USER_PICKER', 'ADMINISTER', 'SYSTEM_ADMIN', 'ADMINISTER_PROJECTS', 'SERVICEDESK_AGENT'] as const;
const permissionsSchema = z
  .object({ permissions: z.record(z.string(), z.object({ havePermission: z.boolean() }).loose()) })
  .loose();

export async function readIdentity(http: HttpClient, projectKey: string | undefined): Promise<Identity> {
  const myself = await reachable(http, () => http.request('GET', '/rest/api/2/myself'));
  const me = userSchema.safeParse(myself.body);
  if (myself.status !== 200 || !me.success) {
    throw new TargetError('bad-answer', `JSM did not say who this account is (GET /rest/api/2/myself: ${describeAnswer(myself.status, myself.body)})`);
  }
  const name = me.data.name;
  const query: Record<string, string> = { permissions: PERMISSIONS.join(',') };
  if (projectKey !== undefined) query.projectKey = projectKey;
  const answer = await reachable(http, () => http.request('GET', '/rest/api/2/mypermissions', { query, pass: [400, 404] }));
  const parsed = permissionsSchema.safeParse(answer.body);
  // An instance that cannot say (an old version): the searches below still tell.
  const have = (key: string): boolean | undefined => (answer.status === 200 && parsed.success ? parsed.data.permissions[key]?.havePermission : undefined);
  const admin = have('ADMINISTER') === true || have('SYSTEM_ADMIN') === true;
  const agent = have('SERVICEDESK_AGENT') === true || have('ADMINISTER_PROJECTS') === true;
  const known = answer.status === 200 && parsed.success && PERMISSIONS.some((p) => have(p) !== undefined);
  return { name, emailsHidden: await emailsHidden(http, name, me.data.emailAddress, have('USER_PICKER')), seesAllOrganizations: !known || admin || agent };
}

async function emailsHidden(http: HttpClient, name: string, email: string | undefined, browse: boolean | undefined): Promise<string | null> {
  if (browse === false) return `the account ${name} lacks the global permission Browse users and groups, so JSM answers every user search with an empty list`;
  const own = (email ?? '').trim();
  if (own === '') return `JSM shows no email addresses to ${name} (User email visibility: Hidden)`;
  if (!own.includes('@')) return `JSM shows email addresses masked ("${own}"; User email visibility: Masked), and a search does not match them`;
  try {
    const found = await accountsByEmail(http, own);
    if (found.some((a) => a.name.toLowerCase() === name.toLowerCase())) return null;
  } catch (error) {
    if (error instanceof RequestFailed || error instanceof LookupFailed) {
      throw new TargetError('bad-answer', `JSM did not answer the user search that checks whether emails can be matched (${error.message})`);
    }
    throw error;
  }
  return `a user search for the account's own email (${own}) does not find ${name}: emails are hidden from searches (User email visibility), or ${name} may not browse users`;
}

/** The stop when rows would be matched by email on an instance that hides them. */
export function emailsHiddenError(where: string, identity: Identity): TargetError {
  return new TargetError(
    'emails-not-matchable',
    `accounts cannot be found by email on ${where}: ${identity.emailsHidden}. Someone who already has an account (an LDAP account jsmith, say) would be taken for new and given a second account, so nothing was written`,
    `ask a Jira admin to set Administration > System > General configuration > User email visibility to Public and to give ${identity.name} the global permission Browse users and groups; or choose how accounts are found: --match-accounts username (each row names its account in a username column) or --match-accounts jsm-username (the account JSM itself makes, whose username is the email: someone with another account gets a second one)`,
  );
}

/** The stop before organizations are written by an account that does not see them all. */
export function organizationsHiddenError(where: string, identity: Identity, projectKey: string): TargetError {
  return new TargetError(
    'organizations-not-visible',
    `the account ${identity.name} is neither an agent of ${projectKey} nor a Jira admin on ${where}, so JSM shows it only the organizations it belongs to: those it cannot see would be created a second time, so nothing was written`,
    `give ${identity.name} the agent role in ${projectKey} (or run as a Jira admin), or run without organization columns and --organization`,
  );
}
