import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StoreFile {
  projects: Record<string, { key: string; name: string; sendVerificationEmails: boolean }>;
  customers: Record<string, { email: string; fullName: string; passwordHash?: string; mustChangePassword: boolean; projects: string[] }>;
  invitations: Record<string, Record<string, { status: string; deferred: boolean; email: string }>>;
}

/** The local store as a user would find it on disk. */
export async function readStore(dir: string, name = 'jsm-store.json'): Promise<StoreFile> {
  return JSON.parse(await readFile(join(dir, name), 'utf8')) as StoreFile;
}

/** The stored full names, by lower-cased email. */
export async function storedNames(dir: string): Promise<Record<string, string>> {
  const store = await readStore(dir);
  return Object.fromEntries(Object.entries(store.customers).map(([key, c]) => [key, c.fullName]));
}
