/**
 * The organization lists a JSM target reads once per run and keeps (JSM has no look-up by name):
 * every organization, and those on each desk, read in pages by the target's own reader (Data
 * Center's sends the experimental header). A read that fails is not kept, so a later call reads
 * again; a target forgets a list when a create or an add whose answer was lost leaves it unsure.
 * The create and the add to a desk are here too, the same for both targets but for the request
 * options each JSM takes and which create answers it trusts.
 */
import { z } from 'zod';
import { TargetError } from '../../core/errors.js';
import { ORGANIZATION_REFUSED, organizationKey } from '../../core/organizations.js';
import type { OrganizationInfo, ProjectInfo } from '../../core/types.js';
import { RequestFailed, type Answer, type HttpClient, type RequestOptions } from './http.js';
import { describeAnswer, isExperimentalRefusal } from './wire.js';

export const organizationSchema = z.object({ id: z.coerce.string(), name: z.string() }).loose();
export type OrganizationJson = z.infer<typeof organizationSchema>;

const SD = '/rest/servicedeskapi';

export class OrganizationLists {
  #all: Promise<OrganizationJson[]> | undefined;
  #onDesk = new Map<string, Promise<Set<string>>>();

  constructor(private readonly pages: (path: string, item: typeof organizationSchema) => Promise<OrganizationJson[]>) {}

  /** Every organization (the list kept is the one a create adds its new organization to). */
  all(): Promise<OrganizationJson[]> {
    this.#all ??= this.pages(`${SD}/organization`, organizationSchema);
    const read = this.#all;
    read.catch(() => {
      if (this.#all === read) this.#all = undefined;
    });
    return read;
  }

  /** The ids of the organizations on a desk (the set kept is the one an add puts its organization in). */
  onDesk(deskId: string): Promise<Set<string>> {
    let ids = this.#onDesk.get(deskId);
    if (!ids) {
      ids = this.pages(`${SD}/servicedesk/${encodeURIComponent(deskId)}/organization`, organizationSchema).then((list) => new Set(list.map((o) => o.id)));
      this.#onDesk.set(deskId, ids);
      ids.catch(() => this.#onDesk.delete(deskId));
    }
    return ids;
  }

  forgetAll(): void {
    this.#all = undefined;
  }

  forgetDesk(deskId: string): void {
    this.#onDesk.delete(deskId);
  }

  /**
   * Creates the organization `name` with the request options the target's JSM takes; an answer
   * `made` accepts gives the one to use (and joins the list kept). Refused, answered after a lost
   * attempt, or not answered: whether it exists is read from the list again. A 404, 405 or an
   * experimental refusal is `unsupported`.
   */
  async create(
    http: HttpClient,
    name: string,
    how: { options: RequestOptions; made: (answer: Answer) => boolean; unsupported: (call: string, answer: Answer) => TargetError },
  ): Promise<OrganizationInfo> {
    let answer: Answer | undefined;
    let failure: string | undefined;
    try {
      answer = await http.request('POST', `${SD}/organization`, { ...how.options, json: { name } });
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      failure = error.message;
    }
    if (answer && how.made(answer)) {
      const made = organizationSchema.safeParse(answer.body);
      if (made.success) {
        // The list, when this create is what first reads it, has the new one already.
        const all = await this.all();
        if (!all.some((o) => o.id === made.data.id)) all.push(made.data);
        return { id: made.data.id, name: made.data.name, inProject: false };
      }
    }
    if (answer && (answer.status === 404 || answer.status === 405 || isExperimentalRefusal(answer.status, answer.body))) throw how.unsupported(`POST ${SD}/organization`, answer);
    this.forgetAll();
    const found = (await this.all()).find((o) => organizationKey(o.name) === organizationKey(name));
    if (found) return { id: found.id, name: found.name, inProject: false };
    throw new TargetError(ORGANIZATION_REFUSED, failure ?? `JSM did not create it: ${answer ? describeAnswer(answer.status, answer.body) : 'no answer'}`);
  }

  /** Puts `org` on the project's desk; an add refused or not answered may be done all the same: the desk's list says. */
  async addToDesk(http: HttpClient, project: ProjectInfo, org: OrganizationInfo, headers?: Record<string, string>): Promise<void> {
    const deskId = project.deskId ?? '';
    const path = `${SD}/servicedesk/${encodeURIComponent(deskId)}/organization`;
    let said: string;
    try {
      const answer = await http.request('POST', path, { json: { organizationId: Number(org.id) }, ...(headers ? { headers } : {}) });
      if (answer.status >= 200 && answer.status < 300) {
        (await this.onDesk(deskId)).add(org.id);
        return;
      }
      said = describeAnswer(answer.status, answer.body);
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      said = error.message;
    }
    this.forgetDesk(deskId);
    if ((await this.onDesk(deskId)).has(org.id)) return;
    throw new TargetError(ORGANIZATION_REFUSED, `JSM did not put it on ${project.key}: ${said}`);
  }
}
