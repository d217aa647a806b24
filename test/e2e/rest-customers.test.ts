/**
 * `customers export` and `customers remove` through the built CLI against the JSM double: an export
 * imported again makes nothing new, a removal's JSON, and an instance without the customer listing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRestCli } from '../rest/cli.js';

const restCli = useRestCli();

const seed = () => {
  const users = Array.from({ length: 60 }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` }));
  return {
    desks: 2,
    existingUsers: users,
    projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }],
    organizations: [{ name: 'Acme', members: ['u0', 'u1'], projects: ['ITH'] }],
  };
};

describe('customers export and remove on JSM', () => {
  it('exports every customer; importing the export into the same project creates, joins and invites nothing', async () => {
    const run = await restCli(seed());
    const exported = await run.cli(['customers', 'export', '--project', 'ITH', '--output', 'ith.csv', '--json']);
    expect(exported.code).toBe(0);
    expect(exported.json()).toMatchObject({ ok: true, target: 'rest', count: 60 });
    const again = await run.cli(['import-csv', 'ith.csv', '--project', 'ITH', '--no-invite', '--json']);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ totals: { rows: 60, created: 0, existing: 60 }, organizations: { created: 0, addedToProject: 0, memberships: 0 } });
    expect(run.jsm.creates).toEqual([]);
  });

  it('removes by username through JSM, with the usual one JSON object', async () => {
    const run = await restCli(seed());
    await writeFile(join(run.dir, 'leavers.txt'), 'person0@corp.example\nperson9@corp.example\n');
    const r = await run.cli(['customers', 'remove', '--project', 'ITH', '--file', 'leavers.txt', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, target: 'rest', totals: { emails: 2, removed: 2 }, organizations: { left: 1 }, problems: [] });
    expect(run.jsm.customerRemovals.map((x) => x.split('/')[1])).toEqual(['u0', 'u9']);
    expect(run.jsm.organizationLeaves.map((x) => x.split('/')[1])).toEqual(['u0']);
  });

  it('an instance that answers 405 to the listing: exit 3 with the reason, nothing written', async () => {
    const run = await restCli({ ...seed(), customerListRefused: 405 as const });
    const r = await run.cli(['customers', 'remove', '--project', 'ITH', '--email', 'person0@corp.example', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, command: 'customers remove', error: { code: 'customer-listing-unavailable' } });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });
});
