import { messageOf, TargetError, UsageError } from '../../core/errors.js';
import { hashPassword } from '../../core/pkcs5s2.js';
import { type InvitationLedger, type Lookup, type LookupRow, type ProvisionRequest, type Target } from '../../core/target.js';
import type {
  CustomerDetail,
  CustomerView,
  OrganizationInfo,
  OrganizationMember,
  OrganizationView,
  ProjectInfo,
  ProvisionOutcome,
  SettingChange,
} from '../../core/types.js';
import type { StoredProject } from '../../store/format.js';
import { LocalStore } from '../../store/store.js';
import { closeMatches } from '../../core/close-matches.js';
import type { LockOptions } from '../../store/lock.js';
import { testHook } from '../../util/test-hooks.js';
import { LocalLedger } from '../../store/ledger.js';
import * as orgs from './organizations.js';
import { addInvitation } from '../../store/status-counts.js';

/** Commit at most this often during a bulk run (a crash loses at most this much work, which the re-run redoes), and never spend more than a tenth of the time committing. */
const COMMIT_EVERY_MS = 2_000;
const COMMIT_SHARE = 10;

export interface LocalTuning {
  /** Commit at most this often during a bulk run (default 2 s); tests use 0: a commit per chunk. */
  commitEveryMs?: number;
}

export class LocalTarget implements Target {
  readonly kind = 'local' as const;
  readonly lookupIsCheap = true;
  readonly ledger: InvitationLedger;
  #store: LocalStore;
  /** When the last commit ended; 0 until the first provision (planning is not counted). */
  #lastCommitAt = 0;

  #commitEveryMs: number;
  /** A flush failed (its caller has the error): close() writes nothing more. */
  #abandoned = false;
  /** The outcomes of provisions not yet durable: marked failed if their write fails. */
  #unflushed: ProvisionOutcome[][] = [];
  #wroteCustomers = false;

  protected constructor(store: LocalStore, tuning: LocalTuning = {}) {
    this.#store = store;
    this.ledger = new LocalLedger(store);
    this.#commitEveryMs = tuning.commitEveryMs ?? COMMIT_EVERY_MS;
  }

  static async open(path: string, lockOptions: LockOptions = {}, tuning: LocalTuning = {}): Promise<LocalTarget> {
    return new LocalTarget(await LocalStore.open(path, lockOptions), tuning);
  }

  get location(): string {
    return this.#store.path;
  }

  async getProject(key: string): Promise<ProjectInfo> {
    const project = this.#findProject(key);
    if (project) return toInfo(project);
    await this.#store.refresh();
    const fresh = this.#findProject(key);
    if (fresh) return toInfo(fresh);
    throw unknownProject(key, Object.keys(this.#store.data.projects), this.location);
  }

  async listProjects(): Promise<ProjectInfo[]> {
    return Object.values(this.#store.data.projects).map(toInfo);
  }

  async createProject(key: string, name: string): Promise<ProjectInfo> {
    await this.#store.refresh();
    const existing = this.#findProject(key);
    if (existing) {
      throw new UsageError(
        'project-exists',
        `project ${existing.key} already exists in ${this.location} ("${existing.name}")`,
        `use it as it is: --project ${existing.key}`,
      );
    }
    const project: StoredProject = { key, name, sendVerificationEmails: true, createdAt: new Date().toISOString() };
    this.#store.mutate((data) => {
      data.projects[key] ??= project;
    });
    await this.flush();
    return toInfo(this.#store.data.projects[key] ?? project);
  }

  async setSendVerificationEmails(key: string, send: boolean): Promise<SettingChange> {
    const before = await this.getProject(key);
    this.#store.mutate((data) => {
      const project = data.projects[before.key];
      if (project) project.sendVerificationEmails = send;
    });
    await this.flush();
    return { project: await this.getProject(key), previous: before.sendVerificationEmails, notes: [] };
  }

  async lookup(rows: readonly LookupRow[]): Promise<Lookup[]> {
    const customers = this.#store.data.customers;
    return rows.map((row) => (customers.has(row.key) ? 'existing' : 'absent'));
  }

  async provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    const customers = this.#store.data.customers;
    // Hash only for who is new here: on all cores (libuv's pool), the event loop stays free.
    const hashes = new Array<string | undefined>(rows.length);
    const hashing: Promise<void>[] = [];
    rows.forEach((row, i) => {
      if (row.password && !customers.has(row.key)) {
        hashing.push(
          hashPassword(row.password).then((hash) => {
            hashes[i] = hash;
            onRowDone?.();
          }),
        );
      } else {
        onRowDone?.();
      }
    });
    await Promise.all(hashing);
    const now = new Date().toISOString();
    const outcomes = rows.map((): { status: 'created' | 'existing'; fullName?: string } => ({ status: 'existing' }));
    // One list for every customer created here (lists are never changed in place; see below).
    const inProject = [project.key];
    // One operation for the chunk: replayed as a whole if another process wrote the store meanwhile.
    // The outcomes are set again by each replay, so once committed they say what this process
    // created: a customer another process created first is `existing` here (the caller reads the
    // outcomes again after the flush).
    this.#store.mutate((data) => {
      // What changed, for the store's log: the customers set, the invitations they are owed.
      const customers: string[] = [];
      const invitations: [string, string][] = [];
      let replaced = 0;
      rows.forEach((row, i) => {
        const outcome = outcomes[i] as { status: 'created' | 'existing'; fullName?: string };
        const found = data.customers.get(row.key);
        delete outcome.fullName;
        if (found) {
          outcome.fullName = found.fullName;
          if (!found.projects.includes(project.key)) {
            // A new array, never a push: customers read from the store share their project lists.
            found.projects = [...found.projects, project.key];
            customers.push(row.key);
            replaced++;
          }
          outcome.status = 'existing';
          return;
        }
        const passwordHash = hashes[i];
        // The customer and the invitation they are owed, in the same operation: one durable write.
        if (row.invitation) {
          if (addInvitation(data.invitations, row.invitation)) invitations.push([row.invitation.project, row.key]);
        }
        // Two literals rather than a spread: every customer of a large run gets the same shape.
        // Dated as the invitation it is owed (the same run, the same moment): that record can then
        // leave its time out of the file (compact form). No flag unless a password was predefined.
        const createdAt = row.invitation?.updatedAt ?? now;
        data.customers.set(
          row.key,
          passwordHash === undefined
            ? { email: row.email, fullName: row.fullName, createdAt, projects: inProject }
            : { email: row.email, fullName: row.fullName, passwordHash, mustChangePassword: true, createdAt, projects: inProject },
        );
        customers.push(row.key);
        outcome.status = 'created';
      });
      return { customers, invitations, replaced };
    });
    testHook('provisioned', this.#store.path);
    this.#unflushed.push(outcomes);
    await this.#maybeCommit();
    return outcomes;
  }

  async *listCustomers(project: ProjectInfo): AsyncIterable<CustomerView> {
    for (const customer of this.#store.data.customers.values()) {
      if (!customer.projects.includes(project.key)) continue;
      yield {
        email: customer.email,
        fullName: customer.fullName,
        passwordSet: customer.passwordHash !== undefined,
        mustChangePassword: customer.mustChangePassword === true,
        createdAt: customer.createdAt,
      };
    }
  }

  async findCustomer(project: ProjectInfo, key: string): Promise<CustomerDetail | undefined> {
    const customer = this.#store.data.customers.get(key);
    if (customer === undefined) return undefined;
    return {
      email: customer.email,
      fullName: customer.fullName,
      inProject: customer.projects.includes(project.key),
      projects: [...customer.projects],
      passwordSet: customer.passwordHash !== undefined,
      mustChangePassword: customer.mustChangePassword === true,
      ...(customer.createdAt !== undefined ? { createdAt: customer.createdAt } : {}),
    };
  }

  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    return orgs.organizationsOf(this.#store, project);
  }

  async organizationMembers(org: OrganizationInfo): Promise<Set<string>> {
    return orgs.membersOf(this.#store, org);
  }

  async createOrganization(name: string): Promise<OrganizationInfo> {
    return orgs.createOrganization(this.#store, name);
  }

  async addOrganizationToProject(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    orgs.addToProject(this.#store, project, org);
  }

  async joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return orgs.join(this.#store, org, members);
  }

  async removeFromProject(project: ProjectInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return orgs.removeFromProject(this.#store, project, members);
  }

  async leaveOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return orgs.leave(this.#store, org, members);
  }

  async listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]> {
    return orgs.listOrganizations(this.#store, project);
  }

  get wroteCustomers(): boolean {
    return this.#wroteCustomers;
  }

  async flush(): Promise<void> {
    const unflushed = this.#unflushed;
    this.#unflushed = [];
    try {
      await this.#store.commit();
    } catch (error) {
      // Said by the command that asked; close() does not try (and wait, or fail) the same again.
      this.#abandoned = true;
      // What that write held was not written: its rows are failed, whatever they were about to be.
      const reason = `not written: ${messageOf(error)}; run the same command again when the store can be written`;
      for (const outcomes of unflushed) {
        for (const outcome of outcomes) {
          const failed = outcome as { status: string; reason?: string; account?: string; note?: string };
          delete failed.account;
          delete failed.note;
          failed.status = 'failed';
          failed.reason = reason;
        }
      }
      throw error;
    }
    if (unflushed.length > 0) this.#wroteCustomers = true;
    this.#lastCommitAt = Date.now();
  }

  async close(): Promise<void> {
    if (!this.#abandoned) await this.flush();
  }

  /** Batches commits: a full rewrite per row would make a large import quadratic. */
  async #maybeCommit(): Promise<void> {
    if (this.#lastCommitAt === 0) this.#lastCommitAt = Date.now();
    const due = this.#commitEveryMs === 0 ? 0 : Math.max(this.#commitEveryMs, this.#store.lastCommitMs * COMMIT_SHARE);
    if (Date.now() - this.#lastCommitAt >= due) await this.flush();
  }

  #findProject(key: string): StoredProject | undefined {
    const projects = this.#store.data.projects;
    return projects[key] ?? Object.values(projects).find((p) => p.key.toLowerCase() === key.toLowerCase());
  }
}

function toInfo(project: StoredProject): ProjectInfo {
  return { key: project.key, name: project.name, sendVerificationEmails: project.sendVerificationEmails };
}

function unknownProject(key: string, known: string[], location: string): TargetError {
  const list = known.length > 0 ? `projects in this store: ${known.join(', ')}` : 'this store has no projects yet';
  // A key close to one the store has is a typo (as on REST): suggest that one, not a new project.
  const close = closeMatches(key, known);
  return new TargetError(
    'unknown-project',
    `project ${key} does not exist in ${location} (${list})`,
    close.length > 0 ? `use one of them: --project ${close[0]}` : `create it with: jsm-provision project create ${key} --name "<project name>"`,
  );
}
