import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StoreFile {
  projects: Record<string, { key: string; name: string; sendVerificationEmails: boolean }>;
  customers: Record<string, { email: string; fullName: string; passwordHash?: string; mustChangePassword: boolean; projects: string[] }>;
  invitations: Record<string, Record<string, { status: string; deferred: boolean; email: string }>>;
}

/**
 * The local store as the next run will read it: the snapshot with its log applied (batch lines of a
 * log continuing the snapshot's generation; a format-1 journal's ledger entries), read here by hand.
 */
export async function readStore(dir: string, name = 'jsm-store.json'): Promise<StoreFile> {
  const store = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoreFile & { generation?: number };
  const journal = await readFile(join(dir, `${name}.journal`), 'utf8').catch(() => '');
  const lines = journal.split('\n');
  // A line without its line break is not in the store yet.
  lines.pop();
  let generation: number | null = null;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = JSON.parse(line) as { log?: number; generation?: number; p?: string; k?: string; v?: StoreFile['invitations'][string][string]; customers?: StoreFile['customers']; invitations?: StoreFile['invitations'] };
    if (i === 0 && entry.log !== undefined) {
      generation = entry.generation ?? null;
      return;
    }
    if (generation === null) {
      if (store.generation === undefined && entry.p && entry.k && entry.v) (store.invitations[entry.p] ??= {})[entry.k] = entry.v;
      return;
    }
    if (generation !== store.generation) return;
    Object.assign(store.customers, entry.customers ?? {});
    for (const [project, records] of Object.entries(entry.invitations ?? {})) Object.assign((store.invitations[project] ??= {}), records);
  });
  // Records leave out what the customer record already says (the store's compact form).
  for (const records of Object.values(store.invitations)) {
    for (const [key, record] of Object.entries(records)) {
      record.email ??= store.customers[key]?.email ?? '';
      record.deferred ??= false;
    }
  }
  return store;
}

/** The stored full names, by lower-cased email. */
export async function storedNames(dir: string): Promise<Record<string, string>> {
  const store = await readStore(dir);
  return Object.fromEntries(Object.entries(store.customers).map(([key, c]) => [key, c.fullName]));
}
