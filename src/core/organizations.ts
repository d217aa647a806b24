/**
 * Organizations (JSM customer organizations): the companies, departments or clients customers
 * belong to. A run reads the target's organizations once, creates each missing one once (first
 * spelling seen wins; names are compared without regard to case), puts each on the project once,
 * and makes the memberships that are missing. Joining an organization is never an invitation.
 */
import { TargetError } from './errors.js';
import { codePointName, printable } from './printable.js';
import type { OrganizationTotals } from './results.js';
import type { Target } from './target.js';
import type { OrganizationInfo, OrganizationMember, ProjectInfo, ProvisionOutcome } from './types.js';
import { foldName, forbiddenInName, lostLettersProblem } from './validate.js';

/** The TargetError code a target gives when one organization cannot be created or put on the project (the run goes on). */
export const ORGANIZATION_REFUSED = 'organization-refused';

/** JSM keeps organization names in a 255-character column. */
export const MAX_ORGANIZATION_NAME = 255;

/**
 * How organization names are compared: white space folded and case ignored, on both sides (a row's
 * "Acme Corp" is the target's "Acme  Corp": no second organization beside it).
 */
export function organizationKey(name: string): string {
  return foldName(name).toLowerCase();
}

/** The names of a cell that may name several organizations, separated by `;`. */
export function splitOrganizations(cell: string): string[] {
  return cell
    .split(';')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** Why a (trimmed) organization name cannot be used, or undefined. */
export function organizationNameProblem(name: string): string | undefined {
  const bad = forbiddenInName(name);
  if (bad.length > 0) {
    return `the organization name '${printable(name, 60)}' contains ${bad.map(codePointName).join(', ')} (control or invisible characters); remove them`;
  }
  const lost = lostLettersProblem(name, 'the organization name');
  if (lost !== undefined) return lost;
  if (name.length > MAX_ORGANIZATION_NAME) return `the organization name '${printable(name, 60)}' is longer than ${MAX_ORGANIZATION_NAME} characters`;
  return undefined;
}

/**
 * A row's organization names: white space folded as in customers' names ("Acme  Corp" is "Acme
 * Corp"), each once (without regard to case, first spelling kept), checked.
 */
export function checkOrganizations(names: readonly string[] | undefined): { ok: true; names: string[] } | { ok: false; reason: string } {
  const out = new Map<string, string>();
  for (const raw of names ?? []) {
    const name = foldName(raw);
    if (name === '') continue;
    const problem = organizationNameProblem(name);
    if (problem !== undefined) return { ok: false, reason: problem };
    if (!out.has(organizationKey(name))) out.set(organizationKey(name), name);
  }
  return { ok: true, names: [...out.values()] };
}

/** A row whose account now exists, and the organizations it names. */
export interface Joining extends OrganizationMember {
  names: readonly string[];
}

export function emptyOrganizationTotals(): OrganizationTotals {
  return { created: 0, addedToProject: 0, memberships: 0 };
}

/**
 * The organizations of one run: planned while rows are read (`planRow`), made ready once before
 * the first customer (`prepare`), joined chunk by chunk (`join`). `planned` holds what would be
 * done; `made`, what this run did.
 */
export class RunOrganizations {
  readonly planned = emptyOrganizationTotals();
  readonly made = emptyOrganizationTotals();
  #known: Promise<Map<string, OrganizationInfo>> | undefined;
  /** Lower-cased name -> the first spelling this run saw. */
  #spelling = new Map<string, string>();
  #members = new Map<string, Promise<Set<string>>>();
  #ready = new Map<string, OrganizationInfo>();
  #failed = new Map<string, string>();
  #prepared: Promise<void> | undefined;

  constructor(
    readonly target: Target,
    readonly project: ProjectInfo,
    readonly create: boolean,
  ) {}

  /** Whether any row named an organization. */
  get used(): boolean {
    return this.#spelling.size > 0;
  }

  /**
   * Checks a valid row's organizations against the target and counts what they will need. Returns
   * the names as this run spells them, or the reason the row is invalid.
   */
  async planRow(key: string, names: readonly string[]): Promise<{ names: string[] } | { reason: string }> {
    if (names.length === 0) return { names: [] };
    const known = await this.#knownOrganizations();
    if (!this.create) {
      const unknown = names.filter((n) => !known.has(organizationKey(n)));
      if (unknown.length > 0) {
        const list = unknown.map((n) => `'${printable(n, 60)}'`).join(', ');
        return {
          reason: `the organization${unknown.length > 1 ? 's' : ''} ${list} ${unknown.length > 1 ? 'do' : 'does'} not exist in ${printable(this.target.location)}, and --no-create-organizations was given: create ${unknown.length > 1 ? 'them' : 'it'} first, correct the name, or leave out --no-create-organizations`,
        };
      }
    }
    const spelled: string[] = [];
    for (const name of names) {
      const lower = organizationKey(name);
      const org = known.get(lower);
      if (!this.#spelling.has(lower)) {
        this.#spelling.set(lower, org?.name ?? name);
        if (!org) this.planned.created++;
        if (!org || !org.inProject) this.planned.addedToProject++;
      }
      spelled.push(this.#spelling.get(lower) ?? name);
      if (!org || !(await this.#membersOf(org)).has(key)) this.planned.memberships++;
    }
    return { names: spelled };
  }

  /** Creates the missing organizations and puts every one on the project, once; failures are kept per name. */
  prepare(): Promise<void> {
    this.#prepared ??= this.#prepare();
    return this.#prepared;
  }

  async #prepare(): Promise<void> {
    const known = await this.#knownOrganizations();
    for (const [lower, name] of this.#spelling) {
      let org = known.get(lower);
      try {
        if (!org) {
          org = await this.target.createOrganization(name);
          known.set(lower, org);
          this.#members.set(lower, Promise.resolve(new Set()));
          this.made.created++;
        }
        if (!org.inProject) {
          await this.target.addOrganizationToProject(this.project, org);
          org = { ...org, inProject: true };
          known.set(lower, org);
          this.made.addedToProject++;
        }
        this.#ready.set(lower, org);
      } catch (error) {
        if (!(error instanceof TargetError) || error.code !== ORGANIZATION_REFUSED) throw error;
        const step = org ? `could not be put on ${this.project.key}` : 'could not be created';
        this.#failed.set(lower, `the organization '${printable(name, 60)}' ${step} (${error.message}): run the same command again to finish`);
      }
    }
  }

  /**
   * Makes the memberships of rows whose account exists now. Returns, by row, the reason a row could
   * not join all its organizations.
   */
  async join(rows: readonly (Joining & { index: number })[]): Promise<Map<number, string>> {
    const failures = new Map<number, string>();
    if (rows.length === 0) return failures;
    await this.prepare();
    const byOrg = new Map<string, (Joining & { index: number })[]>();
    for (const row of rows) {
      for (const name of row.names) {
        const lower = organizationKey(name);
        const failed = this.#failed.get(lower);
        if (failed !== undefined) {
          failures.set(row.index, failed);
          continue;
        }
        const org = this.#ready.get(lower);
        if (!org) continue;
        const members = await this.#membersOf(org);
        if (members.has(row.key) || (row.account !== undefined && members.has(row.account.toLowerCase()))) continue;
        const list = byOrg.get(lower) ?? [];
        list.push(row);
        byOrg.set(lower, list);
      }
    }
    for (const [lower, joining] of byOrg) {
      const org = this.#ready.get(lower) as OrganizationInfo;
      const refused = await this.target.joinOrganization(
        org,
        joining.map((r) => ({ key: r.key, email: r.email, ...(r.account !== undefined ? { account: r.account } : {}) })),
      );
      const members = await this.#membersOf(org);
      for (const row of joining) {
        const why = refused.get(row.key);
        if (why !== undefined) {
          failures.set(row.index, `it could not join the organization '${printable(org.name, 60)}' (${why}): run the same command again to finish`);
          continue;
        }
        members.add(row.key);
        if (row.account !== undefined) members.add(row.account.toLowerCase());
        this.made.memberships++;
      }
    }
    return failures;
  }

  #knownOrganizations(): Promise<Map<string, OrganizationInfo>> {
    this.#known ??= this.target.organizations(this.project).then((list) => {
      const map = new Map<string, OrganizationInfo>();
      for (const org of list) if (!map.has(organizationKey(org.name))) map.set(organizationKey(org.name), org);
      return map;
    });
    return this.#known;
  }

  #membersOf(org: OrganizationInfo): Promise<Set<string>> {
    const lower = organizationKey(org.name);
    let members = this.#members.get(lower);
    if (!members) {
      members = this.target.organizationMembers(org);
      this.#members.set(lower, members);
    }
    return members;
  }
}

/**
 * A chunk's outcomes after its memberships: a row that could not join an organization is `failed`
 * with the reason (its account, when this run made it, is marked so its invitation stays owed).
 */
export async function joinChunk(
  orgs: RunOrganizations,
  rows: readonly { key: string; email: string; organizations?: string[] }[],
  outcomes: ProvisionOutcome[],
): Promise<ProvisionOutcome[]> {
  const joining: (Joining & { index: number })[] = [];
  rows.forEach((row, index) => {
    const outcome = outcomes[index];
    if (!outcome || outcome.status === 'failed' || !row.organizations || row.organizations.length === 0) return;
    joining.push({ index, key: row.key, email: row.email, names: row.organizations, ...(outcome.account !== undefined ? { account: outcome.account } : {}) });
  });
  if (joining.length === 0) return outcomes;
  const failures = await orgs.join(joining);
  return outcomes.map((outcome, index) => {
    const why = failures.get(index);
    if (why === undefined || outcome.status === 'failed') return outcome;
    return outcome.status === 'created' ? { status: 'failed', reason: `the customer was created, but ${why}`, accountCreated: true } : { status: 'failed', reason: why };
  });
}
