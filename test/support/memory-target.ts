import { TargetError, UsageError } from '../../src/core/errors.js';
import { isClaimable, type InvitationLedger, type Lookup, type LookupRow, type ProvisionRequest, type Target } from '../../src/core/target.js';
import type {
  CustomerDetail,
  CustomerView,
  InvitationRecord,
  OrganizationInfo,
  OrganizationMember,
  OrganizationView,
  ProjectInfo,
  ProvisionOutcome,
  SettingChange,
  SuppressedBy,
} from '../../src/core/types.js';

/** A customer as the in-memory target holds it. */
export interface MemoryCustomer {
  email: string;
  fullName: string;
  passwordSet: boolean;
  mustChangePassword: boolean;
  projects: string[];
  createdAt: string;
}

/** What a test can make the target do to one row (by lower-cased email). */
export type MemoryFault =
  /** provision answers `failed` for the row and creates nothing. */
  | { kind: 'fail'; reason: string }
  /** the account is created, but the row cannot be finished (as when JSM's membership call fails). */
  | { kind: 'half-done'; reason: string };

/**
 * The in-memory invitation ledger, with the semantics of the store's ledger: reads from memory,
 * `add` keeps an existing record, `claimForSending` is the at-most-once gate (pending -> sending,
 * or with `expected` a compare-and-swap on status, runId and updatedAt), and `commit` makes what
 * was recorded "durable" (copied into `durable`, which is what a process killed now would leave).
 */
export class MemoryLedger implements InvitationLedger {
  /** project -> key -> record: the live state. */
  readonly records = new Map<string, Map<string, InvitationRecord>>();
  /** What the last commit (or claim) made durable: what a crash right now would leave behind. */
  durable = new Map<string, Map<string, InvitationRecord>>();
  /** Every claim, in order: which keys each run was given. */
  readonly claims: { runId: string; keys: string[] }[] = [];
  commits = 0;
  /** Runs whose `sending` records are being sent right now (not in doubt, never reclaimed). */
  readonly liveRuns = new Set<string>();

  get(project: string, key: string): InvitationRecord | undefined {
    return this.records.get(project)?.get(key);
  }

  list(project: string): InvitationRecord[] {
    return [...(this.records.get(project)?.values() ?? [])];
  }

  /** As the store's ledger: `sending` of the caller's run, or of a run that is not being sent right now. */
  inDoubt(project: string, ownRunId?: string): number {
    let n = 0;
    for (const record of this.records.get(project)?.values() ?? []) {
      if (record.status === 'sending' && (record.runId === ownRunId || !this.liveRuns.has(record.runId ?? ''))) n++;
    }
    return n;
  }

  count(project: string, status: InvitationRecord['status']): number {
    let n = 0;
    for (const record of this.records.get(project)?.values() ?? []) if (record.status === status) n++;
    return n;
  }

  add(records: readonly InvitationRecord[]): void {
    for (const record of records) {
      const byKey = this.#project(record.project);
      if (!byKey.has(record.key)) byKey.set(record.key, record);
    }
  }

  update(record: InvitationRecord): void {
    this.#project(record.project).set(record.key, { ...record });
  }

  async suppress(project: string, keys: readonly string[], suppressedBy: SuppressedBy): Promise<void> {
    const byKey = this.#project(project);
    const updatedAt = new Date().toISOString();
    for (const key of keys) {
      const record = byKey.get(key);
      if (record?.status === 'pending') byKey.set(key, { ...record, status: 'suppressed', deferred: false, suppressedBy, updatedAt });
    }
    await this.commit();
  }

  async claimForSending(
    project: string,
    keys: readonly string[],
    runId: string,
    expected?: ReadonlyMap<string, InvitationRecord>,
  ): Promise<InvitationRecord[]> {
    // A real ledger takes a lock and writes: give other work a turn first, as I/O would.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const byKey = this.#project(project);
    const updatedAt = new Date().toISOString();
    const claimed: InvitationRecord[] = [];
    for (const key of keys) {
      const record = byKey.get(key);
      if (!record) continue;
      if (!isClaimable(record, expected, (id) => this.liveRuns.has(id ?? ''))) continue;
      const next: InvitationRecord = { ...record, status: 'sending', runId, updatedAt };
      byKey.set(key, next);
      claimed.push(next);
    }
    this.claims.push({ runId, keys: claimed.map((r) => r.key) });
    // A claim is durable before any message leaves (with everything recorded before it).
    this.#makeDurable();
    return claimed;
  }

  async commit(): Promise<void> {
    this.commits++;
    this.#makeDurable();
  }

  /** The record as a process killed now would leave it. */
  durableRecord(project: string, key: string): InvitationRecord | undefined {
    return this.durable.get(project)?.get(key);
  }

  #makeDurable(): void {
    this.durable = new Map([...this.records].map(([project, byKey]) => [project, new Map([...byKey].map(([k, r]) => [k, { ...r }]))]));
  }

  #project(project: string): Map<string, InvitationRecord> {
    let byKey = this.records.get(project);
    if (!byKey) this.records.set(project, (byKey = new Map()));
    return byKey;
  }
}

/**
 * The whole `Target` contract in memory, for tests of the core (plan, apply, send, resend) that run
 * in milliseconds. Like the local store: lookups are cheap, a new customer and the invitation it is
 * owed are recorded in the same step, and `flush` makes everything durable.
 */
export class MemoryTarget implements Target {
  readonly kind: 'local' | 'rest';
  readonly location = 'memory:';
  readonly lookupIsCheap: boolean;
  readonly ledger = new MemoryLedger();
  readonly projects = new Map<string, ProjectInfo>();
  readonly customers = new Map<string, MemoryCustomer>();
  /** Organizations by lower-cased name: the name as created, its projects and its members' keys. */
  readonly orgs = new Map<string, { name: string; projects: Set<string>; members: Set<string> }>();
  /** Faults by lower-cased email; a fault applies once unless `sticky`. */
  readonly faults = new Map<string, MemoryFault & { sticky?: boolean }>();
  /** Every provision call's keys, in order. */
  readonly provisionCalls: string[][] = [];
  /** Keys passed to lookup, per call. */
  readonly lookups: string[][] = [];
  flushes = 0;
  closed = false;

  constructor(options: { kind?: 'local' | 'rest'; lookupIsCheap?: boolean } = {}) {
    this.kind = options.kind ?? 'local';
    this.lookupIsCheap = options.lookupIsCheap ?? this.kind === 'local';
  }

  /** A second target over the same projects, customers, organizations and ledger (as a second process would see them). */
  another(): MemoryTarget {
    const other = new MemoryTarget({ kind: this.kind, lookupIsCheap: this.lookupIsCheap });
    Object.assign(other, { ledger: this.ledger, projects: this.projects, customers: this.customers, orgs: this.orgs });
    return other;
  }

  /** A target with project `key` (invitations on unless said otherwise). */
  static withProject(key = 'ITH', name = 'IT Help', sendVerificationEmails = true, options: { kind?: 'local' | 'rest'; lookupIsCheap?: boolean } = {}): MemoryTarget {
    const target = new MemoryTarget(options);
    target.projects.set(key, { key, name, sendVerificationEmails });
    return target;
  }

  /** An account that exists before the run (a customer of `projects`). */
  addCustomer(email: string, fullName = email.split('@')[0] ?? email, projects: string[] = []): void {
    this.customers.set(email.toLowerCase(), { email, fullName, passwordSet: false, mustChangePassword: false, projects: [...projects], createdAt: new Date(0).toISOString() });
  }

  async getProject(key: string): Promise<ProjectInfo> {
    const project = this.projects.get(key) ?? [...this.projects.values()].find((p) => p.key.toLowerCase() === key.toLowerCase());
    if (!project) throw new TargetError('unknown-project', `project ${key} does not exist in ${this.location}`, `create it with: jsm-provision project create ${key}`);
    return { ...project };
  }

  async listProjects(): Promise<ProjectInfo[]> {
    return [...this.projects.values()].map((p) => ({ ...p }));
  }

  async createProject(key: string, name: string): Promise<ProjectInfo> {
    if (this.projects.has(key)) throw new UsageError('project-exists', `project ${key} already exists in ${this.location}`, `use it as it is: --project ${key}`);
    const project: ProjectInfo = { key, name, sendVerificationEmails: true };
    this.projects.set(key, project);
    return { ...project };
  }

  async setSendVerificationEmails(key: string, send: boolean): Promise<SettingChange> {
    const project = await this.getProject(key);
    this.projects.set(project.key, { ...project, sendVerificationEmails: send });
    return { project: await this.getProject(key), previous: project.sendVerificationEmails, notes: [] };
  }

  async lookup(rows: readonly LookupRow[]): Promise<Lookup[]> {
    this.lookups.push(rows.map((r) => r.key));
    return rows.map((row) => (this.customers.has(row.key) ? 'existing' : 'absent'));
  }

  async provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]> {
    this.provisionCalls.push(rows.map((r) => r.key));
    const now = new Date().toISOString();
    const outcomes = rows.map((row): ProvisionOutcome => {
      const fault = this.faults.get(row.key);
      if (fault && !fault.sticky) this.faults.delete(row.key);
      const found = this.customers.get(row.key);
      if (fault?.kind === 'fail') return { status: 'failed', reason: fault.reason };
      if (found) {
        if (!found.projects.includes(project.key)) found.projects.push(project.key);
        // The name the target holds, as every target says it (a row's other name is never applied).
        return { status: 'existing', fullName: found.fullName };
      }
      this.customers.set(row.key, {
        email: row.email,
        fullName: row.fullName,
        passwordSet: row.password !== undefined,
        mustChangePassword: row.password !== undefined,
        projects: fault?.kind === 'half-done' ? [] : [project.key],
        createdAt: now,
      });
      // The customer and the invitation they are owed, in the same step (as the local store does).
      if (row.invitation) this.ledger.add([row.invitation]);
      if (fault?.kind === 'half-done') return { status: 'failed', reason: fault.reason, accountCreated: true };
      return { status: 'created' };
    });
    for (let i = 0; i < rows.length; i++) onRowDone?.();
    // Give other work a turn between chunks, as a real target's I/O would.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return outcomes;
  }

  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    return [...this.orgs].map(([id, o]) => ({ id, name: o.name, inProject: o.projects.has(project.key) }));
  }

  async organizationMembers(org: OrganizationInfo): Promise<Set<string>> {
    return new Set(this.orgs.get(org.id)?.members ?? []);
  }

  async createOrganization(name: string): Promise<OrganizationInfo> {
    const id = name.toLowerCase();
    if (!this.orgs.has(id)) this.orgs.set(id, { name, projects: new Set(), members: new Set() });
    return { id, name: this.orgs.get(id)?.name ?? name, inProject: false };
  }

  async addOrganizationToProject(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    this.orgs.get(org.id)?.projects.add(project.key);
  }

  async joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const o = this.orgs.get(org.id);
    for (const m of members) {
      if (!o) failed.set(m.key, `there is no organization ${org.name}`);
      else if (!this.customers.has(m.key)) failed.set(m.key, `${m.email} has no account`);
      else o.members.add(m.key);
    }
    return failed;
  }

  async listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]> {
    return [...this.orgs.values()]
      .filter((o) => !project || o.projects.has(project.key))
      .map((o) => ({ name: o.name, members: o.members.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async removeFromProject(project: ProjectInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    for (const m of members) {
      const c = this.customers.get(m.key);
      if (c) c.projects = c.projects.filter((p) => p !== project.key);
    }
    return new Map();
  }

  async leaveOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    for (const m of members) this.orgs.get(org.id)?.members.delete(m.key);
    return new Map();
  }

  async *listCustomers(project: ProjectInfo): AsyncIterable<CustomerView> {
    for (const c of this.customers.values()) {
      if (!c.projects.includes(project.key)) continue;
      yield { email: c.email, fullName: c.fullName, passwordSet: c.passwordSet, mustChangePassword: c.mustChangePassword, createdAt: c.createdAt };
    }
  }

  async findCustomer(project: ProjectInfo, key: string): Promise<CustomerDetail | undefined> {
    const c = this.customers.get(key);
    if (!c) return undefined;
    return { email: c.email, fullName: c.fullName, inProject: c.projects.includes(project.key), projects: [...c.projects], passwordSet: c.passwordSet, mustChangePassword: c.mustChangePassword, createdAt: c.createdAt };
  }

  async flush(): Promise<void> {
    this.flushes++;
    await this.ledger.commit();
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
