/**
 * The organization lists a JSM target reads once per run and keeps (JSM has no look-up by name):
 * every organization, and those on each desk, read in pages by the target's own reader (Data
 * Center's sends the experimental header). A read that fails is not kept, so a later call reads
 * again; a target forgets a list when a create or an add whose answer was lost leaves it unsure.
 */
import { z } from 'zod';

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
}
