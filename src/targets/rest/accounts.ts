/**
 * Finding the Jira account of an email address. On Data Center the username is rarely the email
 * (LDAP/AD: `jsmith` for john.smith@corp.example) and emails are not unique, so an address is
 * resolved by the user search (it matches username, display name and email), keeping the exact
 * email matches without regard to case, inactive accounts included so they can be named.
 */
import type { HttpClient } from '../http/http.js';
import { RequestFailed } from '../http/http.js';
import { describeAnswer, userSchema } from './wire.js';
import { z } from 'zod';

export interface Account {
  name: string;
  email: string;
  active: boolean;
  /** The account's display name, when JSM gives it. */
  displayName?: string;
}

const SEARCH = '/rest/api/2/user/search';
const PAGE = 100;
const usersSchema = z.array(userSchema);

/** A look-up that got an answer it cannot use: the row fails with this reason. */
export class LookupFailed extends Error {
  override readonly name = 'LookupFailed';
}

/** Every account whose email is `email` (any case), active or not. Throws RequestFailed or LookupFailed. */
export async function accountsByEmail(http: HttpClient, email: string): Promise<Account[]> {
  const wanted = email.trim().toLowerCase();
  const found: Account[] = [];
  for (let startAt = 0; ; startAt += PAGE) {
    const answer = await http.request('GET', SEARCH, { query: { username: email.trim(), includeInactive: 'true', maxResults: PAGE, startAt } });
    const users = usersSchema.safeParse(answer.body);
    if (answer.status !== 200 || !users.success) {
      throw new LookupFailed(`JSM did not answer the user search for ${email} (${describeAnswer(answer.status, answer.body)})`);
    }
    for (const u of users.data) {
      if ((u.emailAddress ?? '').trim().toLowerCase() === wanted) found.push(toAccount(u));
    }
    // A short page is the last; a search that ignores startAt is not read twice.
    if (users.data.length < PAGE || startAt >= 10 * PAGE) break;
  }
  return dedupe(found);
}

/** The account with this username, or null (`GET /rest/api/2/user?username=`). */
export async function accountByUsername(http: HttpClient, username: string): Promise<Account | null> {
  const answer = await http.request('GET', '/rest/api/2/user', { query: { username } });
  if (answer.status === 404) return null;
  const user = userSchema.safeParse(answer.body);
  if (answer.status !== 200 || !user.success) {
    throw new LookupFailed(`JSM did not say whether the user ${username} exists (${describeAnswer(answer.status, answer.body)})`);
  }
  return toAccount(user.data);
}

/** What the look-up means for a row. */
export type Resolution =
  | { kind: 'existing'; account: Account; inactiveOthers: Account[] }
  | { kind: 'absent' }
  | { kind: 'inactive'; accounts: Account[] }
  | { kind: 'ambiguous'; accounts: Account[] }
  | { kind: 'mismatch'; account: Account };

/** Resolves a row: by its username when the input names one, else by its email. */
export async function resolveAccount(http: HttpClient, email: string, username?: string): Promise<Resolution> {
  if (username !== undefined) {
    const account = await accountByUsername(http, username);
    if (!account) return { kind: 'absent' };
    if (!account.active) return { kind: 'inactive', accounts: [account] };
    if (!sameEmail(account.email, email)) return { kind: 'mismatch', account };
    return { kind: 'existing', account, inactiveOthers: [] };
  }
  const accounts = await accountsByEmail(http, email);
  const active = accounts.filter((a) => a.active);
  if (active.length === 1 && active[0]) return { kind: 'existing', account: active[0], inactiveOthers: accounts.filter((a) => !a.active) };
  if (active.length > 1) return { kind: 'ambiguous', accounts: active };
  if (accounts.length > 0) return { kind: 'inactive', accounts };
  return { kind: 'absent' };
}

/**
 * Whether an account's email, as JSM shows it, is `wanted`: a masked one (`john dot smith at corp
 * dot example`) is read back; a hidden one (none) cannot say no, so the username decides.
 */
export function sameEmail(shown: string, wanted: string): boolean {
  const a = shown.trim().toLowerCase();
  const b = wanted.trim().toLowerCase();
  if (a === '') return true;
  if (a === b) return true;
  return !a.includes('@') && a.replace(/ at /g, '@').replace(/ dot /g, '.') === b;
}

/** Reasons a person can act on. */
export function inactiveReason(accounts: readonly Account[]): string {
  const names = accounts.map((a) => a.name).join(', ');
  const which = accounts.length === 1 ? `the account ${names}` : `the accounts ${names}`;
  const are = accounts.length === 1 ? 'is' : 'are';
  return `${which} (${accounts[0]?.email ?? ''}) ${are} inactive: reactivate it in Jira's user management, then run again; it was not added to the project and not invited`;
}

export function ambiguousReason(email: string, accounts: readonly Account[]): string {
  const names = accounts.map((a) => a.name).join(', ');
  return `${accounts.length} active Jira accounts have the email ${email} (${names}): pick one with a username column (or --map username=<column>), or fix the directory so that one account has it`;
}

export function mismatchReason(email: string, account: Account): string {
  return `the username ${account.name} belongs to an account with another email (${account.email || 'none'}), not ${email}: correct the username or the email of this row`;
}

export function toAccount(u: z.infer<typeof userSchema>): Account {
  return { name: u.name, email: (u.emailAddress ?? '').trim(), active: u.active !== false, ...(u.displayName !== undefined && u.displayName !== null ? { displayName: u.displayName } : {}) };
}

function dedupe(accounts: Account[]): Account[] {
  const seen = new Set<string>();
  return accounts.filter((a) => {
    const k = a.name.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export { RequestFailed };
