import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StoreFile {
  projects: Record<string, { key: string; name: string; sendVerificationEmails: boolean }>;
  customers: Record<string, { email: string; fullName: string; passwordHash?: string; mustChangePassword: boolean; projects: string[] }>;
  invitations: Record<string, Record<string, { status: string; deferred: boolean; email: string }>>;
}

/** The local store as the next run will read it: the file, with its journal's ledger entries applied. */
export async function readStore(dir: string, name = 'jsm-store.json'): Promise<StoreFile> {
  const store = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoreFile;
  const journal = await readFile(join(dir, `${name}.journal`), 'utf8').catch(() => '');
  for (const line of journal.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { p: string; k: string; v: StoreFile['invitations'][string][string] };
    (store.invitations[entry.p] ??= {})[entry.k] = entry.v;
  }
  // Records leave out what the customer record already says (the store's compact form).
  for (const records of Object.values(store.invitations)) {
    for (const [key, record] of Object.entries(records)) {
      record.email ??= store.customers[key]?.email ?? '';
    }
  }
  return store;
}

/** The stored full names, by lower-cased email. */
export async function storedNames(dir: string): Promise<Record<string, string>> {
  const store = await readStore(dir);
  return Object.fromEntries(Object.entries(store.customers).map(([key, c]) => [key, c.fullName]));
}
