/**
 * `customers export`: the project's customers as the import reads them back (email, full name,
 * the project's organizations they are members of, the language their invitation was written in
 * where this tool knows it), sorted by email so that two exports compare line by line.
 */
import type { Target } from './target.js';
import type { ProjectInfo } from './types.js';
import { emailKey } from './validate.js';

export interface ExportRow {
  email: string;
  fullName: string;
  /** The project's organizations the customer is a member of, by name. */
  organizations: string[];
  /** The canonical language code of their invitation, when the ledger has one. */
  language?: string;
}

export async function exportCustomers(target: Target, project: ProjectInfo): Promise<ExportRow[]> {
  const rows: (ExportRow & { names: string[] })[] = [];
  for await (const c of target.listCustomers(project)) {
    const key = emailKey(c.email);
    const language = target.ledger.get(project.key, key)?.language;
    rows.push({ email: c.email, fullName: c.fullName, organizations: [], ...(language !== undefined ? { language } : {}), names: [key, ...(c.account !== undefined ? [c.account.toLowerCase()] : [])] });
  }
  if (rows.length > 0) {
    const orgs = (await target.organizations(project)).filter((o) => o.inProject).sort((a, b) => a.name.localeCompare(b.name));
    for (const org of orgs) {
      const members = await target.organizationMembers(org);
      for (const row of rows) if (row.names.some((n) => members.has(n))) row.organizations.push(org.name);
    }
  }
  rows.sort((a, b) => emailKey(a.email).localeCompare(emailKey(b.email)));
  return rows.map(({ names: _names, ...row }) => row);
}
