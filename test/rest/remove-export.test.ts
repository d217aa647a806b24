/**
 * `customers export` and `customers remove` on the REST target, in process against the JSM double:
 * the desk's customers read in pages of 50, organizations by username, removals through JSM's own
 * calls (DELETE desk customers, DELETE organization users) by username, never an account deleted.
 */
import { describe, expect, it } from 'vitest';
import { exportCustomers } from '../../src/core/export.js';
import { applyRemoval, planRemoval } from '../../src/core/remove.js';
import { TargetError, UsageError } from '../../src/core/errors.js';
import { requestsPer, type JsmDoubleOptions } from '../support/jsm-double.js';
import { useRest } from './helpers.js';

const rest = useRest();
const SD = '/rest/servicedeskapi';

/** 120 customers of ITH (three pages), directory usernames `u<i>` whose emails differ; u0 and u1 in Acme (on ITH), u0 in Globex (not on ITH). */
function seed(extra: Partial<JsmDoubleOptions> = {}): JsmDoubleOptions {
  const users = Array.from({ length: 120 }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` }));
  return {
    desks: 2,
    existingUsers: users,
    projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }, { key: 'OPS', name: 'Operations', customers: ['u0'] }],
    organizations: [
      { name: 'Acme', members: ['u0', 'u1'], projects: ['ITH'] },
      { name: 'Globex', members: ['u0'], projects: ['OPS'] },
    ],
    ...extra,
  };
}

describe('customers export and remove over REST', () => {
  it('export gives every customer, read in pages of 50, with the project\'s organizations by username', async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const rows = await exportCustomers(target, await target.getProject('ITH'));
    expect(rows).toHaveLength(120);
    expect(rows.find((r) => r.email === 'person0@corp.example')).toEqual({ email: 'person0@corp.example', fullName: 'Person 0', organizations: ['Acme'] });
    expect(rows.find((r) => r.email === 'person2@corp.example')?.organizations).toEqual([]);
    const pages = jsm.calls.filter((c) => c.method === 'GET' && /\/servicedesk\/\d+\/customer$/.test(c.path));
    expect(pages.map((c) => [c.query.start, c.query.limit, c.headers['x-experimentalapi']])).toEqual([['0', '50', 'opt-in'], ['50', '50', 'opt-in'], ['100', '50', 'opt-in']]);
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });

  it('remove: out of the desk and the project\'s organizations by username, through JSM\'s calls; the account, OPS and Globex stay', async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const plan = await planRemoval(target, project, [{ line: 1, email: 'PERSON0@corp.example' }, { line: 2, email: 'person5@corp.example' }, { line: 3, email: 'nobody@corp.example' }]);
    expect(plan.results.map((r) => [r.email, r.status, r.organizations])).toEqual([
      ['person0@corp.example', 'removed', ['Acme']],
      ['person5@corp.example', 'removed', []],
      ['nobody@corp.example', 'not-a-customer', []],
    ]);
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    const outcome = await applyRemoval(target, plan);
    expect(outcome.left).toBe(1);
    expect(outcome.results.map((r) => r.status)).toEqual(['removed', 'removed', 'not-a-customer']);
    const writes = jsm.calls.filter((c) => c.method !== 'GET').map((c) => [c.method, c.path, c.body]);
    expect(writes).toEqual([
      ['DELETE', `${SD}/organization/1/user`, { usernames: ['u0'] }],
      ['DELETE', `${SD}/servicedesk/3/customer`, { usernames: ['u0', 'u5'] }],
    ]);
    expect(jsm.customerRemovals).toEqual(['3/u0', '3/u5']);
    expect(jsm.organizationLeaves).toEqual(['1/u0']);
    const desk = (key: string) => jsm.desks.find((d) => d.projectKey === key);
    expect(desk('ITH')?.customers.size).toBe(118);
    expect(desk('OPS')?.customers.has('u0')).toBe(true);
    expect([...(jsm.organizations.find((o) => o.name === 'Globex')?.members ?? [])]).toEqual(['u0']);
    expect(jsm.users.get('u0')?.active).toBe(true);
  });

  it('a member of an organization on the project is its customer too (not in the listing): they leave it by username, and no desk call is made for them', async () => {
    const jsm = await rest.double(seed({
      existingUsers: [...Array.from({ length: 120 }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` })), { name: 'jsmith', emailAddress: 'john.smith@corp.example', displayName: 'John Smith' }],
      organizations: [{ name: 'Acme', members: ['u0', 'u1', 'jsmith'], projects: ['ITH'] }, { name: 'Globex', members: ['jsmith'], projects: ['OPS'] }],
    }));
    const target = await rest.target(jsm);
    const plan = await planRemoval(target, await target.getProject('ITH'), [{ line: 1, email: 'John.Smith@corp.example' }]);
    expect(plan.results).toEqual([{ line: 1, email: 'John.Smith@corp.example', status: 'removed', organizations: ['Acme'] }]);
    const outcome = await applyRemoval(target, plan);
    expect(outcome).toMatchObject({ left: 1, results: [{ status: 'removed' }] });
    expect(jsm.calls.filter((c) => c.method !== 'GET').map((c) => [c.method, c.path, c.body])).toEqual([['DELETE', `${SD}/organization/1/user`, { usernames: ['jsmith'] }]]);
    expect([...(jsm.organizations.find((o) => o.name === 'Globex')?.members ?? [])]).toEqual(['jsmith']);
  });

  it('the guard refuses before any write (max(5, 10%) of 120 is 12)', async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const inputs = Array.from({ length: 13 }, (_, i) => ({ line: i + 2, email: `person${i}@corp.example` }));
    const error = await planRemoval(target, await target.getProject('ITH'), inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('too-many-removals');
    expect((error as UsageError).message).toContain('13 of the 120 customers of ITH would be removed: more than 12');
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });

  it('an instance that does not list customers (405): export and remove stop with the reason, nothing written', async () => {
    const jsm = await rest.double(seed({ customerListRefused: 405 }));
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const error = await exportCustomers(target, project).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).code).toBe('customer-listing-unavailable');
    expect((error as TargetError).message).toContain('405');
    await expect(planRemoval(target, project, [{ line: 1, email: 'person0@corp.example' }])).rejects.toThrow(/does not offer the experimental customer listing/);
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(requestsPer(jsm, `GET ${SD}/organization`)).toBe(0);
  });
});
