/**
 * A store written by the release before organizations (format 1, fixtures/store-format-1.json,
 * written by commit cfb59ba) is read as it is and upgraded to format 2 in place by the next commit,
 * with everything it held.
 */
import { copyFile, readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/core/pkcs5s2.js';
import { Secret } from '../../src/core/secret.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';
import { runOrgs } from '../support/organizations.js';

const tempDir = useTempDirs();
const FIXTURE = fileURLToPath(new URL('./fixtures/store-format-1.json', import.meta.url));

async function oldStore(): Promise<string> {
  const path = join(await tempDir(), 'jsm-store.json');
  await copyFile(FIXTURE, path);
  return path;
}

describe('a format-1 store (the release before organizations)', () => {
  it('is read as it is, and a command that only reads leaves the file byte for byte', async () => {
    const path = await oldStore();
    const before = await readFile(path, 'utf8');
    const target = await LocalTarget.open(path);
    expect((await target.listProjects()).map((p) => p.key)).toEqual(['ITH']);
    expect(await target.listOrganizations()).toEqual([]);
    const customers = [];
    for await (const c of target.listCustomers(await target.getProject('ITH'))) customers.push(c.email);
    expect(customers).toEqual(['ann@acme.example', 'bob@acme.example', 'cara@globex.example', 'dan@initech.example']);
    await target.close();
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('is upgraded to format 2 by the next write, in place, losing nothing it held', async () => {
    const path = await oldStore();
    const old = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const target = await LocalTarget.open(path);
    const run = await runOrgs(target, {
      rows: [
        { line: 2, email: 'ann@acme.example', fullName: 'Ann Able', organizations: ['Acme'] },
        { line: 3, email: 'eve@acme.example', fullName: 'Eve Evans', organizations: ['acme'] },
      ],
    });
    expect(run.summary.organizations).toEqual({ created: 1, addedToProject: 1, memberships: 2 });
    await target.close();

    const text = await readFile(path, 'utf8');
    const upgraded = JSON.parse(text) as Record<string, Record<string, unknown>>;
    expect(upgraded.format).toBe(2);
    // Every project, customer and invitation of the old store is still there, as it was.
    expect(upgraded.projects).toEqual(old.projects);
    for (const [key, customer] of Object.entries(old.customers as Record<string, unknown>)) expect(upgraded.customers?.[key]).toEqual(customer);
    // An invitation record leaves out its time when it is its customer's (the compact form).
    const customers = upgraded.customers as Record<string, { createdAt: string }>;
    const invitations = Object.entries((upgraded.invitations?.ITH ?? {}) as Record<string, { updatedAt?: string }>);
    const whole = Object.fromEntries(invitations.map(([key, r]) => [key, { ...r, updatedAt: r.updatedAt ?? customers[key]?.createdAt }]));
    expect(whole).toMatchObject((old.invitations as Record<string, object>).ITH ?? {});
    expect(Object.keys(upgraded.customers ?? {})).toHaveLength(5);
    expect(Object.keys(upgraded.organizations ?? {})).toEqual(['acme']);
    // The same atomic write as any commit: no temp file or journal left beside it.
    expect(await readdir(join(path, '..'))).toEqual(['jsm-store.json']);

    // It reads back through the full check, the password hash still verifies, the ledger is intact.
    const store = await LocalStore.open(path);
    const ann = store.data.customers.get('ann@acme.example');
    expect(await verifyPassword(new Secret('Secret-pass-1'), ann?.passwordHash ?? '')).toBe(true);
    expect(store.data.invitations.ITH?.get('ann@acme.example')).toMatchObject({ status: 'pending', deferred: true, language: 'de', email: 'ann@acme.example' });
    expect(store.data.invitations.ITH?.get('dan@initech.example')).toMatchObject({ status: 'suppressed', suppressedBy: 'flag' });
    expect(store.data.organizations.acme?.members).toEqual({ 'ann@acme.example': expect.any(String), 'eve@acme.example': expect.any(String) });
  });
});
