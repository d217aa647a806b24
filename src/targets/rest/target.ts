import { TargetError } from '../../core/errors.js';
import { mapLimit } from '../../core/pool.js';
import type { InvitationLedger, ProvisionRequest, Target } from '../../core/target.js';
import type { CustomerDetail, CustomerView, OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo, ProvisionOutcome, SettingChange } from '../../core/types.js';
import { RestOrganizations } from './organizations.js';
import type { LedgerFile } from '../shared/ledger-file.js';
import { Discovery, reachable, versionAtLeast, type JsmVersion } from './discovery.js';
import type { HttpClient } from './http.js';
import { accountByUsername, accountsByEmail } from './accounts.js';
import { IntentLog, readLeftIntents, rewriteIntentFile, type LeftIntents } from './intents.js';

/** How long an intent whose account never turned up is kept (a create sent by a killed run lands long before). */
const INTENT_KEPT_MS = 7 * 24 * 3600 * 1000;
import { addMembers, provisionRow, type Created, type RowContext } from './provision.js';
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
  /** A flush failed (its caller has the error): close() writes nothing more. */
  #abandoned = false;
  #intents: IntentLog;
  #resolved: Promise<void> | undefined;
  #left: LeftIntents[] = [];
  #refusals: RowContext['refusals'] = { last: '', count: 0, anyCreated: false };
  #organizations: RestOrganizations;
  /** The resolved username of each row of the last provision call, by lower-cased email: organization memberships use it, never the email. */
  #accounts = new Map<string, string>();

  constructor(parts: RestTargetParts) {
    this.#http = parts.http;
    this.ledger = parts.ledger;
    this.#store = parts.ledgerStore;
    this.#discovery = new Discovery(parts.http);
    this.#onWarn = parts.onWarn ?? (() => undefined);
    this.#onNote = parts.onNote ?? (() => undefined);
    this.#intents = new IntentLog(parts.ledgerStore.path);
    this.#organizations = new RestOrganizations(parts.http);
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

  /** Emails with at least one active account (by the user search, exact email match without regard to case). */
  async lookupExisting(keys: readonly string[]): Promise<Set<string>> {
    const found = await mapLimit(keys, this.#http.pacer.maxInFlight, async (key) => {
      const accounts = await reachable(this.#http, () => accountsByEmail(this.#http, key)).catch((error: unknown) => {
        if (error instanceof TargetError) throw error;
        throw new TargetError('bad-answer', (error as Error).message);
      });
      return accounts.some((a) => a.active) ? key : null;
    });
    return new Set(found.filter((k): k is string => k !== null));
  }

  async provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    const deskId = project.deskId ?? (await this.getProject(project.key)).deskId ?? '';
    const outcomes: ProvisionOutcome[] = rows.map(() => ({ status: 'failed', reason: 'not processed' }));
    const batches: Promise<void>[] = [];
    let pending: Created[] = [];
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
      done.catch(() => undefined);
      batches.push(done);
    };
    try {
      const ctx: RowContext = { http: this.#http, intents: this.#intents, refusals: this.#refusals };
      // More rows under way than requests in flight: a row waiting for its intent to reach the
      // disk holds no request slot, so the pacer keeps the limit busy (it caps what is in flight).
      const maxInFlight = this.#http.pacer.maxInFlight;
      await mapLimit(rows, maxInFlight === 1 ? 1 : maxInFlight * 3, async (row, index) => {
        const created = await provisionRow(ctx, row, index);
        if ('failed' in created) {
          outcomes[index] = { status: 'failed', reason: created.failed };
          onRowDone?.();
          return;
        }
        pending.push(created);
        if (pending.length >= MEMBERS_PER_CALL) send();
      });
      if (pending.length > 0) send();
    } finally {
      // Never leave a membership call running behind a stopped run.
      await Promise.allSettled(batches);
    }
    await Promise.all(batches);
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
        yield { email: user.emailAddress ?? user.name, fullName: user.displayName ?? user.name, passwordSet: false, mustChangePassword: false };
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
  async findCustomer(_project: ProjectInfo, key: string): Promise<CustomerDetail | undefined> {
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
    return this.#organizations.join(org, members.map((m) => (m.account !== undefined ? m : { ...m, account: this.#accounts.get(m.key) ?? m.email })));
  }

  async listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]> {
    return this.#organizations.list(project ? await this.#withDesk(project) : undefined);
  }

  async #withDesk(project: ProjectInfo): Promise<ProjectInfo> {
    return project.deskId !== undefined ? project : this.getProject(project.key);
  }

  async flush(): Promise<void> {
    let committed = false;
    try {
      await this.#store.commit();
      committed = true;
      // A create sent by a killed run may have landed since the start: its invitation is owed.
      // Best effort: what cannot be checked now stays in its file for the next run.
      if (this.#left.length > 0) await this.#settleLeft().catch(() => undefined);
    } catch (error) {
      // Said by the command that asked; close() does not try (and wait, or fail) the same again.
      this.#abandoned = true;
      throw error;
    } finally {
      // Intents whose records are now in the ledger on disk are done; the file goes when none is left open.
      await this.#intents.close((project, key) => committed && this.ledger.get(project, key) !== undefined);
    }
  }

  /**
   * Intents left by runs that ended before their ledger commit (a kill): an account that exists
   * now under the username the run meant to create, with that email, was created by it (its
   * look-up had found none), so its invitation is owed and recorded now; records already in the
   * ledger win. An intent whose account does not exist (yet) is kept: the killed run's create may
   * still land on the server (it was sent before the kill), so it is checked again at the end of
   * this run and by later runs, until the account turns up, the ledger holds the customer (this run
   * created it), or a week has passed.
   */
  async #resolveLeftIntents(): Promise<void> {
    this.#left = await readLeftIntents(this.#intents);
    await this.#settleLeft();
  }

  async #settleLeft(): Promise<void> {
    const files = this.#left;
    if (files.length === 0) return;
    let owed = 0;
    const now = Date.now();
    for (const file of files) {
      const open = file.intents.filter((i) => this.ledger.get(i.record.project, i.record.key) === undefined && now - i.at < INTENT_KEPT_MS);
      const accounts = await mapLimit(open, this.#http.pacer.maxInFlight, (i) =>
        reachable(this.#http, () => accountByUsername(this.#http, i.username)).catch((error: unknown) => {
          if (error instanceof TargetError) throw error;
          throw new TargetError('bad-answer', (error as Error).message);
        }),
      );
      const made = open.filter((i, n) => {
        const account = accounts[n];
        return account != null && account.active && account.email.toLowerCase() === i.record.email.trim().toLowerCase();
      });
      this.ledger.add(made.map((i) => ({ ...i.record, updatedAt: new Date().toISOString() })));
      owed += made.filter((i) => i.record.status === 'pending').length;
      await this.#store.commit();
      const kept = open.filter((_, n) => accounts[n] == null);
      file.intents = kept;
      if (file.ended) await rewriteIntentFile(file.file, kept);
    }
    this.#left = files.filter((f) => f.intents.length > 0);
    if (owed > 0) this.#onNote(`${owed} invitation(s) of customers created by an earlier run that was cut off are owed: recorded as pending`);
  }

  async close(): Promise<void> {
    try {
      if (!this.#abandoned) await this.flush();
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
    const why = isExperimentalRefusal(status, body) ? 'it refused the experimental API' : describeAnswer(status, body);
    return new TargetError(
      'customer-listing-unavailable',
      `${this.location} does not offer the experimental customer listing of JSM (GET .../servicedesk/${project.deskId}/customer: ${why})`,
      `see the customers of ${project.key} in JSM (Project settings > Customers, or the Customers page of the project); jsm-provision invitations list --project ${project.key} shows whom this tool invited`,
    );
  }
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
