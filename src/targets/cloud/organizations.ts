/**
 * Customer organizations on JSM Cloud: members named by accountId. The organization list is read
 * once per run (paged); creating a name that exists answers with the existing organization, and a
 * create whose answer was lost is resolved by listing again. Memberships go 50 accountIds a call.
 */
import { z } from 'zod';
import { TargetError } from '../../core/errors.js';
import type { OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo } from '../../core/types.js';
import { RequestFailed, type Answer, type HttpClient } from '../http/http.js';
import { describeAnswer, isExperimentalRefusal } from '../http/wire.js';
import { OrganizationLists } from '../http/organization-lists.js';
import { allPages } from '../http/pages.js';
import { cloudUserSchema } from './accounts.js';


/** accountIds per membership call. */
export const MEMBERS_PER_CALL = 50;
const SD = '/rest/servicedeskapi';

export class CloudOrganizations {
  #http: HttpClient;
  #lists = new OrganizationLists((path, item) => this.#pages(path, item));
  /** accountIds of members read so far, by lower-cased email. */
  #accountIds = new Map<string, string>();

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** The accountId of a member read from an organization's list, by lower-cased email. */
  knownAccountId(key: string): string | undefined {
    return this.#accountIds.get(key);
  }

  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    const [all, onDesk] = await Promise.all([this.#lists.all(), this.#lists.onDesk(project.deskId ?? '')]);
    return all.map((o) => ({ id: o.id, name: o.name, inProject: onDesk.has(o.id) }));
  }

  /** Lower-cased accountIds and (where shown) emails of the organization's members. */
  async members(org: OrganizationInfo): Promise<Set<string>> {
    const set = new Set<string>();
    for (const user of await this.#pages(`${SD}/organization/${encodeURIComponent(org.id)}/user`, cloudUserSchema)) {
      set.add(user.accountId.toLowerCase());
      if (user.emailAddress) {
        set.add(user.emailAddress.toLowerCase());
        this.#accountIds.set(user.emailAddress.toLowerCase(), user.accountId);
      }
    }
    return set;
  }

  async create(name: string): Promise<OrganizationInfo> {
    // A new organization, or (Cloud) the existing one of that name: either way the one to use.
    return this.#lists.create(this.#http, name, {
      options: { returnsJson: true },
      made: (answer) => answer.status >= 200 && answer.status < 300,
      unsupported: (call, answer) => this.#unsupported(call, answer),
    });
  }


  async addToDesk(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    await this.#lists.addToDesk(this.#http, project, org);
  }


  /** Members join 50 accountIds a call; returns the reason for each key that could not join. */
  async join(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return this.#batches('POST', `${SD}/organization/${encodeURIComponent(org.id)}/user`, members);
  }

  async leave(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    return this.#batches('DELETE', `${SD}/organization/${encodeURIComponent(org.id)}/user`, members);
  }

  /**
   * `{"accountIds": [...]}` 50 at a time. A member whose accountId is not known (read from no
   * listing, made by no create of this run) cannot be named on Cloud: it fails with that reason.
   */
  async #batches(method: 'POST' | 'DELETE', path: string, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const named: { key: string; id: string }[] = [];
    for (const m of members) {
      const id = m.account ?? this.#accountIds.get(m.key);
      if (id === undefined) refused.set(m.key, `its accountId is not known (Cloud names accounts by accountId only)`);
      else named.push({ key: m.key, id });
    }
    for (const [key, why] of await accountIdBatches(this.#http, method, path, named)) refused.set(key, why);
    return refused;
  }

  async list(project?: ProjectInfo): Promise<OrganizationView[]> {
    const all = await this.#lists.all();
    const onDesk = project ? await this.#lists.onDesk(project.deskId ?? '') : null;
    const views: OrganizationView[] = [];
    for (const o of all.filter((o) => onDesk === null || onDesk.has(o.id))) {
      views.push({ name: o.name, members: (await this.#pages(`${SD}/organization/${encodeURIComponent(o.id)}/user`, cloudUserSchema)).length });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  #pages<T extends z.ZodType>(path: string, item: T): Promise<z.infer<T>[]> {
    return allPages(this.#http, path, item, (answer) => this.#unsupported(`GET ${path}`, answer));
  }

  #unsupported(call: string, answer: Answer): TargetError {
    const why = isExperimentalRefusal(answer.status, answer.body) ? 'it refused the experimental API' : describeAnswer(answer.status, answer.body);
    return new TargetError(
      'organizations-unavailable',
      `${this.#http.baseUrl.href.replace(/\/$/, '')} did not answer ${call} as JSM Cloud does (${why})`,
      'check that the account administers the service project (organizations need it); or run without organization columns and --organization',
    );
  }
}

/**
 * `method path {"accountIds": [...]}` 50 at a time; returns the reason for each key of a call JSM
 * refused. A `400` (Cloud names an unknown accountId and changes nothing) is split in halves until
 * the accounts it refuses are alone, so that one bad id does not fail its 49 neighbours.
 */
export async function accountIdBatches(http: HttpClient, method: 'POST' | 'DELETE', path: string, items: readonly { key: string; id: string }[]): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  const groups: { key: string; id: string }[][] = [];
  for (let i = 0; i < items.length; i += MEMBERS_PER_CALL) groups.push(items.slice(i, i + MEMBERS_PER_CALL));
  while (groups.length > 0) {
    const group = groups.shift() ?? [];
    if (group.length === 0) continue;
    let said: string;
    try {
      const answer = await http.request(method, path, { json: { accountIds: group.map((m) => m.id) } });
      if (answer.status >= 200 && answer.status < 300) continue;
      if (answer.status === 400 && group.length > 1) {
        const half = Math.ceil(group.length / 2);
        groups.push(group.slice(0, half), group.slice(half));
        continue;
      }
      said = `JSM answered ${describeAnswer(answer.status, answer.body)}`;
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      said = error.message;
    }
    for (const m of group) refused.set(m.key, said);
  }
  return refused;
}
