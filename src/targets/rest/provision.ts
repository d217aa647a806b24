/**
 * One row on REST: resolve the account from the email (or the username the input names); an
 * existing one is used as it is (its username for every later call, its password never touched);
 * a missing one is created after the intent to invite is durable. Whatever a create answers
 * besides 201 (or when its answer is lost), the account is looked up again and the outcome comes
 * from that fact, never from the words of the message. Neither create makes JSM send an email:
 * `POST /rest/servicedeskapi/customer` sends none, and `POST /rest/api/2/user` is asked not to.
 */
import { TargetError } from '../../core/errors.js';
import { NAME_NEEDED } from '../../core/validate.js';
import type { ProvisionRequest } from '../../core/target.js';
import type { ProvisionOutcome } from '../../core/types.js';
import { accountByUsername, ambiguousReason, inactiveReason, LookupFailed, mismatchReason, resolveAccount, sameEmail, type Account } from './accounts.js';
import type { AccountMatch } from './identity.js';
import { RequestFailed, type Answer, type HttpClient } from '../http/http.js';
import { contested, intentUnwritable, type IntentLog } from '../../store/intents.js';
import type { ListedAccounts } from './listed.js';
import { describeAnswer, errorText, EXPERIMENTAL, i18nKeyOf, isExperimentalRefusal, isReadOnlyDirectory, userSchema } from './wire.js';

/** A row whose account now exists, waiting to be made a member of the desk. */
export interface Created {
  index: number;
  username: string;
  email: string;
  status: 'created' | 'existing';
  note?: string;
  /** Created, but not proven made by this run (its answer was lost): see `unproven`. */
  unproven?: true;
  /** An existing account's display name (the row's name is not applied to it). */
  fullName?: string;
}

export type RowDone = Created | { failed: string };

/** What a row whose create was sent but never answered is told (its intent stays owed). */
export const UNKNOWN_FATE = 'its invitation stays owed, and the next run checks for the account and invites it if the create was made; run the same command again to finish this row';

/** Creates refused alike, one after another, with no account made: the directory refuses them all. */
const ALIKE_LIMIT = 3;

export interface RowContext {
  http: HttpClient;
  intents: IntentLog;
  /** Shared by the rows of a run: identical refusals in a row (see ALIKE_LIMIT). */
  refusals: { last: string; count: number; anyCreated: boolean };
  /** How a row without a username is matched to its account (default: by email). */
  match?: AccountMatch;
  /** The customers the desk's listing showed this run: a row among them is not searched for. */
  listed?: ListedAccounts;
}


export async function provisionRow(ctx: RowContext, row: ProvisionRequest, index: number): Promise<RowDone> {
  const { http } = ctx;
  const listed = ctx.listed?.find(row, ctx.match);
  if (listed !== undefined) return existing(index, row, listed);
  const found = await findAccount(http, row, ctx.match);
  if (found === 'absent') return create(ctx, row, index);
  if ('failed' in found) return found;
  return existing(index, row, found);
}

/**
 * The one rule that decides what a row's account is, for the real run (provisionRow) and the dry
 * run (RestTarget.lookup) alike: the account to use, none (to create), or why the row fails.
 */
export async function findAccount(
  http: HttpClient,
  row: { email: string; username?: string | undefined },
  match?: AccountMatch,
): Promise<Account | 'absent' | { failed: string }> {
  // A row names its account, or (by choice, where emails cannot be searched) the account JSM makes: username = email.
  const byName = row.username ?? (match === 'jsm-username' ? row.email : undefined);
  if (byName === undefined && match === 'username') {
    return { failed: 'this row names no username, and accounts are matched by username (--match-accounts username): add a username column (or --map username=<column>)' };
  }
  let found;
  try {
    found = await resolveAccount(http, row.email, byName);
  } catch (error) {
    return { failed: lookupFailure(error, row.email) };
  }
  switch (found.kind) {
    case 'existing':
      return found.account;
    case 'inactive':
      return { failed: inactiveReason(found.accounts) };
    case 'ambiguous':
      return { failed: ambiguousReason(row.email, found.accounts) };
    case 'mismatch':
      return { failed: mismatchReason(row.email, found.account) };
    case 'absent':
      return 'absent';
  }
}

function existing(index: number, row: ProvisionRequest, account: Account): Created {
  return { index, username: account.name, email: row.email, status: 'existing', ...(account.displayName !== undefined ? { fullName: account.displayName } : {}) };
}

async function create(ctx: RowContext, row: ProvisionRequest, index: number): Promise<RowDone> {
  const { http, intents } = ctx;
  // The plan lets a row without a name through only for an account it found; one gone since then is
  // not made nameless.
  if (row.fullName === '') return { failed: NAME_NEEDED };
  // The customer API makes the username the email; a username of our own needs the platform API
  // (without a password Jira sets a random one, and notification "false" keeps it silent).
  const platform = row.password !== undefined || row.username !== undefined;
  const username = row.username ?? row.email;
  const path = platform ? '/rest/api/2/user' : '/rest/servicedeskapi/customer';
  if (row.invitation) {
    try {
      await intents.write([{ record: row.invitation, username }]);
    } catch (error) {
      // Nothing is created without its durable intent: the run stops here.
      const stop = intentUnwritable(intents.file, error);
      http.stop(stop);
      throw stop;
    }
  }
  const settle = async (): Promise<void> => {
    if (row.invitation) await intents.settle(row.invitation.project, row.invitation.key);
  };
  let answer: Answer;
  try {
    answer = platform
      ? await http.request('POST', path, {
          json: {
            name: username,
            emailAddress: row.email,
            displayName: row.fullName,
            ...(row.password ? { password: row.password.reveal() } : {}),
            notification: 'false',
            applicationKeys: [],
          },
          returnsJson: true,
        })
      : await http.request('POST', path, { json: { email: row.email, fullName: row.fullName }, headers: EXPERIMENTAL, returnsJson: true });
  } catch (error) {
    if (!(error instanceof RequestFailed)) throw error;
    // No usable answer: whether the account was made is a fact to look up, not to guess.
    const after = await lookAgain(http, username, row.email);
    if (after === 'unknown' || after === 'other') {
      const maybe = error.lostAnswers > 0 ? '; the account may have been created' : '';
      return { failed: `${error.message}${maybe}: run the same command again to finish this row` };
    }
    if (after === null) {
      if (error.lostAnswers > 0) {
        // Sent, and never answered: the create may still land on the server. Its intent stays open
        // (the file outlives this run), and the run that finds the account owes it its invitation.
        if (row.invitation) intents.made(row.invitation.project, row.invitation.key, 'unanswered');
        return { failed: `${error.message}; no account was found yet, but the create may still land: ${UNKNOWN_FATE}` };
      }
      await settle();
      return { failed: `${error.message}: run the same command again to finish this row` };
    }
    ctx.refusals.anyCreated = true;
    return unproven(ctx, row, index, after);
  }
  if (answer.status === 200 || answer.status === 201) {
    ctx.refusals.anyCreated = true;
    // Proof that this create made the account, for the run that resolves this intent if this one is cut off.
    if (row.invitation) intents.made(row.invitation.project, row.invitation.key, 'answered');
    const user = userSchema.safeParse(answer.body);
    return { index, username: user.success ? user.data.name : username, email: row.email, status: 'created' };
  }
  if (answer.status === 404 || answer.status === 405 || isExperimentalRefusal(answer.status, answer.body)) {
    throw new TargetError(
      'unsupported',
      `${http.baseUrl.href.replace(/\/$/, '')} does not accept POST ${path} (${describeAnswer(answer.status, answer.body)})`,
      platform ? 'this JSM cannot create users with a password over REST' : 'this JSM lacks the customer API this tool needs (JSM 3.x or newer): try with passwords (--password-file, or a password column)',
    );
  }
  // Refused (400, 409, ...): does the account exist now? That, not the message, decides.
  const after = await lookAgain(http, username, row.email);
  if (after === 'unknown') {
    return { failed: `JSM refused to create the customer (${describeAnswer(answer.status, answer.body)}), and whether the account exists could not be checked: run the same command again to finish this row` };
  }
  if (after === 'other') {
    await settle();
    const holder = await accountByUsername(http, username).catch(() => null);
    return { failed: holder ? mismatchReason(row.email, holder) : `JSM refused to create the customer: ${describeAnswer(answer.status, answer.body)}` };
  }
  if (after !== null) {
    if (answer.lostAnswers > 0) {
      // An earlier attempt of this call may have made it, its answer lost; or another run's create.
      ctx.refusals.anyCreated = true;
      return unproven(ctx, row, index, after);
    }
    // Made by someone else between our look-up and our create: it existed before this row's create.
    await settle();
    return existing(index, row, after);
  }
  await settle();
  refusedAlike(ctx, row, answer);
  return { failed: `JSM refused to create the customer: ${describeAnswer(answer.status, answer.body)}` };
}

/**
 * An account found after a create whose answer was lost: made by this run's create, or by another
 * run's create of the same person at the same moment (another state folder, another machine). Only
 * an answer proves which; whoever got one (a 201) invites. So this row is `created` with its
 * invitation in doubt (listed, never sent by itself); or, when another live run of this state folder
 * is creating the same customer now, `existing` here (that run counts it), with this run's intent
 * left open: if neither run learns it made the account, the next run finds it owed.
 */
async function unproven(ctx: RowContext, row: ProvisionRequest, index: number, account: Account): Promise<Created> {
  if (row.invitation && (await contested(ctx.intents, row.invitation.project, row.invitation.key))) {
    return { index, username: account.name, email: row.email, status: 'existing', note: CONTESTED };
  }
  return { index, username: account.name, email: row.email, status: 'created', unproven: true };
}

/** The note on a row another run of the same state folder was creating at the same moment. */
export const CONTESTED = 'another run was creating this customer at the same moment: that run counts and invites it (if neither run could tell which create made the account, the next run invites it)';

/**
 * The account after a create that did not answer 201: the active account with our username and
 * this email, null when there is none, 'other' when the username is held by an account with
 * another email, 'unknown' when the look-up itself failed.
 */
async function lookAgain(http: HttpClient, username: string, email: string): Promise<Account | null | 'other' | 'unknown'> {
  try {
    const account = await accountByUsername(http, username);
    if (!account) return null;
    return sameEmail(account.email, email) ? account : 'other';
  } catch (error) {
    if (error instanceof RequestFailed || error instanceof LookupFailed) return 'unknown';
    throw error;
  }
}

/** A directory that cannot hold new users stops the run once, not every row alike. */
function refusedAlike(ctx: RowContext, row: ProvisionRequest, answer: Answer): void {
  const { http, refusals } = ctx;
  const where = http.baseUrl.href.replace(/\/$/, '');
  const said = describeAnswer(answer.status, answer.body);
  if (isReadOnlyDirectory(answer.status, answer.body)) {
    const error = new TargetError(
      'directory-read-only',
      `${where} cannot create users: its user directories are read-only or delegated (JSM answered ${said}; ${i18nKeyOf(answer.body) ?? ''})`.replace(/; \)$/, ')'),
      'make a Jira internal directory writable (Administration > User management > User directories), or create the accounts in LDAP/AD first: this tool then finds them by email and adds them to the project',
    );
    http.stop(error);
    throw error;
  }
  const text = `${answer.status} ${i18nKeyOf(answer.body) ?? errorText(answer.body)}`;
  // A refusal that names the row (its email), or its password (a password policy, in its own
  // words), is about the row, not about the directory.
  if (refusals.anyCreated || text.toLowerCase().includes(row.email.toLowerCase()) || refusesPassword(answer.body)) {
    refusals.count = 0;
    return;
  }
  refusals.count = refusals.last === text ? refusals.count + 1 : 1;
  refusals.last = text;
  if (refusals.count >= ALIKE_LIMIT) {
    const error = new TargetError(
      'create-refused',
      `${where} refused every customer create alike (${said}) and made no account: its user directories may be read-only or delegated`,
      'check that a Jira directory allows new users (Administration > User management > User directories) and that this account may create users; then run again',
    );
    http.stop(error);
    throw error;
  }
}

/** The platform's field errors name the password (`{"errors":{"password":"..."}}`): a password policy refused it. */
function refusesPassword(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const errors = (body as { errors?: unknown }).errors;
  return typeof errors === 'object' && errors !== null && typeof (errors as Record<string, unknown>).password === 'string';
}

function lookupFailure(error: unknown, email: string): string {
  if (error instanceof RequestFailed) return `${error.message} while looking up ${email}: run the same command again to finish this row`;
  if (error instanceof LookupFailed) return `${error.message}: run the same command again to finish this row`;
  throw error;
}

/**
 * Makes a batch of users customers of the desk, in as few calls as JSM allows: one call for the
 * batch; a 400 that names missing users fails those rows and the rest go again; one that names no
 * one is split in two until the culprit is alone.
 */
export async function addMembers(
  http: HttpClient,
  deskId: string,
  projectKey: string,
  batch: readonly Created[],
): Promise<[number, ProvisionOutcome][]> {
  const results: [number, ProvisionOutcome][] = [];
  const path = `/rest/servicedeskapi/servicedesk/${encodeURIComponent(deskId)}/customer`;
  const fail = (c: Created, why: string): void => {
    const after = c.status === 'created' ? `the account was created, but ${why}; run the same command again to finish` : why;
    results.push([c.index, c.status === 'created' ? { status: 'failed', reason: after, accountCreated: true } : { status: 'failed', reason: after }]);
  };
  const groups: Created[][] = [[...batch]];
  while (groups.length > 0) {
    const group = groups.shift() ?? [];
    if (group.length === 0) continue;
    let answer: Answer;
    try {
      answer = await http.request('POST', path, { json: { usernames: group.map((c) => c.username) } });
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      for (const c of group) fail(c, `it could not be made a customer of ${projectKey}: ${error.message}`);
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) {
      for (const c of group) {
        results.push([c.index, c.status === 'existing' ? { status: 'existing', ...(c.note ? { note: c.note } : {}), ...(c.fullName !== undefined ? { fullName: c.fullName } : {}) } : c.unproven ? { status: 'created', unproven: true } : { status: c.status }]);
      }
      continue;
    }
    const said = describeAnswer(answer.status, answer.body);
    if (answer.status !== 400) {
      for (const c of group) fail(c, `JSM did not make it a customer of ${projectKey} (${said})`);
      continue;
    }
    const words = tokens(errorText(answer.body));
    const named = group.filter((c) => words.has(c.username.toLowerCase()));
    if (named.length > 0) {
      for (const c of named) fail(c, `JSM says the user ${c.username} does not exist, so it could not be made a customer of ${projectKey}`);
      groups.push(group.filter((c) => !named.includes(c)));
    } else if (group.length > 1) {
      const half = Math.ceil(group.length / 2);
      groups.push(group.slice(0, half), group.slice(half));
    } else {
      for (const c of group) fail(c, `JSM did not make it a customer of ${projectKey} (${said})`);
    }
  }
  return results;
}

/** The words of a message, lower-cased, with surrounding punctuation taken off (usernames keep @ . - _ +). */
function tokens(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[\s,;:'"()[\]{}<>]+/)
      .map((w) => w.replace(/^[.]+|[.]+$/g, ''))
      .filter((w) => w !== ''),
  );
}
