/**
 * Customer organizations over JSM's REST API (all experimental: `X-ExperimentalApi: opt-in`).
 * The organization list has no filter by name, so it is read once per run (paged) and kept; a
 * create whose answer was lost, or that was refused, is resolved by listing again: the name, not
 * the message, says whether it exists. Memberships go in batches of 50 usernames, split on a 400
 * as desk memberships are. A handful of calls per run, not per row.
 */
import { z } from 'zod';
import { TargetError } from '../../core/errors.js';
import type { OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo } from '../../core/types.js';
import { RequestFailed, type Answer, type HttpClient } from '../http/http.js';
import { OrganizationLists } from '../http/organization-lists.js';
import { allPages } from '../http/pages.js';
import { describeAnswer, errorText, EXPERIMENTAL, isExperimentalRefusal, userSchema } from './wire.js';


/** Usernames per membership call. */
const MEMBERS_PER_CALL = 50;
const SD = '/rest/servicedeskapi';

export class RestOrganizations {
  #http: HttpClient;
  #lists = new OrganizationLists((path, item) => this.#pages(path, item));
  /** Usernames of the organization members read so far, by lower-cased email: a member found by email leaves by username. */
  #usernames = new Map<string, string>();

  constructor(http: HttpClient) {
    this.#http = http;
  }

  get #where(): string {
    return this.#http.baseUrl.href.replace(/\/$/, '');
  }

  /** Every organization, each saying whether it is on the project's desk. */
  async organizations(project: ProjectInfo): Promise<OrganizationInfo[]> {
    const [all, onDesk] = await Promise.all([this.#lists.all(), this.#lists.onDesk(project.deskId ?? '')]);
    return all.map((o) => ({ id: o.id, name: o.name, inProject: onDesk.has(o.id) }));
  }

  /** Lower-cased usernames and emails of the organization's members; `onMember` sees each member's user object. */
  async members(org: OrganizationInfo, onMember?: (user: z.infer<typeof userSchema>) => void): Promise<Set<string>> {
    const set = new Set<string>();
    for (const user of await this.#memberList(org.id)) {
      onMember?.(user);
      set.add(user.name.toLowerCase());
      if (user.emailAddress) {
        set.add(user.emailAddress.toLowerCase());
        this.#usernames.set(user.emailAddress.toLowerCase(), user.name);
      }
    }
    return set;
  }

  async create(name: string): Promise<OrganizationInfo> {
    // An answer after a lost attempt may be another organization's refusal of the retry: the list says.
    return this.#lists.create(this.#http, name, {
      options: { headers: EXPERIMENTAL },
      made: (answer) => (answer.status === 200 || answer.status === 201) && answer.lostAnswers === 0,
      unsupported: (call, answer) => this.#unsupported(call, answer),
    });
  }


  async addToDesk(project: ProjectInfo, org: OrganizationInfo): Promise<void> {
    await this.#lists.addToDesk(this.#http, project, org, EXPERIMENTAL);
  }


  /** Joins in batches; returns the reason for each key that could not join. */
  async join(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const path = `${SD}/organization/${encodeURIComponent(org.id)}/user`;
    const username = (m: OrganizationMember): string => m.account ?? m.email;
    const groups: OrganizationMember[][] = [];
    for (let i = 0; i < members.length; i += MEMBERS_PER_CALL) groups.push(members.slice(i, i + MEMBERS_PER_CALL));
    while (groups.length > 0) {
      const group = groups.shift() ?? [];
      if (group.length === 0) continue;
      let answer: Answer;
      try {
        answer = await this.#http.request('POST', path, { json: { usernames: group.map(username) }, headers: EXPERIMENTAL });
      } catch (error) {
        if (!(error instanceof RequestFailed)) throw error;
        for (const m of group) refused.set(m.key, error.message);
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) continue;
      const said = describeAnswer(answer.status, answer.body);
      if (answer.status !== 400) {
        for (const m of group) refused.set(m.key, `JSM answered ${said}`);
        continue;
      }
      // A 400 that names users fails those and the rest go again; one that names no one is split.
      const words = new Set(errorText(answer.body).toLowerCase().split(/[\s,;:'"()[\]{}<>]+/).map((w) => w.replace(/^[.]+|[.]+$/g, '')));
      const named = group.filter((m) => words.has(username(m).toLowerCase()));
      if (named.length > 0) {
        for (const m of named) refused.set(m.key, `JSM says the user ${username(m)} does not exist`);
        groups.push(group.filter((m) => !named.includes(m)));
      } else if (group.length > 1) {
        const half = Math.ceil(group.length / 2);
        groups.push(group.slice(0, half), group.slice(half));
      } else {
        for (const m of group) refused.set(m.key, `JSM answered ${said}`);
      }
    }
    return refused;
  }

  /** The username of a member by lower-cased email, from the member lists read so far. */
  knownUsername(key: string): string | undefined {
    return this.#usernames.get(key);
  }

  /** Members leave the organization (`DELETE .../organization/{id}/user`), in batches; the reason for each key that could not. */
  async leave(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const named = members.map((m) => (m.account !== undefined ? m : { ...m, account: this.#usernames.get(m.key) ?? m.email }));
    return removeInBatches(this.#http, `${SD}/organization/${encodeURIComponent(org.id)}/user`, named);
  }

  async list(project?: ProjectInfo): Promise<OrganizationView[]> {
    const all = await this.#lists.all();
    const onDesk = project ? await this.#lists.onDesk(project.deskId ?? '') : null;
    const shown = all.filter((o) => onDesk === null || onDesk.has(o.id));
    const views: OrganizationView[] = [];
    for (const o of shown) views.push({ name: o.name, members: (await this.#memberList(o.id)).length });
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  #memberList(id: string): Promise<z.infer<typeof userSchema>[]> {
    return this.#pages(`${SD}/organization/${encodeURIComponent(id)}/user`, userSchema);
  }

  /** Every value of a paged listing; a listing JSM refuses stops the run (exit 3), naming it. */
  #pages<T extends z.ZodType>(path: string, item: T): Promise<z.infer<T>[]> {
    return allPages(this.#http, path, item, (answer) => this.#unsupported(`GET ${path}`, answer), EXPERIMENTAL);
  }

  #unsupported(call: string, answer: Answer): TargetError {
    const why = isExperimentalRefusal(answer.status, answer.body) ? 'it refused the experimental API' : describeAnswer(answer.status, answer.body);
    return new TargetError(
      'organizations-unavailable',
      `${this.#where} does not offer JSM's customer organizations as this tool needs them (${call}: ${why})`,
      'organizations need JSM 3.3 or newer with the experimental API; run without organization columns and --organization, or add the organizations in JSM (Customers page)',
    );
  }
}

/**
 * `DELETE path {"usernames": [...]}` in batches of 50 (Data Center names accounts by username; a
 * customer or member who is not there is no error: JSM answers 204). Returns the reason for each
 * key of a batch JSM refused or that could not be sent.
 */
export async function removeInBatches(http: HttpClient, path: string, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  for (let i = 0; i < members.length; i += MEMBERS_PER_CALL) {
    const group = members.slice(i, i + MEMBERS_PER_CALL);
    let said: string;
    try {
      const answer = await http.request('DELETE', path, { json: { usernames: group.map((m) => m.account ?? m.email) }, headers: EXPERIMENTAL });
      if (answer.status >= 200 && answer.status < 300) continue;
      if (answer.status === 401 || answer.status === 403) throw new TargetError('removal-refused', `JSM refused the removal (DELETE ${path}: ${describeAnswer(answer.status, answer.body)})`, 'the account needs to be an administrator of the project (or of Jira)');
      said = `JSM answered ${describeAnswer(answer.status, answer.body)}`;
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      said = error.message;
    }
    for (const m of group) refused.set(m.key, said);
  }
  return refused;
}
