/**
 * `customers remove`: who of the given emails is a customer of the project, which of the project's
 * organizations each is a member of, the guard against removing too many, then the removals. A
 * member of an organization that is on a project is a customer of that project too (JSM), so
 * someone taken out of a project also leaves the project's organizations: first the organizations,
 * then the project, so that a run cut off between the two is finished by running it again.
 * Accounts are never deleted or deactivated.
 */
import { UsageError } from './errors.js';
import type { Target } from './target.js';
import type { CustomerView, OrganizationInfo, OrganizationMember, ProjectInfo } from './types.js';
import { emailKey, emailProblem } from './validate.js';

export type RemovalStatus = 'removed' | 'not-a-customer' | 'invalid' | 'duplicate' | 'failed';

/** An email to remove, with where it was given (`--email`, or a line of `--file`). */
export interface RemovalInput {
  line: number | string;
  email: string;
}

export interface RemovalResult {
  line: number | string;
  email: string;
  status: RemovalStatus;
  /** The project's organizations the customer leaves (or would leave, in a dry run). */
  organizations: string[];
  reason?: string;
}

export interface RemovalPlan {
  project: ProjectInfo;
  /** The project's customers before the removal. */
  customers: number;
  /** The most removals the guard lets through. */
  limit: number;
  results: RemovalResult[];
  /** The project's organizations that members leave, with those members. */
  leaves: { org: OrganizationInfo; members: OrganizationMember[] }[];
  /** Each customer to remove by lower-cased email, with their account name where the target has one (REST: the username). */
  members: Map<string, OrganizationMember>;
  /** Keys of those who are customers only through the project's organizations (not of the project itself). */
  throughOrganizations: Set<string>;
}

/** The guard: removals above `max(5, 10% of the project's customers)` need `--max-removals`. */
export function removalLimit(customers: number): number {
  return Math.max(5, Math.floor(customers / 10));
}

/** Reads the project's customers and organizations and decides each email; refuses (UsageError) above the limit. */
export async function planRemoval(target: Target, project: ProjectInfo, inputs: readonly RemovalInput[], maxRemovals?: number): Promise<RemovalPlan> {
  const byKey = new Map<string, CustomerView>();
  for await (const customer of target.listCustomers(project)) {
    byKey.set(emailKey(customer.email), customer);
    if (customer.account !== undefined) byKey.set(customer.account.toLowerCase(), customer);
  }
  const customers = new Set(byKey.values()).size;
  const seen = new Set<string>();
  const results: RemovalResult[] = [];
  const removed = new Map<RemovalResult, OrganizationMember & { names: Set<string> }>();
  /** Valid emails the listing does not have: customers still, when a member of an organization on the project. */
  const unlisted = new Map<RemovalResult, string>();
  for (const input of inputs) {
    const email = input.email.trim();
    const problem = email === '' ? 'the email is empty' : emailProblem(email);
    if (problem !== undefined) {
      results.push({ line: input.line, email, status: 'invalid', organizations: [], reason: problem });
      continue;
    }
    const key = emailKey(email);
    if (seen.has(key)) {
      results.push({ line: input.line, email, status: 'duplicate', organizations: [], reason: 'this email was given already' });
      continue;
    }
    seen.add(key);
    const customer = byKey.get(key);
    if (!customer) {
      const result: RemovalResult = { line: input.line, email, status: 'not-a-customer', organizations: [], reason: `not a customer of ${project.key}: nothing to do` };
      results.push(result);
      unlisted.set(result, key);
      continue;
    }
    const result: RemovalResult = { line: input.line, email: customer.email, status: 'removed', organizations: [] };
    results.push(result);
    const names = new Set([key, emailKey(customer.email), ...(customer.account !== undefined ? [customer.account.toLowerCase()] : [])]);
    removed.set(result, { key: emailKey(customer.email), email: customer.email, ...(customer.account !== undefined ? { account: customer.account } : {}), names });
  }
  const leaves: RemovalPlan['leaves'] = [];
  const throughOrganizations = new Set<string>();
  if (removed.size > 0 || unlisted.size > 0) {
    const orgs = (await target.organizations(project)).filter((o) => o.inProject);
    const memberSets: Set<string>[] = [];
    for (const org of orgs) memberSets.push(await target.organizationMembers(org));
    // In JSM the members of an organization on the project are its customers too (not listed one by one).
    for (const [result, key] of unlisted) {
      if (!memberSets.some((members) => members.has(key))) continue;
      result.status = 'removed';
      delete result.reason;
      removed.set(result, { key, email: result.email, names: new Set([key]) });
      throughOrganizations.add(key);
    }
    orgs.forEach((org, n) => {
      const members = memberSets[n] ?? new Set<string>();
      const leaving: OrganizationMember[] = [];
      for (const [result, member] of removed) {
        if (![...member.names].some((name) => members.has(name))) continue;
        result.organizations.push(org.name);
        leaving.push({ key: member.key, email: member.email, ...(member.account !== undefined ? { account: member.account } : {}) });
      }
      if (leaving.length > 0) leaves.push({ org, members: leaving });
    });
    for (const result of removed.keys()) result.organizations.sort((a, b) => a.localeCompare(b));
  }
  const limit = maxRemovals ?? removalLimit(customers);
  if (removed.size > limit) {
    throw new UsageError(
      'too-many-removals',
      `${removed.size} of the ${customers} customers of ${project.key} would be removed: more than ${limit}, the most a run removes unless told (max(5, 10% of the project's customers)); nothing was removed`,
      `check the list; to remove them all, run the same command again with --max-removals ${removed.size}`,
    );
  }
  const members = new Map([...removed.values()].map(({ names: _names, ...m }) => [m.key, m] as const));
  return { project, customers, limit, results, leaves, members, throughOrganizations };
}

export interface RemovalOutcome {
  results: RemovalResult[];
  /** Memberships of the project's organizations that ended. */
  left: number;
}

/**
 * Members leave the organizations (of a removal or a sync plan): the number of memberships ended;
 * a member JSM refused is put in `failed` with the reason (the first one), keyed by member key.
 */
export async function leaveOrganizations(
  target: Target,
  leaves: readonly { org: OrganizationInfo; members: OrganizationMember[] }[],
  failed: Map<string, string>,
): Promise<number> {
  let left = 0;
  for (const { org, members } of leaves) {
    const refused = await target.leaveOrganization(org, members);
    for (const m of members) {
      const why = refused.get(m.key);
      if (why === undefined) left++;
      else if (!failed.has(m.key)) failed.set(m.key, `could not leave the organization ${org.name}: ${why}`);
    }
  }
  return left;
}

/**
 * Does the plan: members leave the organizations, then those who left them all leave the project;
 * one whose organization or project removal JSM refused is `failed` with the reason (and stays a
 * customer, so running the same command again finishes it). Everything is made durable at the end.
 */
export async function applyRemoval(target: Target, plan: RemovalPlan): Promise<RemovalOutcome> {
  const failed = new Map<string, string>();
  const left = await leaveOrganizations(target, plan.leaves, failed);
  const leaving = plan.results.filter((r) => r.status === 'removed' && !failed.has(emailKey(r.email)) && !plan.throughOrganizations.has(emailKey(r.email)));
  const refused = await target.removeFromProject(
    plan.project,
    leaving.map((r) => plan.members.get(emailKey(r.email)) ?? { key: emailKey(r.email), email: r.email }),
  );
  for (const [key, why] of refused) failed.set(key, `could not be taken out of ${plan.project.key}: ${why}`);
  await target.flush();
  const results = plan.results.map((r): RemovalResult => {
    const why = r.status === 'removed' ? failed.get(emailKey(r.email)) : undefined;
    return why === undefined ? r : { ...r, status: 'failed', reason: why };
  });
  return { results, left };
}

/** How many memberships a plan ends. */
export function plannedLeaves(plan: RemovalPlan): number {
  return plan.leaves.reduce((n, l) => n + l.members.length, 0);
}
