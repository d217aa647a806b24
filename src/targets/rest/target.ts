import { TargetError } from '../../core/errors.js';
import { mapLimit } from '../../core/pool.js';
import { ProvisionStopped, type InvitationLedger, type Lookup, type LookupRow, type ProvisionRequest, type Target } from '../../core/target.js';
import type { CustomerDetail, CustomerView, OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo, ProvisionOutcome, SettingChange } from '../../core/types.js';
import { removeInBatches, RestOrganizations } from './organizations.js';
import type { LedgerFile } from '../../store/ledger-file.js';
import { Discovery, reachable, versionAtLeast, type JsmVersion } from './discovery.js';
import type { HttpClient } from '../http/http.js';
import { accountByUsername, accountsByEmail, sameEmail, toAccount } from './accounts.js';
import { ListedAccounts } from './listed.js';
import { emailsHiddenError, organizationsHiddenError, readIdentity, type AccountMatch, type Identity } from './identity.js';
import { flushIntents, IntentLog, LANDED_WITHIN_MS, readLeftIntents, settleLeftIntents, type LeftIntents } from '../../store/intents.js';

const UNPROVEN_REASON =
  "an earlier run that was cut off sent this account's create, and the account exists, but that run never learned whether its create made it (another run of the same rows may have, and invited them): not sent by itself (send it with: invitations send --in-doubt)";
const UNSURE_REASON =
  'an earlier run that was cut off meant to create this account; it was missing after that run, and found only after its create could have landed, so it may have been made another way: not sent by itself (send it with: invitations send --in-doubt)';
import { addMembers, findAccount, provisionRow, type Created, type RowContext } from './provision.js';
import { describeAnswer, EXPERIMENTAL, isExperimentalRefusal, pageSchema, propertySchema, settingSchema, userSchema } from './wire.js';

/** The project property that holds "Do not send account verification emails" for this tool. */
export const SETTING_PROPERTY = 'jsm-provision.customer-notifications';
/** JSM gained its own "Do not send account verification emails" switch in this version. */
const OWN_SWITCH_SINCE: [number, number, number] = [3, 10, 0];
/** Usernames per membership call. */
const MEMBERS_PER_CALL = 50;

export interface RestTargetParts {
  http: HttpClient;
  ledger: InvitationLedger;
  ledgerStore: LedgerFile;
  onWarn?: (message: string) => void;
  onNote?: (message: string) => void;
  /** How rows without a username are matched to accounts (default 'email'). */
  match?: AccountMatch;
}

/**
 * JSM Server/Data Center over REST. Customers are created by calls that send no email from JSM,
 * then added to the desk in batches; invitations are this tool's (the ledger file beside it).
 */
export class RestTarget implements Target {
  readonly kind = 'rest' as const;
  readonly lookupIsCheap = false;
  readonly ledger: InvitationLedger;
  #http: HttpClient;
  #store: LedgerFile;
  #discovery: Discovery;
  #onWarn: (message: string) => void;
  #onNote: (message: string) => void;
  /** Creates never answered already told (`unknownNoted`); a flush failed (`abandoned`: close() writes nothing more). */
  #flushState = { unknownNoted: 0, abandoned: false };
  #intents: IntentLog;
  #resolved: Promise<void> | undefined;
  #left: LeftIntents[] = [];
  #refusals: RowContext['refusals'] = { last: '', count: 0, anyCreated: false };
  #organizations: RestOrganizations;
  /** The resolved username of each row of the last provision call, by lower-cased email: organization memberships use it, never the email. */
  #accounts = new Map<string, string>();
  #match: AccountMatch;
  /** The customers this run read (the desk listing, members of the project's organizations): rows among them need no search. */
  #listed = new ListedAccounts();
  /** What the account can see, asked once per project before the first write ('' : no project). */
  #identities = new Map<string, Promise<Identity>>();

  constructor(parts: RestTargetParts) {
    this.#http = parts.http;
    this.ledger = parts.ledger;
    this.#store = parts.ledgerStore;
    this.#discovery = new Discovery(parts.http);
    this.#onWarn = parts.onWarn ?? (() => undefined);
    this.#onNote = parts.onNote ?? (() => undefined);
    this.#intents = new IntentLog(parts.ledgerStore.path);
    this.#organizations = new RestOrganizations(parts.http);
    this.#match = parts.match ?? 'email';
  }

  #identity(projectKey?: string): Promise<Identity> {
    const key = projectKey ?? '';
    let identity = this.#identities.get(key);
    if (!identity) {
      identity = readIdentity(this.#http, projectKey);
      this.#identities.set(key, identity);
      identity.catch(() => this.#identities.delete(key));
    }
    return identity;
  }

  /**
   * Before anything is written for rows: where emails cannot be searched (hidden, masked, no
   * Browse permission), rows matched by email would make second accounts: the run stops, unless
   * each row names its username or another way of matching was chosen.
   */
  async #checkEmails(projectKey: string | undefined, byEmail: boolean): Promise<void> {
    if (this.#match !== 'email' || !byEmail) return;
    const identity = await this.#identity(projectKey);
    if (identity.emailsHidden !== null) {
      const error = emailsHiddenError(this.location, identity);
      this.#http.stop(error);
      throw error;
    }
  }

  /** Before organizations are read for a run or written: an account that sees only its own would make duplicates. */
  async #checkOrganizations(project: ProjectInfo): Promise<void> {
    const identity = await this.#identity(project.key);
    if (!identity.seesAllOrganizations) throw organizationsHiddenError(this.location, identity, project.key);
    // Organizations are written before the first customer: the emails are checked before them too.
    await this.#checkEmails(project.key, true);
  }

  /** Basic logins sent so far (0 with a token). */
  get logins(): number {
    return this.#http.logins;
  }

  get location(): string {
    return this.#http.baseUrl.href.replace(/\/$/, '');
  }

  /** The ledger file of this instance. */
  get ledgerPath(): string {
    return this.#store.path;
  }

  /**
   * Whether the credentials work, and for whom (`GET /rest/api/2/myself`), and the JSM version.
   * Reads only (`doctor`): no intent of an earlier run is settled.
   */
  async access(): Promise<{ user: string; displayName: string | null; jsmVersion: string }> {
    const answer = await reachable(this.#http, () => this.#http.request('GET', '/rest/api/2/myself'));
    const user = userSchema.safeParse(answer.body);
    if (answer.status !== 200 || !user.success) {
      throw new TargetError('bad-answer', `JSM did not say whom the credentials belong to (GET /rest/api/2/myself: ${describeAnswer(answer.status, answer.body)})`);
    }
    const version = await this.#discovery.version();
    return { user: user.data.name, displayName: user.data.displayName ?? null, jsmVersion: version.text };
  }

  /** The service project of this key, found as getProject finds it; reads only (`doctor`). */
  async findProject(key: string): Promise<{ key: string; name: string }> {
    const desk = await this.#discovery.desk(key);
    return { key: desk.projectKey, name: desk.projectName };
  }

  async getProject(key: string): Promise<ProjectInfo> {
    const desk = await this.#discovery.desk(key);
    this.#resolved ??= this.#resolveLeftIntents();
    await this.#resolved;
    const version = await this.#discovery.version();
    return this.#info(desk.projectKey, desk.projectName, desk.id, version, await this.#readSetting(desk.projectKey));
  }

  async listProjects(): Promise<ProjectInfo[]> {
    const desks = await this.#discovery.allDesks();
    const version = await this.#discovery.version();
    // The setting is one call per project: read it, bounded, only for what is returned.
    return mapLimit(desks, 4, async (d) => this.#info(d.projectKey, d.projectName, d.id, version, await this.#readSetting(d.projectKey)));
  }

  async createProject(): Promise<ProjectInfo> {
    throw new TargetError('unsupported', `create projects in JSM (Projects > Create project) at ${this.location}; this tool creates them in the local store only`);
  }

  async setSendVerificationEmails(key: string, send: boolean): Promise<SettingChange> {
    const before = await this.getProject(key);
    const path = this.#propertyPath(before.key);
    const answer = await reachable(this.#http, () => this.#http.request('PUT', path, { json: { sendVerificationEmails: send } }));
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 204) {
      throw new TargetError('setting-refused', `JSM did not store the setting of ${before.key} (${describeAnswer(answer.status, answer.body)})`);
    }
    const version = await this.#discovery.version();
    return { project: { ...before, sendVerificationEmails: send }, previous: before.sendVerificationEmails, notes: settingNotes(version) };
  }

  /** What the real run would find for each row: findAccount, the rule provisionRow applies. */
  async lookup(rows: readonly LookupRow[]): Promise<Lookup[]> {
    // A dry run meets the stop a real run would meet.
    await this.#checkEmails(undefined, rows.some((r) => r.username === undefined));
    return mapLimit(rows, this.#http.pacer.maxInFlight, async (row): Promise<Lookup> => {
      // A customer the listing showed is known without a search (listed.ts has the rule).
      if (this.#listed.find(row, this.#match) !== undefined) return 'existing';
      const found = await findAccount(this.#http, row, this.#match);
      return found === 'absent' || 'failed' in found ? found : 'existing';
    });
  }

  async provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    const deskId = project.deskId ?? (await this.getProject(project.key)).deskId ?? '';
    await this.#checkEmails(project.key, rows.some((r) => r.username === undefined));
    const outcomes: ProvisionOutcome[] = rows.map(() => NOT_PROCESSED);
    const batches: Promise<void>[] = [];
    let pending: Created[] = [];
    /** Rows whose account exists now (created or found), by index: what a stop leaves them. */
    const accounts = new Map<number, Created>();
    /** What stopped the run (the instance refused it): the rows not done yet are not started. */
    let stop: TargetError | undefined;
    this.#accounts.clear();
    const send = (): void => {
      const batch = pending;
      pending = [];
      for (const c of batch) this.#accounts.set(rows[c.index]?.key ?? '', c.username);
      const done = addMembers(this.#http, deskId, project.key, batch).then((results) => {
        for (const [index, outcome] of results) {
          outcomes[index] = outcome;
          onRowDone?.();
        }
      });
      // Held for the end; a rejection (the run stopping) is also seen there.
      done.catch((error: unknown) => {
        if (error instanceof TargetError) stop ??= error;
      });
      batches.push(done);
    };
    try {
      const ctx: RowContext = { http: this.#http, intents: this.#intents, refusals: this.#refusals, match: this.#match, listed: this.#listed };
      // More rows under way than requests in flight: a row waiting for its intent to reach the
      // disk holds no request slot, so the pacer keeps the limit busy (it caps what is in flight).
      const maxInFlight = this.#http.pacer.maxInFlight;
      await mapLimit(rows, maxInFlight === 1 ? 1 : maxInFlight * 3, async (row, index) => {
        if (stop) return;
        let created;
        try {
          created = await provisionRow(ctx, row, index);
        } catch (error) {
          if (!(error instanceof TargetError)) throw error;
          stop ??= error;
          return;
        }
        if ('failed' in created) {
          outcomes[index] = { status: 'failed', reason: created.failed };
          onRowDone?.();
          return;
        }
        accounts.set(index, created);
        pending.push(created);
        if (pending.length >= MEMBERS_PER_CALL) send();
      });
      if (pending.length > 0 && !stop) send();
    } finally {
      // Never leave a membership call running behind a stopped run.
      await Promise.allSettled(batches);
    }
    await Promise.all(batches).catch((error: unknown) => {
      if (!(error instanceof TargetError)) throw error;
    });
    if (stop) throw new ProvisionStopped(stop, outcomes.map((o, index) => (o === NOT_PROCESSED ? stoppedOutcome(stop as TargetError, accounts.get(index), project.key) : o)));
    return outcomes;
  }

  async *listCustomers(project: ProjectInfo): AsyncIterable<CustomerView> {
    const deskId = project.deskId ?? (await this.getProject(project.key)).deskId ?? '';
    const path = `/rest/servicedeskapi/servicedesk/${encodeURIComponent(deskId)}/customer`;
    let start = 0;
    for (;;) {
      const answer = await reachable(this.#http, () =>
        this.#http.request('GET', path, { query: { start, limit: 50 }, headers: EXPERIMENTAL, pass: [403] }),
      );
      const parsed = pageSchema(userSchema).safeParse(answer.body);
      if (answer.status !== 200 || !parsed.success) throw this.#listingRefused(project, answer.status, answer.body);
      for (const user of parsed.data.values) {
        this.#listed.add(toAccount(user));
        yield { email: user.emailAddress ?? user.name, fullName: user.displayName ?? user.name, passwordSet: false, mustChangePassword: false, account: user.name };
      }
      const values = parsed.data.values;
      if (parsed.data.isLastPage !== false || values.length === 0) return;
      start += values.length;
    }
  }

  /**
   * The account of an email: the active one when there is exactly one (as a row would resolve it),
   * else the only one there is. Whether it is a customer of the desk is not asked: DC has no call
   * for one customer, and listing the desk's customers is not in its reference.
   */
  async findCustomer(project: ProjectInfo, key: string): Promise<CustomerDetail | undefined> {
    // Where emails cannot be matched, a search finds nobody: say so rather than "not a customer".
    await this.#checkEmails(project.key, true);
    const accounts = await reachable(this.#http, () => accountsByEmail(this.#http, key)).catch((error: unknown) => {
      if (error instanceof TargetError) throw error;
      throw new TargetError('bad-answer', (error as Error).message);
    });
    const active = accounts.filter((a) => a.active);
    const account = active.length === 1 ? active[0] : accounts.length === 1 ? accounts[0] : undefined;
    if (account === undefined) {
      if (accounts.length === 0) return undefined;
      throw new TargetError('ambiguous-account', `${key} is the email of ${accounts.length} accounts (${accounts.map((a) => a.name).join(', ')}), ${active.length} of them active`, 'Jira does not keep emails unique: look the accounts up in Jira\'s user management');
    }
    const answer = await reachable(this.#http, () => this.#http.request('GET', '/rest/api/2/user', { query: { username: account.name } }));
    const user = userSchema.safeParse(answer.body);
    const fullName = answer.status === 200 && user.success ? (user.data.displayName ?? account.name) : account.name;
    return { email: account.email, fullName, inProject: null, account: account.name, active: account.active };
  }

  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    await this.#checkOrganizations(project);
    return this.#organizations.organizations(await this.#withDesk(project));
  }

  async organizationMembers(org: OrganizationInfo): Promise<Set<string>> {
    // The members of an organization on the project are its customers (docs/jsm-api.md): known accounts, as the desk's listing.
    return this.#organizations.members(org, org.inProject ? (user) => this.#listed.add(toAccount(user)) : undefined);
  }

  async createOrganization(name: string): Promise<OrganizationInfo> {
    return this.#organizations.create(name);
  }

  async addOrganizationToProject(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    await this.#organizations.addToDesk(await this.#withDesk(project), org);
  }

  async joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return this.#organizations.join(org, members.map((m) => (m.account !== undefined ? m : { ...m, account: this.#accounts.get(m.key) ?? m.email })));
  }

  async removeFromProject(project: ProjectInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const deskId = (await this.#withDesk(project)).deskId ?? '';
    const refused = new Map<string, string>();
    const named = await this.#named(project, members, refused);
    for (const [key, why] of await removeInBatches(this.#http, `/rest/servicedeskapi/servicedesk/${encodeURIComponent(deskId)}/customer`, named)) {
      // JSM takes customers out only of a project whose access is restricted (docs/jsm-api.md): say what to change.
      refused.set(key, /\b400\b/.test(why) ? `${why} (JSM removes customers only from a project open to the customers its agents and admins add, not to everyone: Project settings > Customer permissions)` : why);
    }
    return refused;
  }

  /**
   * The members with their usernames: JSM removes by username, and answers 204 for one it does not
   * have, so an email sent in place of a different username would remove nobody and say nothing.
   * A name comes from the caller, this run's rows, or `seen` (an organization's member list read);
   * one without is looked up by email, as findCustomer does; one with no account at all is not a
   * customer or member (left as it is); one whose email is ambiguous, or that cannot be looked up,
   * is refused with the reason.
   */
  async #named(
    project: ProjectInfo | undefined,
    members: readonly OrganizationMember[],
    refused: Map<string, string>,
    seen: (key: string) => string | undefined = () => undefined,
  ): Promise<OrganizationMember[]> {
    const knownName = (m: OrganizationMember): string | undefined => m.account ?? this.#accounts.get(m.key) ?? seen(m.key);
    if (members.some((m) => knownName(m) === undefined)) await this.#checkEmails(project?.key, true);
    const named = await mapLimit(members, this.#http.pacer.maxInFlight, async (m): Promise<OrganizationMember | undefined> => {
      const known = knownName(m);
      if (known !== undefined) return { ...m, account: known };
      let accounts;
      try {
        accounts = await reachable(this.#http, () => accountsByEmail(this.#http, m.email));
      } catch (error) {
        if (error instanceof TargetError) throw error;
        refused.set(m.key, `${(error as Error).message}: run the same command again`);
        return undefined;
      }
      const active = accounts.filter((a) => a.active);
      const account = active.length === 1 ? active[0] : accounts.length === 1 ? accounts[0] : undefined;
      if (account !== undefined) return { ...m, account: account.name };
      if (accounts.length > 0) {
        const names = accounts.map((a) => a.name).join(', ');
        refused.set(m.key, `${accounts.length} Jira accounts have the email ${m.email} (${names}), ${active.length} of them active: which one to take out is not known; do it in JSM, or fix the directory so that one account has the email`);
      }
      return undefined;
    });
    return named.filter((m): m is OrganizationMember => m !== undefined);
  }

  async leaveOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const named = await this.#named(undefined, members, refused, (key) => this.#organizations.knownUsername(key));
    for (const [key, why] of await this.#organizations.leave(org, named)) refused.set(key, why);
    return refused;
  }

  async listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]> {
    return this.#organizations.list(project ? await this.#withDesk(project) : undefined);
  }

  async #withDesk(project: ProjectInfo): Promise<ProjectInfo> {
    return project.deskId !== undefined ? project : this.getProject(project.key);
  }

  async flush(): Promise<void> {
    // A create sent by a killed run may have landed since the start: its invitation is owed.
    await flushIntents(this.#flushState, {
      commit: () => this.#store.commit(),
      settleLeft: this.#left.length > 0 ? () => this.#settleLeft() : undefined,
      intents: this.#intents,
      ledger: this.ledger,
      onNote: this.#onNote,
    });
  }

  /**
   * Intents left by runs that ended before their ledger commit (a kill): an account that exists
   * now under the username the run meant to create, with that email, whose create that run saw
   * answered (or sent unanswered, with no account right after), was created by it (its look-up had
   * found none), so its invitation is owed and recorded now; one whose create was under way at the
   * cut may be another run's (the same rows, another state folder): recorded in doubt. Records
   * already in the ledger win. An intent whose account does not exist (yet) is kept while the killed run's create
   * may still land on the server (it was sent before the kill: LANDED_WITHIN_MS), and checked again
   * at the end of this run and by later runs; missing after that, it is dropped, so that someone who
   * becomes a customer another way later is not invited by this tool. One seen missing and found
   * only after that time may have been made either way: its invitation is listed in doubt.
   */
  async #resolveLeftIntents(): Promise<void> {
    this.#left = await readLeftIntents(this.#intents);
    await this.#settleLeft();
  }

  async #settleLeft(): Promise<void> {
    const { left, owed, unsure } = await settleLeftIntents(this.#left, {
      ledger: this.ledger,
      commit: () => this.#store.commit(),
      maxInFlight: this.#http.pacer.maxInFlight,
      // Made by the run: the account it meant to create, under that username, active, with that email.
      account: async (i) => {
        const account = await reachable(this.#http, () => accountByUsername(this.#http, i.username)).catch((error: unknown) => {
          if (error instanceof TargetError) throw error;
          throw new TargetError('bad-answer', (error as Error).message);
        });
        if (account == null) return 'absent';
        return account.active && sameEmail(account.email, i.record.email) ? 'made' : 'other';
      },
      // Owed for sure only when the run knew its create made the account (JSM answered it), or knew
      // it sent one that nobody else's explains (never answered, no account right after). Else
      // another run of the same rows (another state folder) may have made it and invited them; or,
      // seen missing and found only after the create could have landed, it was made another way.
      unsure: (i, now) =>
        i.record.status !== 'pending' ? undefined : i.absentSeen === true && now - i.at > LANDED_WITHIN_MS ? UNSURE_REASON : i.made === undefined ? UNPROVEN_REASON : undefined,
    });
    this.#left = left;
    if (owed > 0) this.#onNote(`${owed} invitation(s) of customers created by an earlier run that was cut off are owed: recorded as pending`);
    if (unsure > 0) this.#onNote(`${unsure} account(s) that an earlier run, cut off, meant to create exist, but nothing proves that run made them (another run, or someone else, may have): their invitations are listed as in doubt (invitations list --status in-doubt), not sent by themselves`);
  }


  async close(): Promise<void> {
    try {
      if (!this.#flushState.abandoned) await this.flush();
    } finally {
      await this.#http.close();
    }
  }

  #info(key: string, name: string, deskId: string, version: JsmVersion, send: boolean): ProjectInfo {
    return {
      key,
      name,
      sendVerificationEmails: send,
      portalUrl: `${this.location}/servicedesk/customer/portal/${deskId}`,
      deskId,
      jsmVersion: version.text,
    };
  }

  #propertyPath(key: string): string {
    return `/rest/api/2/project/${encodeURIComponent(key)}/properties/${SETTING_PROPERTY}`;
  }

  /** No property means invitations are sent; one this tool cannot read is reported and treated as "send". */
  async #readSetting(key: string): Promise<boolean> {
    const answer = await reachable(this.#http, () => this.#http.request('GET', this.#propertyPath(key)));
    if (answer.status === 404) return true;
    const property = propertySchema.safeParse(answer.body);
    if (answer.status !== 200 || !property.success) {
      throw new TargetError('bad-answer', `JSM did not give the setting of ${key} (${describeAnswer(answer.status, answer.body)})`);
    }
    const setting = settingSchema.safeParse(property.data.value);
    if (setting.success) return setting.data.sendVerificationEmails;
    this.#onWarn(
      `the project property ${SETTING_PROPERTY} of ${key} is not {"sendVerificationEmails": true|false}; invitations are sent until it is set again with project set-notifications`,
    );
    return true;
  }

  #listingRefused(project: ProjectInfo, status: number, body: unknown): TargetError {
    if (status === 403 && !isExperimentalRefusal(status, body)) {
      return new TargetError(
        'customer-listing-unavailable',
        `${this.location} refused to list the customers of ${project.key} to this account (GET .../servicedesk/${project.deskId}/customer: ${describeAnswer(status, body)})`,
        `the account needs to see the project's customers: make it an agent or an administrator of ${project.key} (or a Jira administrator); meanwhile, jsm-provision invitations list --project ${project.key} shows whom this tool invited`,
      );
    }
    const why = isExperimentalRefusal(status, body) ? 'it refused the experimental API' : describeAnswer(status, body);
    return new TargetError(
      'customer-listing-unavailable',
      `${this.location} does not offer the experimental customer listing of JSM (GET .../servicedesk/${project.deskId}/customer: ${why})`,
      `see the customers of ${project.key} in JSM (Project settings > Customers, or the Customers page of the project); jsm-provision invitations list --project ${project.key} shows whom this tool invited`,
    );
  }
}

/** A row's outcome until its work is done. */
const NOT_PROCESSED: ProvisionOutcome = { status: 'failed', reason: 'not processed' };

/** What a row not finished when the instance refused the run is left with. */
function stoppedOutcome(stop: TargetError, account: Created | undefined, projectKey: string): ProvisionOutcome {
  if (account === undefined) return { status: 'failed', reason: `not processed: the run stopped (${stop.message}); run the same command again to finish` };
  const why = `it was not made a customer of ${projectKey}: the run stopped (${stop.message}); run the same command again to finish`;
  return account.status === 'created'
    ? { status: 'failed', reason: `the account was created, but ${why}`, accountCreated: true }
    : { status: 'failed', reason: `the account exists, but ${why}` };
}

/** What the admin should know about JSM's own emails on this version. */
export function settingNotes(version: JsmVersion): string[] {
  const own = versionAtLeast(version, OWN_SWITCH_SINCE);
  const tool = 'This setting governs the invitations jsm-provision sends; jsm-provision never makes JSM send an email itself.';
  if (own === false) {
    return [
      tool,
      `This JSM (${version.text}) cannot stop its own verification emails: that needs JSM 3.10.0 or newer. JSM still sends them when an agent invites a customer from the Customers page, or when someone's first request arrives by email.`,
    ];
  }
  return [
    tool,
    `JSM's own switch (Project settings > Customer notifications > "Do not send account verification emails") governs the emails JSM sends itself; it has no REST API, so change it there if JSM should stay silent too.`,
    ...(own === null ? [`(The JSM version "${version.text}" could not be read; that switch exists from JSM 3.10.0.)`] : []),
  ];
}
