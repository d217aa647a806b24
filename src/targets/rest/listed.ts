/**
 * The accounts a desk's customer listing showed this run (`GET .../servicedesk/{id}/customer`, in
 * pages of 50): a row whose account is among them is known without a user search. A sync or a plan
 * reads the listing anyway (to find removals); with it, N rows already customers cost N/50 listing
 * requests instead of N searches, and only rows not in it are searched for (or learnt from the
 * create's answer). The members read from the project's organizations are added too: they are
 * its customers as well (docs/jsm-api.md, Organizations).
 *
 * The rule is findAccount's (provision.ts), applied to what the listing showed: a row naming a
 * username is that listed account when it is active and has the row's email; a row matched by
 * email is the one active listed account with that email. Where the listing cannot decide (no
 * such customer, an inactive one, two with the email) the row is searched for as before, so the
 * dry run and the real run still meet the same reasons. One difference, on purpose: when another
 * active account outside the project has the same email, the customer the project already has is
 * the row's account (a search alone would call the email ambiguous).
 */
import type { Account } from './accounts.js';
import { sameEmail } from './accounts.js';
import type { AccountMatch } from './identity.js';

export class ListedAccounts {
  #byName = new Map<string, Account>();
  #byEmail = new Map<string, Account[]>();

  /** Records an account a listing showed. */
  add(account: Account): void {
    const name = account.name.toLowerCase();
    const before = this.#byName.get(name);
    this.#byName.set(name, account);
    if (before !== undefined) this.#unindex(before);
    const email = account.email.trim().toLowerCase();
    if (email.includes('@')) this.#byEmail.set(email, [...(this.#byEmail.get(email) ?? []), account]);
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The listed account of a row, or undefined when the listing cannot say (the row is searched for). */
  find(row: { email: string; username?: string | undefined }, match: AccountMatch = 'email'): Account | undefined {
    const byName = row.username ?? (match === 'jsm-username' ? row.email : undefined);
    if (byName === undefined && match === 'username') return undefined;
    if (byName !== undefined) {
      const account = this.#byName.get(byName.toLowerCase());
      return account !== undefined && account.active && sameEmail(account.email, row.email) ? account : undefined;
    }
    const listed = this.#byEmail.get(row.email.trim().toLowerCase()) ?? [];
    const active = listed.filter((a) => a.active);
    return active.length === 1 ? active[0] : undefined;
  }

  #unindex(account: Account): void {
    const email = account.email.trim().toLowerCase();
    const rest = (this.#byEmail.get(email) ?? []).filter((a) => a !== account);
    if (rest.length > 0) this.#byEmail.set(email, rest);
    else this.#byEmail.delete(email);
  }
}
