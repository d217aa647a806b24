/**
 * JSM Cloud over REST. People are accounts named by accountId; customers are made portal-only by
 * `POST /rest/servicedeskapi/customer` (which sends no email from Atlassian), one request per new
 * row, then added to the desk 50 accountIds a call. A 409 means the email has an account already:
 * it is used, never duplicated, and never invited. No password can be set on Cloud by API, so none
 * is ever sent; invitations are this tool's, recorded in the ledger file beside the instance's.
 */
import { closeMatches } from '../../core/close-matches.js';
import { TargetError } from '../../core/errors.js';
import { mapLimit } from '../../core/pool.js';
import { NAME_NEEDED } from '../../core/validate.js';
import { CLOUD_SETS_NO_PASSWORDS, ProvisionStopped, type InvitationLedger, type Lookup, type LookupRow, type ProvisionRequest, type Target } from '../../core/target.js';
import type { CustomerDetail, CustomerView, OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo, ProvisionOutcome, SettingChange } from '../../core/types.js';
import { flushIntents, IntentLog, intentUnwritable, LANDED_WITHIN_MS, readLeftIntents, settleLeftIntents, type LeftIntents } from '../../store/intents.js';
import type { LedgerFile } from '../../store/ledger-file.js';
import { RequestFailed, type HttpClient } from '../http/http.js';
import { reachable } from '../http/reachable.js';
import { deskSchema, describeAnswer, isExperimentalRefusal, pageSchema, propertySchema, settingSchema, type DeskJson } from '../http/wire.js';
import { cloudUserSchema, createCustomer, CREATE_PATH, sameEmail, searchByEmail, type CloudUser } from './accounts.js';
import { accountIdBatches, CloudOrganizations, MEMBERS_PER_CALL } from './organizations.js';

/** The project property that holds this tool's "Do not send account verification emails" (as on Data Center). */
export const SETTING_PROPERTY = 'jsm-provision.customer-notifications';
const SD = '/rest/servicedeskapi';

export interface CloudTargetParts {
  http: HttpClient;
  ledger: InvitationLedger;
  ledgerStore: LedgerFile;
  onWarn?: (message: string) => void;
  onNote?: (message: string) => void;
}

/** A row whose account exists now, waiting to be made a customer of the desk. */
interface Ready {
  index: number;
  /** The row's lower-cased email. */
  key: string;
  accountId: string;
  status: 'created' | 'existing';
  unproven?: true;
  fullName?: string;
  note?: string;
}

export class CloudTarget implements Target {
  readonly kind = 'rest' as const;
  /** Which REST deployment this is (Data Center's target has none). */
  readonly deployment = 'cloud' as const;
  readonly lookupIsCheap = false;
  readonly ledger: InvitationLedger;
  #http: HttpClient;
  #store: LedgerFile;
  #onWarn: (message: string) => void;
  /** Creates never answered already told (`unknownNoted`); a flush failed (`abandoned`: close() writes nothing more). */
  #flushState = { unknownNoted: 0, abandoned: false };
  #organizations: CloudOrganizations;
  #desks: DeskJson[] | undefined;
  #intents: IntentLog;
  #resolved: Promise<void> | undefined;
  #left: LeftIntents[] = [];
  #onNote: (message: string) => void;
  /** The accountId of each row made a customer by this target, by lower-cased email: memberships name it. */
  #accountIds = new Map<string, string>();
  /** The customers of a desk (read once per run, only for removals), by lower-cased email. */
  #deskCustomers = new Map<string, Promise<Map<string, CloudUser>>>();

  constructor(parts: CloudTargetParts) {
    this.#http = parts.http;
    this.ledger = parts.ledger;
    this.#store = parts.ledgerStore;
    this.#onWarn = parts.onWarn ?? parts.onNote ?? (() => undefined);
    this.#organizations = new CloudOrganizations(parts.http);
    this.#intents = new IntentLog(parts.ledgerStore.path);
    this.#onNote = parts.onNote ?? (() => undefined);
  }

  get location(): string {
    return this.#http.baseUrl.href.replace(/\/$/, '');
  }

  get ledgerPath(): string {
    return this.#store.path;
  }

  /** Basic logins sent: none to count on Cloud (an API token is no login). */
  get logins(): number {
    return 0;
  }

  /** Whether the credentials work, and for whom (`GET /rest/api/3/myself`); reads only (`doctor`). */
  async access(): Promise<{ user: string; displayName: string | null; jsmVersion: string }> {
    const answer = await reachable(this.#http, () => this.#http.request('GET', '/rest/api/3/myself'));
    const me = cloudUserSchema.safeParse(answer.body);
    if (answer.status !== 200 || !me.success) {
      throw new TargetError('bad-answer', `Jira Cloud did not say whom the credentials belong to (GET /rest/api/3/myself: ${describeAnswer(answer.status, answer.body)})`);
    }
    return { user: me.data.emailAddress ?? me.data.accountId, displayName: me.data.displayName ?? null, jsmVersion: 'Cloud' };
  }

  async findProject(key: string): Promise<{ key: string; name: string }> {
    const desk = await this.#desk(key);
    return { key: desk.projectKey, name: desk.projectName };
  }

  async getProject(key: string): Promise<ProjectInfo> {
    const desk = await this.#desk(key);
    this.#resolved ??= this.#resolveLeftIntents();
    await this.#resolved;
    return this.#info(desk, await this.#readSetting(desk.projectKey));
  }

  async listProjects(): Promise<ProjectInfo[]> {
    const desks = await this.#allDesks();
    return mapLimit(desks, 4, async (d) => this.#info(d, await this.#readSetting(d.projectKey)));
  }

  async createProject(): Promise<ProjectInfo> {
    throw new TargetError('unsupported', `create service projects in Jira Cloud (Projects > Create project > a service management template) at ${this.location}; this tool creates them in the local store only`);
  }

  async setSendVerificationEmails(key: string, send: boolean): Promise<SettingChange> {
    const before = await this.getProject(key);
    const answer = await reachable(this.#http, () => this.#http.request('PUT', this.#propertyPath(before.key), { json: { sendVerificationEmails: send } }));
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 204) {
      throw new TargetError('setting-refused', `Jira Cloud did not store the setting of ${before.key} (${describeAnswer(answer.status, answer.body)})`);
    }
    return { project: { ...before, sendVerificationEmails: send }, previous: before.sendVerificationEmails, notes: CLOUD_SETTING_NOTES };
  }

  /**
   * For a dry run: an account whose profile shows this email exactly is `existing`; none found is
   * `absent` (the real run's create is the look-up: an account whose profile hides its email is
   * found then, by its 409, and used).
   */
  async lookup(rows: readonly LookupRow[]): Promise<Lookup[]> {
    return mapLimit(rows, this.#http.pacer.maxInFlight, async (row): Promise<Lookup> => {
      try {
        const found = await searchByEmail(this.#http, row.email);
        return found.exact.length > 0 ? 'existing' : 'absent';
      } catch (error) {
        if (error instanceof RequestFailed) return { failed: `${error.message} while looking up ${row.email}: run the same command again to finish this row` };
        throw error;
      }
    });
  }

  async provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    const desk = await this.#withDesk(project);
    const outcomes: ProvisionOutcome[] = rows.map(() => NOT_PROCESSED);
    const ready = new Map<number, Ready>();
    const batches: Promise<void>[] = [];
    let pending: Ready[] = [];
    let stop: TargetError | undefined;
    const send = (): void => {
      const batch = pending;
      pending = [];
      const done = this.#addToDesk(desk, batch).then((results) => {
        for (const [index, outcome] of results) {
          outcomes[index] = outcome;
          onRowDone?.();
        }
      });
      done.catch((error: unknown) => {
        if (error instanceof TargetError) stop ??= error;
      });
      batches.push(done);
    };
    try {
      // More rows under way than requests in flight: a row waiting for its intent to reach the disk
      // holds no request slot, so the pacer keeps the limit busy (it caps what is in flight).
      const maxInFlight = this.#http.pacer.maxInFlight;
      await mapLimit(rows, maxInFlight === 1 ? 1 : maxInFlight * 3, async (row, index) => {
        if (stop) return;
        let done: Ready | { failed: string };
        try {
          done = await this.#row(desk, row, index);
        } catch (error) {
          if (!(error instanceof TargetError)) throw error;
          stop ??= error;
          return;
        }
        if ('failed' in done) {
          outcomes[index] = { status: 'failed', reason: done.failed };
          onRowDone?.();
          return;
        }
        ready.set(index, done);
        pending.push(done);
        if (pending.length >= MEMBERS_PER_CALL) send();
      });
      if (pending.length > 0 && !stop) send();
    } finally {
      await Promise.allSettled(batches);
    }
    await Promise.all(batches).catch((error: unknown) => {
      if (!(error instanceof TargetError)) throw error;
    });
    if (stop) {
      const why = stop;
      throw new ProvisionStopped(why, outcomes.map((o, index) => (o === NOT_PROCESSED ? stoppedOutcome(why, ready.get(index), project.key) : o)));
    }
    return outcomes;
  }

  /** One row: the create is the look-up; a 409 finds the account that has the email. */
  async #row(desk: ProjectInfo, row: ProvisionRequest, index: number): Promise<Ready | { failed: string }> {
    // Refused before the run by the command; never sent if one got here.
    if (row.password !== undefined) return { failed: CLOUD_SETS_NO_PASSWORDS };
    if (row.fullName === '') {
      // Nameless rows are allowed for an account that exists: look it up instead of creating.
      const found = await this.#existing(desk, row, index, 'no name').catch(lookupFailure(row.email));
      return 'failed' in found && /no single account|no account/.test(found.failed) ? { failed: NAME_NEEDED } : found;
    }
    // Durable intent before effect: the invitation this create would owe is on disk before it is sent.
    const invitation = row.invitation;
    if (invitation) {
      try {
        await this.#intents.write([{ record: invitation, username: row.email }]);
      } catch (error) {
        const stop = intentUnwritable(this.#intents.file, error);
        this.#http.stop(stop);
        throw stop;
      }
    }
    const settle = async (): Promise<void> => {
      if (invitation) await this.#intents.settle(invitation.project, invitation.key);
    };
    const result = await createCustomer(this.#http, row.email, row.fullName);
    switch (result.kind) {
      case 'created':
        if (invitation) this.#intents.made(invitation.project, invitation.key, 'answered');
        return { index, key: row.key, accountId: result.user.accountId, status: 'created' };
      case 'conflict': {
        const found = await this.#existing(desk, row, index, 'conflict').catch(lookupFailure(row.email));
        // A retry after a lost answer met the account that attempt made (or another run's create at
        // the same moment): created, its invitation in doubt (listed, never sent by itself).
        if (result.lostAnswers > 0 && !('failed' in found)) return { index, key: row.key, accountId: found.accountId, status: 'created', unproven: true };
        await settle();
        return found;
      }
      case 'lost': {
        // No usable answer: whether the account was made is a fact to look up, not to guess.
        const after = await searchByEmail(this.#http, row.email).catch(() => undefined);
        const made = after?.exact.length === 1 ? after.exact[0] : undefined;
        if (made && result.error.lostAnswers > 0) return { index, key: row.key, accountId: made.accountId, status: 'created', unproven: true };
        if (made) {
          await settle();
          return { index, key: row.key, accountId: made.accountId, status: 'existing', ...(made.displayName ? { fullName: made.displayName } : {}) };
        }
        if (result.error.lostAnswers > 0 && after !== undefined) {
          // Sent, never answered, no account yet: it may still land; the intent stays owed.
          if (invitation) this.#intents.made(invitation.project, invitation.key, 'unanswered');
          return { failed: `${result.error.message}; no account was found yet, but the create may still land: its invitation stays owed, and the next run checks for the account; run the same command again to finish this row` };
        }
        if (result.error.lostAnswers === 0) await settle();
        const maybe = result.error.lostAnswers > 0 ? '; the account may have been created' : '';
        return { failed: `${result.error.message}${maybe}: run the same command again to finish this row` };
      }
      case 'refused': {
        await settle();
        const { status, body } = result.answer;
        if (status === 404 || status === 405 || isExperimentalRefusal(status, body)) {
          throw new TargetError('unsupported', `${this.location} does not accept POST ${CREATE_PATH} (${describeAnswer(status, body)})`, 'the account must be a Jira administrator (Cloud creates customers only for administrators)');
        }
        return { failed: `JSM Cloud refused to create the customer: ${describeAnswer(status, body)}` };
      }
    }
  }

  /**
   * The account of an email that is in use: the one a user search shows with this email exactly;
   * else the project's customer with it; else the single account the search finds whose profile
   * hides its email. None, or more than one: the row fails with why.
   */
  async #existing(desk: ProjectInfo, row: ProvisionRequest, index: number, why: 'conflict' | 'no name'): Promise<Ready | { failed: string }> {
    const use = (u: CloudUser, note?: string): Ready | { failed: string } =>
      u.active === false
        ? { failed: `the account of ${row.email} (${u.accountId}) is deactivated: reactivate it in Atlassian administration (or leave the row out)` }
        : { index, key: row.key, accountId: u.accountId, status: 'existing', ...(u.displayName ? { fullName: u.displayName } : {}), ...(note ? { note } : {}) };
    const found = await searchByEmail(this.#http, row.email);
    if (found.exact.length === 1 && found.exact[0]) return use(found.exact[0]);
    if (found.exact.length > 1) return { failed: `${row.email} is the email of ${found.exact.length} accounts (${found.exact.map((u) => u.accountId).join(', ')}): resolve them in Atlassian administration` };
    const onDesk = await this.#deskCustomerByEmail(desk, row.email);
    if (onDesk) return use(onDesk);
    if (found.hidden.length === 1 && found.hidden[0]) return use(found.hidden[0], 'the account hides its email in its profile: it was found by a user search for the email');
    const head = why === 'conflict' ? `JSM Cloud says ${row.email} has an account already (409)` : `no account of ${row.email} was found`;
    const tail =
      found.hidden.length > 1
        ? `, and a search for it finds ${found.hidden.length} accounts that hide their email: no single account can be named`
        : ', but no single account could be named: a user search does not show it (its profile may hide the email, or the account may be inactive: deactivated on the site), nor does the customer list of the project';
    return { failed: `${head}${tail}; add the person to ${desk.key} in JSM (Customers > Add customers), then run again` };
  }

  /** Adds a batch to the desk in one call (`accountIds`; split on a 400); a refused call fails its rows with the reason. */
  async #addToDesk(desk: ProjectInfo, batch: readonly Ready[]): Promise<[number, ProvisionOutcome][]> {
    const path = `${SD}/servicedesk/${encodeURIComponent(desk.deskId ?? '')}/customer`;
    const refused = await accountIdBatches(this.#http, 'POST', path, batch.map((r) => ({ key: String(r.index), id: r.accountId })));
    return batch.map((r): [number, ProvisionOutcome] => {
      const why = refused.get(String(r.index));
      if (why === undefined) this.#accountIds.set(r.key, r.accountId);
      if (why !== undefined) {
        const said = `it could not be made a customer of ${desk.key} (${why})`;
        return r.status === 'created' ? [r.index, { status: 'failed', reason: `the account was created, but ${said}; run the same command again to finish`, accountCreated: true }] : [r.index, { status: 'failed', reason: said }];
      }
      return [
        r.index,
        r.status === 'existing'
          ? { status: 'existing', ...(r.fullName !== undefined ? { fullName: r.fullName } : {}), ...(r.note ? { note: r.note } : {}) }
          : { status: 'created', ...(r.unproven ? { unproven: true as const } : {}) },
      ];
    });
  }

  async *listCustomers(project: ProjectInfo): AsyncIterable<CustomerView> {
    const desk = await this.#withDesk(project);
    for await (const user of this.#deskPages(desk)) {
      yield { email: user.emailAddress ?? '', fullName: user.displayName ?? user.accountId, passwordSet: false, mustChangePassword: false, account: user.accountId };
    }
  }

  async findCustomer(project: ProjectInfo, key: string): Promise<CustomerDetail | undefined> {
    const desk = await this.#withDesk(project);
    const onDesk = await reachable(this.#http, () => this.#deskCustomerByEmail(desk, key));
    if (onDesk) return { email: onDesk.emailAddress ?? key, fullName: onDesk.displayName ?? onDesk.accountId, inProject: true, account: onDesk.accountId, active: onDesk.active ?? true };
    const search = await reachable(this.#http, () => searchByEmail(this.#http, key));
    // The one account a search for the email finds while hiding its email is that person (as a
    // provision run takes it after a 409); the desk's listing, which shows no email for it, is
    // then read for its accountId.
    const hidden = search.exact.length === 0 && search.hidden.length === 1 ? search.hidden[0] : undefined;
    const found = search.exact[0] ?? hidden;
    if (!found) return undefined;
    let inProject = false;
    if (hidden) for await (const user of this.#deskPages(desk)) if (user.accountId === hidden.accountId) inProject = true;
    return { email: found.emailAddress ?? key, fullName: found.displayName ?? found.accountId, inProject, account: found.accountId, active: found.active ?? true };
  }

  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    return this.#organizations.organizations(await this.#withDesk(project));
  }

  async organizationMembers(org: OrganizationInfo): Promise<Set<string>> {
    return this.#organizations.members(org);
  }

  async createOrganization(name: string): Promise<OrganizationInfo> {
    return this.#organizations.create(name);
  }

  async addOrganizationToProject(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    await this.#organizations.addToDesk(await this.#withDesk(project), org);
  }

  async joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const named = await this.#named(members, refused);
    for (const [key, why] of await this.#organizations.join(org, named)) refused.set(key, why);
    return refused;
  }

  /**
   * The members with their accountIds (Cloud names accounts by nothing else): given, made a
   * customer by this target, read from an organization's members, or else looked up by email (the
   * one account a user search shows with it). One with none is refused with the reason.
   */
  async #named(members: readonly OrganizationMember[], refused: Map<string, string>): Promise<OrganizationMember[]> {
    const named = await mapLimit(members, this.#http.pacer.maxInFlight, async (m): Promise<OrganizationMember | undefined> => {
      const known = m.account ?? this.#accountIds.get(m.key) ?? this.#organizations.knownAccountId(m.key);
      if (known !== undefined) return { ...m, account: known };
      let found;
      try {
        found = await reachable(this.#http, () => searchByEmail(this.#http, m.email));
      } catch (error) {
        if (error instanceof TargetError) throw error;
        refused.set(m.key, `${(error as Error).message}: run the same command again`);
        return undefined;
      }
      if (found.exact.length === 1 && found.exact[0]) return { ...m, account: found.exact[0].accountId };
      refused.set(m.key, found.exact.length === 0 ? `no account shows the email ${m.email} (Cloud names accounts by accountId only)` : `${found.exact.length} accounts show the email ${m.email}`);
      return undefined;
    });
    return named.filter((m): m is OrganizationMember => m !== undefined);
  }

  async removeFromProject(project: ProjectInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const desk = await this.#withDesk(project);
    const customers = await this.#customersOf(desk);
    const refused = new Map<string, string>();
    // Not a customer of the project (not listed), and named by nothing: left as it is.
    const named = members.flatMap((m) => {
      const id = m.account ?? customers.get(m.key)?.accountId ?? this.#accountIds.get(m.key);
      if (id === undefined) return [];
      return [{ key: m.key, id }];
    });
    const path = `${SD}/servicedesk/${encodeURIComponent(desk.deskId ?? '')}/customer`;
    for (const [key, why] of await accountIdBatches(this.#http, 'DELETE', path, named)) refused.set(key, why);
    return refused;
  }

  async leaveOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const named = await this.#named(members, refused);
    for (const [key, why] of await this.#organizations.leave(org, named)) refused.set(key, why);
    return refused;
  }

  async listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]> {
    return this.#organizations.list(project ? await this.#withDesk(project) : undefined);
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
   * Intents left by runs that ended before their ledger commit (a kill): an account that has the
   * intent's email now, whose create that run saw answered (or sent unanswered, with no account
   * right after), was made by it: its invitation is owed and recorded now. One whose create was
   * under way at the cut may be another's: recorded in doubt. Missing: kept while the create may
   * still land (LANDED_WITHIN_MS), then dropped. The rule of the Data Center target, by email.
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
      // Made by the run: the one account with the intent's email (Cloud has no usernames to ask by).
      account: (i) => reachable(this.#http, () => searchByEmail(this.#http, i.record.email)).then((found) => (found.exact.length === 1 ? 'made' : 'absent')),
      unsure: (i, now) => (i.record.status === 'pending' && (i.made === undefined || (i.absentSeen === true && now - i.at > LANDED_WITHIN_MS)) ? UNSURE_REASON : undefined),
    });
    this.#left = left;
    if (owed > 0) this.#onNote(`${owed} invitation(s) of customers created by an earlier run that was cut off are owed: recorded as pending`);
    if (unsure > 0) this.#onNote(`${unsure} account(s) that an earlier run, cut off, meant to create exist, but nothing proves that run made them: their invitations are listed as in doubt (invitations list --status in-doubt), not sent by themselves`);
  }


  async close(): Promise<void> {
    try {
      if (!this.#flushState.abandoned) await this.flush();
    } finally {
      await this.#http.close();
    }
  }

  async #withDesk(project: ProjectInfo): Promise<ProjectInfo> {
    return project.deskId !== undefined ? project : this.getProject(project.key);
  }

  /**
   * The customer of the desk with this email, asked with the listing's `query` (matched against
   * display names and emails): one request, however many customers the project has.
   */
  async #deskCustomerByEmail(desk: ProjectInfo, email: string): Promise<CloudUser | undefined> {
    const path = `${SD}/servicedesk/${encodeURIComponent(desk.deskId ?? '')}/customer`;
    const answer = await this.#http.request('GET', path, { query: { query: email, start: 0, limit: 50 } });
    const parsed = pageSchema(cloudUserSchema).safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) {
      throw new RequestFailed(`JSM did not list the customers of ${desk.key} (GET ${path}: ${describeAnswer(answer.status, answer.body)})`, 0, false);
    }
    const exact = parsed.data.values.filter((u) => sameEmail(u.emailAddress, email));
    return exact.length === 1 ? exact[0] : undefined;
  }

  #customersOf(desk: ProjectInfo): Promise<Map<string, CloudUser>> {
    const id = desk.deskId ?? '';
    let read = this.#deskCustomers.get(id);
    if (!read) {
      read = (async () => {
        const byEmail = new Map<string, CloudUser>();
        for await (const user of this.#deskPages(desk)) if (user.emailAddress) byEmail.set(user.emailAddress.toLowerCase(), user);
        return byEmail;
      })();
      this.#deskCustomers.set(id, read);
      read.catch(() => this.#deskCustomers.delete(id));
    }
    return read;
  }

  async *#deskPages(desk: ProjectInfo): AsyncIterable<CloudUser> {
    const path = `${SD}/servicedesk/${encodeURIComponent(desk.deskId ?? '')}/customer`;
    let start = 0;
    for (;;) {
      const answer = await reachable(this.#http, () => this.#http.request('GET', path, { query: { start, limit: 50 } }));
      const parsed = pageSchema(cloudUserSchema).safeParse(answer.body);
      if (answer.status !== 200 || !parsed.success) {
        throw new TargetError('customer-listing-unavailable', `${this.location} did not list the customers of ${desk.key} (GET ${path}: ${describeAnswer(answer.status, answer.body)})`, 'the account must administer the service project');
      }
      yield* parsed.data.values;
      if (parsed.data.isLastPage !== false || parsed.data.values.length === 0) return;
      start += parsed.data.values.length;
    }
  }

  async #allDesks(): Promise<DeskJson[]> {
    if (this.#desks) return this.#desks;
    const desks: DeskJson[] = [];
    let start = 0;
    for (;;) {
      const answer = await reachable(this.#http, () => this.#http.request('GET', `${SD}/servicedesk`, { query: { start, limit: 50 } }));
      const parsed = pageSchema(deskSchema).safeParse(answer.body);
      if (answer.status !== 200 || !parsed.success) {
        throw new TargetError('not-jsm', `no Jira Service Management answers at ${this.location} (GET ${SD}/servicedesk: ${describeAnswer(answer.status, answer.body)})`, 'check the base URL (https://<your-site>.atlassian.net) and that Jira Service Management is on the site');
      }
      desks.push(...parsed.data.values);
      if (parsed.data.isLastPage !== false || parsed.data.values.length === 0) break;
      start += parsed.data.values.length;
    }
    this.#desks = desks;
    return desks;
  }

  async #desk(key: string): Promise<DeskJson> {
    const wanted = key.toUpperCase();
    const desks = await this.#allDesks();
    const found = desks.find((d) => d.projectKey.toUpperCase() === wanted);
    if (found) return found;
    const close = closeMatches(wanted, desks.map((d) => d.projectKey));
    throw new TargetError(
      'unknown-project',
      `there is no service project ${wanted} on ${this.location} (${close.length > 0 ? `close matches: ${close.join(', ')}` : `${desks.length} service project(s) there, none close to ${wanted}`})`,
      close.length > 0 ? `use one of them: --project ${close[0]}` : 'check the key in Jira (Projects > View all projects)',
    );
  }

  #info(desk: DeskJson, send: boolean): ProjectInfo {
    return {
      key: desk.projectKey,
      name: desk.projectName,
      sendVerificationEmails: send,
      portalUrl: `${this.location}/servicedesk/customer/portal/${desk.id}`,
      deskId: desk.id,
      jsmVersion: 'Cloud',
    };
  }

  #propertyPath(key: string): string {
    return `/rest/api/3/project/${encodeURIComponent(key)}/properties/${SETTING_PROPERTY}`;
  }

  async #readSetting(key: string): Promise<boolean> {
    const answer = await reachable(this.#http, () => this.#http.request('GET', this.#propertyPath(key)));
    if (answer.status === 404) return true;
    const property = propertySchema.safeParse(answer.body);
    if (answer.status !== 200 || !property.success) {
      throw new TargetError('bad-answer', `Jira Cloud did not give the setting of ${key} (${describeAnswer(answer.status, answer.body)})`);
    }
    const setting = settingSchema.safeParse(property.data.value);
    if (setting.success) return setting.data.sendVerificationEmails;
    this.#onWarn(`the project property ${SETTING_PROPERTY} of ${key} is not {"sendVerificationEmails": true|false}; invitations are sent until it is set again with project set-notifications`);
    return true;
  }
}

/** What `project set-notifications` says on Cloud. */
export const CLOUD_SETTING_NOTES = [
  'This setting governs the invitations jsm-provision sends; creating customers through the API sends no email from Atlassian.',
  'JSM Cloud\'s own notifications (Project settings > Customer notifications, e.g. "Customer invited") govern the emails Atlassian sends itself, when an agent invites someone from the Customers page; change them there if Atlassian should stay silent too.',
];

const NOT_PROCESSED: ProvisionOutcome = { status: 'failed', reason: 'not processed' };

const UNSURE_REASON =
  'an earlier run that was cut off meant to create this account, and it exists, but nothing proves that run made it: not sent by itself (send it with: invitations send --in-doubt)';

function stoppedOutcome(stop: TargetError, ready: Ready | undefined, projectKey: string): ProvisionOutcome {
  if (ready === undefined) return { status: 'failed', reason: `not processed: the run stopped (${stop.message}); run the same command again to finish` };
  const why = `it was not made a customer of ${projectKey}: the run stopped (${stop.message}); run the same command again to finish`;
  return ready.status === 'created' ? { status: 'failed', reason: `the account was created, but ${why}`, accountCreated: true } : { status: 'failed', reason: `the account exists, but ${why}` };
}

function lookupFailure(email: string): (error: unknown) => { failed: string } {
  return (error) => {
    if (error instanceof RequestFailed) return { failed: `the account of ${email} could not be looked up (${error.message}): run the same command again to finish this row` };
    throw error;
  };
}

