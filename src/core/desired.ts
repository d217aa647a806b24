/**
 * Desired state: what it takes to make a project what a file says. Without `sync`, the file adds
 * (create, add to the project, join organizations, as an import does); with it, the file is the
 * project's whole list: customers not in it are removed from the project (and leave the project's
 * organizations: in JSM a member of an organization on a project is a customer of it), and the
 * organizations the file names end with exactly the members it gives them. Organizations it does
 * not name are left alone; accounts are never deleted or deactivated.
 *
 * The plan is plain data (`actions`, one per change); nothing here writes. `applyRemovals` does the
 * removals of a plan once the import part has run (src/core/run.ts).
 */
import { UsageError } from './errors.js';
import { decideForRun, type InvitationDecision } from './invitation-policy.js';
import { checkOrganizations, organizationKey } from './organizations.js';
import { leaveOrganizations, removalLimit } from './remove.js';
import { ProblemList, type Problem, type RunSettings } from './results.js';
import type { Target } from './target.js';
import { isBatch, type CustomerView, type OrganizationInfo, type OrganizationMember, type RowSource, type ValidRow } from './types.js';
import { emailKey, emailProblem, NAME_NEEDED, validateRow } from './validate.js';

/** One change: `create` a customer, `add` an existing account to the project, send an `invite` owed by a cut-off run, `join` or `leave` an organization, `remove` from the project. */
export type ActionKind = 'create' | 'add' | 'invite' | 'join' | 'leave' | 'remove';

export interface PlanAction {
  action: ActionKind;
  email: string;
  /** join and leave: the organization. */
  organization?: string;
  /** create: whether the new customer is invited by the apply (the plan's invitation decision). */
  invite?: boolean;
}

export interface PlanCounts {
  create: number;
  existing: number;
  remove: number;
  join: number;
  leave: number;
  invite: number;
}

export interface DesiredSettings extends RunSettings {
  /** The file is the project's whole list. */
  sync: boolean;
  /** `--max-removals`: absent, the guard's `max(5, 10%)`. */
  maxRemovals?: number;
}

export interface DesiredPlan {
  sync: boolean;
  counts: PlanCounts;
  actions: PlanAction[];
  /** The project's customers when the plan was made. */
  customers: number;
  /** The most removals the guard let through. */
  limit: number;
  rows: { total: number; invalid: number; duplicate: number; failed: number };
  problems: Problem[];
  /** What happens to a new customer's invitation. */
  invitation: InvitationDecision;
  /** For the apply: who leaves which organization, and who is taken out of the project. */
  leaves: { org: OrganizationInfo; members: OrganizationMember[] }[];
  removals: OrganizationMember[];
}

const LOOKUP_CHUNK = 1_000;

interface Going {
  index: number;
  row: ValidRow;
  /** The customer as the project lists them, when they are one. */
  listed?: CustomerView;
}

/** Reads every row and the project, and plans the changes; refuses (UsageError, exit 2) removals above the guard. */
export async function planDesired(source: RowSource, target: Target, settings: DesiredSettings): Promise<DesiredPlan> {
  const project = settings.project;
  const problems = new ProblemList();
  const rows = { total: 0, invalid: 0, duplicate: 0, failed: 0 };
  /** Every email the file gives in a readable form, whatever else is wrong with its row: never removed. */
  const named = new Set<string>();
  /** Emails of rows that are invalid: their customers are left exactly as they are. */
  const untouched = new Set<string>();
  const firstLine = new Map<string, number | string>();
  const going: Going[] = [];
  for await (const item of source) {
    for (const candidate of isBatch(item) ? item : [item]) {
      const index = rows.total++;
      const checked = validateRow(candidate);
      const email = checked.ok ? checked.row.email : checked.email;
      const readable = email !== '' && emailProblem(email) === undefined;
      if (readable) named.add(emailKey(email));
      const orgs = checked.ok ? checkOrganizations(candidate.organizations) : undefined;
      if (!checked.ok || (orgs && !orgs.ok)) {
        rows.invalid++;
        if (readable) untouched.add(emailKey(email));
        problems.add(index, { line: candidate.line, email, status: 'invalid', reason: !checked.ok ? checked.reason : orgs && !orgs.ok ? orgs.reason : '' });
        continue;
      }
      const { row } = checked;
      const earlier = firstLine.get(row.key);
      if (earlier !== undefined) {
        rows.duplicate++;
        problems.add(index, { line: candidate.line, email, status: 'duplicate', reason: `same email as line ${earlier} (emails are compared without regard to case)` });
        continue;
      }
      firstLine.set(row.key, candidate.line);
      if (orgs && orgs.ok && orgs.names.length > 0) row.organizations = orgs.names;
      going.push({ index, row });
    }
  }

  // The project's customers, read once (JSM: in pages), by email and by account name.
  const listed = new Map<string, CustomerView>();
  const byName = new Map<string, CustomerView>();
  for await (const customer of target.listCustomers(project)) {
    listed.set(emailKey(customer.email), customer);
    byName.set(emailKey(customer.email), customer);
    if (customer.account !== undefined) byName.set(customer.account.toLowerCase(), customer);
  }
  const customers = listed.size;

  const actions: PlanAction[] = [];
  const counts: PlanCounts = { create: 0, existing: 0, remove: 0, join: 0, leave: 0, invite: 0 };
  const newcomer = decideForRun(settings, 'new');
  const owed = decideForRun(settings, 'invitation-due');
  const joining: Going[] = [];
  // Only rows the project does not list are looked up (no search per customer already there).
  const unlisted: Going[] = [];
  for (const g of going) {
    const customer = listed.get(g.row.key) ?? (g.row.username !== undefined ? byName.get(g.row.username.toLowerCase()) : undefined);
    if (customer === undefined) {
      unlisted.push(g);
      continue;
    }
    g.listed = customer;
    counts.existing++;
    owedInvitation(g);
    joining.push(g);
  }
  function owedInvitation(g: Going): void {
    const record = target.ledger.get(project.key, g.row.key);
    if (record?.status !== 'pending' || record.deferred || owed.action !== 'send') return;
    actions.push({ action: 'invite', email: g.row.email });
    counts.invite++;
  }
  for (let start = 0; start < unlisted.length; start += LOOKUP_CHUNK) {
    const chunk = unlisted.slice(start, start + LOOKUP_CHUNK);
    const verdicts = await target.lookup(chunk.map(({ row }) => ({ key: row.key, email: row.email, ...(row.username !== undefined ? { username: row.username } : {}) })));
    chunk.forEach((g, n) => {
      const verdict = verdicts[n];
      if (verdict !== undefined && typeof verdict === 'object') {
        rows.failed++;
        problems.add(g.index, { line: g.row.line, email: g.row.email, status: 'failed', reason: verdict.failed });
        return;
      }
      if (verdict === 'existing') {
        actions.push({ action: 'add', email: g.row.email });
        counts.existing++;
        owedInvitation(g);
      } else if (g.row.fullName === '') {
        rows.invalid++;
        problems.add(g.index, { line: g.row.line, email: g.row.email, status: 'invalid', reason: NAME_NEEDED });
        return;
      } else {
        const invite = newcomer.action === 'send';
        actions.push({ action: 'create', email: g.row.email, invite });
        counts.create++;
        if (invite) counts.invite++;
      }
      joining.push(g);
    });
  }

  // Organizations: every one of the target, each read once when the plan needs its members.
  const orgs = new Map<string, OrganizationInfo>();
  for (const org of await target.organizations(project)) if (!orgs.has(organizationKey(org.name))) orgs.set(organizationKey(org.name), org);
  const membersOf = new Map<string, Set<string>>();
  const members = async (org: OrganizationInfo): Promise<Set<string>> => {
    let set = membersOf.get(organizationKey(org.name));
    if (set === undefined) membersOf.set(organizationKey(org.name), (set = await target.organizationMembers(org)));
    return set;
  };
  /** Organization (by key) -> the keys the file gives it. */
  const given = new Map<string, { name: string; keys: Set<string> }>();
  joining.sort((a, b) => a.index - b.index);
  for (const g of joining) {
    for (const name of g.row.organizations ?? []) {
      const key = organizationKey(name);
      const entry = given.get(key) ?? { name: orgs.get(key)?.name ?? name, keys: new Set<string>() };
      given.set(key, entry);
      entry.keys.add(g.row.key);
      const org = orgs.get(key);
      const account = g.listed?.account?.toLowerCase();
      if (org && g.listed !== undefined && ((await members(org)).has(g.row.key) || (account !== undefined && (await members(org)).has(account)))) continue;
      if (org && g.listed === undefined && (await members(org)).has(g.row.key)) continue;
      actions.push({ action: 'join', email: g.row.email, organization: entry.name });
      counts.join++;
    }
  }

  const leaves = new Map<string, { org: OrganizationInfo; members: Map<string, OrganizationMember> }>();
  const leave = (org: OrganizationInfo, member: OrganizationMember): void => {
    const key = organizationKey(org.name);
    const entry = leaves.get(key) ?? { org, members: new Map<string, OrganizationMember>() };
    leaves.set(key, entry);
    entry.members.set(member.key, member);
  };
  const memberOf = (customer: CustomerView): OrganizationMember => ({ key: emailKey(customer.email), email: customer.email, ...(customer.account !== undefined ? { account: customer.account } : {}) });
  const removals: OrganizationMember[] = [];
  if (settings.sync) {
    // The organizations the file names end with exactly the members it gives them.
    for (const [key, entry] of given) {
      const org = orgs.get(key);
      if (!org) continue;
      for (const name of await members(org)) {
        const customer = byName.get(name);
        const person = customer ? memberOf(customer) : { key: name, email: name, ...(name.includes('@') ? {} : { account: name }) };
        if (entry.keys.has(person.key) || untouched.has(person.key) || (customer?.account !== undefined && entry.keys.has(customer.account.toLowerCase()))) continue;
        leave(org, person);
      }
    }
    // Customers the file does not give are removed, and leave the project's organizations.
    const onProject = [...orgs.values()].filter((o) => o.inProject);
    for (const [key, customer] of listed) {
      if (named.has(key) || (customer.account !== undefined && named.has(customer.account.toLowerCase()))) continue;
      const person = memberOf(customer);
      removals.push(person);
      for (const org of onProject) {
        const set = await members(org);
        if (set.has(key) || (customer.account !== undefined && set.has(customer.account.toLowerCase()))) leave(org, person);
      }
    }
  }
  for (const { org, members: who } of leaves.values()) {
    for (const m of who.values()) actions.push({ action: 'leave', email: m.email, organization: org.name });
    counts.leave += who.size;
  }
  for (const m of removals) actions.push({ action: 'remove', email: m.email });
  counts.remove = removals.length;

  const limit = settings.maxRemovals ?? removalLimit(customers);
  if (removals.length > limit) {
    throw new UsageError(
      'too-many-removals',
      `${removals.length} of the ${customers} customers of ${project.key} would be removed: more than ${limit}, the most a run removes unless told (max(5, 10% of the project's customers)); nothing was written`,
      `check that the file is the whole list (a cut or filtered file removes everyone it leaves out); to remove them all, run the same command again with --max-removals ${removals.length}`,
    );
  }
  return {
    sync: settings.sync,
    counts,
    actions,
    customers,
    limit,
    rows,
    problems: problems.list(),
    invitation: newcomer,
    leaves: [...leaves.values()].map(({ org, members: who }) => ({ org, members: [...who.values()] })),
    removals,
  };
}

/** What the removals of a plan did: memberships ended, customers taken out, and the reason for each that could not be. */
export interface RemovalsDone {
  left: number;
  removed: number;
  failed: Map<string, string>;
}

/**
 * The removals of a plan: first the organizations (leaves), then the project (a run cut off between
 * the two is finished by running it again). Made durable at the end.
 */
export async function applyRemovals(target: Target, plan: Pick<DesiredPlan, 'leaves' | 'removals'>, project: RunSettings['project']): Promise<RemovalsDone> {
  const failed = new Map<string, string>();
  const left = await leaveOrganizations(target, plan.leaves, failed);
  const leaving = plan.removals.filter((m) => !failed.has(m.key));
  const refused = leaving.length > 0 ? await target.removeFromProject(project, leaving) : new Map<string, string>();
  for (const [key, why] of refused) failed.set(key, `could not be taken out of ${project.key}: ${why}`);
  await target.flush();
  return { left, removed: leaving.length - refused.size, failed };
}
