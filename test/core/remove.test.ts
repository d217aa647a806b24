/** customers remove's core on the local store, in process: decisions per email, organizations, the guard, durability. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { applyRemoval, planRemoval, removalLimit } from '../../src/core/remove.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

/** ITH and OPS; ann a customer of ITH in Acme (on ITH); eve a customer of OPS only, in Acme too. */
async function store(): Promise<string> {
  const path = join(await tempDir(), 'jsm-store.json');
  const target = await LocalTarget.open(path);
  const ith = await target.createProject('ITH', 'IT Help');
  const ops = await target.createProject('OPS', 'Operations');
  const acme = await target.createOrganization('Acme');
  await target.addOrganizationToProject(ith, acme);
  await target.provision(ith, [{ email: 'ann@acme.example', key: 'ann@acme.example', fullName: 'Ann', exists: null }]);
  await target.provision(ops, [{ email: 'eve@acme.example', key: 'eve@acme.example', fullName: 'Eve', exists: null }]);
  await target.joinOrganization(acme, [{ key: 'ann@acme.example', email: 'ann@acme.example' }, { key: 'eve@acme.example', email: 'eve@acme.example' }]);
  await target.close();
  return path;
}

describe('customers remove on the local store', () => {
  it('the limit is max(5, 10%)', () => {
    expect([0, 10, 59, 60, 1000].map(removalLimit)).toEqual([5, 5, 5, 6, 100]);
  });

  it('a member of an organization on the project is its customer too: removed by leaving it; her project OPS stays; durable after reopening', async () => {
    const path = await store();
    let target = await LocalTarget.open(path);
    const plan = await planRemoval(target, await target.getProject('ITH'), [{ line: 1, email: 'eve@acme.example' }, { line: 2, email: 'ann@acme.example' }]);
    expect(plan.results.map((r) => [r.email, r.status, r.organizations])).toEqual([['eve@acme.example', 'removed', ['Acme']], ['ann@acme.example', 'removed', ['Acme']]]);
    expect(await applyRemoval(target, plan)).toMatchObject({ left: 2 });
    await target.close();
    target = await LocalTarget.open(path);
    expect(await target.listOrganizations()).toEqual([{ name: 'Acme', members: 0 }]);
    const ops: string[] = [];
    for await (const c of target.listCustomers(await target.getProject('OPS'))) ops.push(c.email);
    expect(ops).toEqual(['eve@acme.example']);
    const ith: string[] = [];
    for await (const c of target.listCustomers(await target.getProject('ITH'))) ith.push(c.email);
    expect(ith).toEqual([]);
    await target.close();
  });

  it('above the limit: UsageError naming the count and --max-removals, nothing changed', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const project = await target.getProject('ITH');
    const error = await planRemoval(target, project, [{ line: 1, email: 'ann@acme.example' }], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toContain('--max-removals 1');
    await target.close();
  });
});
