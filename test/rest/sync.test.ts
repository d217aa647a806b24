/**
 * A sync on Data Center, in process against the JSM double: the plan reads the project's
 * customers in pages of 50 (no search per row already there), removals go through JSM's own calls
 * by username (the desk's and the organizations'), the import part makes the new customers and
 * joins, and an export afterwards gives every customer (more than one page).
 */
import { describe, expect, it } from 'vitest';
import { applyRemovals, planDesired, type DesiredSettings } from '../../src/core/desired.js';
import { exportCustomers } from '../../src/core/export.js';
import { TargetError } from '../../src/core/errors.js';
import type { CandidateRow, ProjectInfo } from '../../src/core/types.js';
import { requestsPer, type JsmDoubleOptions } from '../support/jsm-double.js';
import { syncEmail, syncSeed } from '../support/sync-world.js';
import { useRest } from './helpers.js';

const rest = useRest();
const SD = '/rest/servicedeskapi';
const SEARCH = 'GET /rest/api/2/user/search';
const N = 150;
const email = syncEmail;

const seed = (extra: Partial<JsmDoubleOptions> = {}): JsmDoubleOptions => syncSeed(N, extra);

/** Keeps everyone but u8 and u9 (Globex); moves u3, u4 out of Acme; adds new0 (into Acme) and new1. */
function file(): CandidateRow[] {
  const rows: CandidateRow[] = [];
  let line = 2;
  for (let i = 0; i < N; i++) {
    if (i === 8 || i === 9) continue;
    const orgs = i < 3 ? ['Acme'] : i >= 5 && i < 8 ? ['Globex'] : [];
    rows.push({ line: line++, email: email(i), fullName: `Person ${i}`, organizations: orgs });
  }
  rows.push({ line: line++, email: 'new0@corp.example', fullName: 'New Zero', organizations: ['Acme'] });
  rows.push({ line: line++, email: 'new1@corp.example', fullName: 'New One', organizations: [] });
  return rows;
}

async function* source(rows: CandidateRow[]) {
  yield rows;
}

function settings(project: ProjectInfo, more: Partial<DesiredSettings> = {}): DesiredSettings {
  return { command: 'import-csv', project, kind: 'welcome', invitations: 'send', dryRun: true, sync: true, ...more };
}

describe('a sync on Data Center', () => {
  it(`plans from the listing: ${Math.ceil(N / 50)} listing pages, no search for the ${N - 2} rows already customers`, async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const plan = await planDesired(source(file()), target, settings(await target.getProject('ITH')));
    expect(plan.counts).toEqual({ create: 2, existing: N - 2, remove: 2, join: 1, leave: 4, invite: 2 });
    expect(requestsPer(jsm, `GET ${SD}/servicedesk/3/customer`)).toBe(Math.ceil(N / 50));
    const rowSearches = jsm.calls.filter((c) => `${c.method} ${c.path}` === SEARCH && c.query.username !== 'admin@jira.example').map((c) => c.query.username);
    expect(rowSearches).toEqual(['new0@corp.example', 'new1@corp.example']);
    expect(requestsPer(jsm, 'GET /rest/api/2/user')).toBe(0);
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });

  it('applies through JSM\'s calls by username: leaves, then the desk; the new customers are created and join; Initech (not on ITH) and every account stay; an export then gives every customer', async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const ith = await target.getProject('ITH');
    const plan = await planDesired(source(file()), target, settings(ith, { dryRun: false }));
    const before = jsm.calls.length;
    const done = await applyRemovals(target, plan, ith);
    expect(done).toEqual({ left: 4, removed: 2, failed: new Map() });
    const removals = jsm.calls.slice(before).filter((c) => c.method === 'DELETE').map((c) => [c.path, c.body]);
    expect(removals).toEqual(expect.arrayContaining([
      [`${SD}/organization/1/user`, { usernames: ['u3', 'u4'] }],
      [`${SD}/organization/2/user`, { usernames: ['u8', 'u9'] }],
      [`${SD}/servicedesk/3/customer`, { usernames: ['u8', 'u9'] }],
    ]));
    // Organizations first, the desk last (a run cut off in between is finished by running it again).
    expect(removals.at(-1)?.[0]).toBe(`${SD}/servicedesk/3/customer`);
    expect(removals).toHaveLength(3);

    // The import part: the file's rows through provision (the listed ones are not searched for), then the join.
    const rows = file().map((r) => ({ email: r.email, key: r.email, fullName: r.fullName ?? '', exists: null }));
    const searchesBefore = requestsPer(jsm, SEARCH);
    const outcomes = await target.provision(ith, rows);
    expect(outcomes.filter((o) => o.status === 'existing')).toHaveLength(N - 2);
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(2);
    expect(requestsPer(jsm, SEARCH) - searchesBefore).toBeLessThanOrEqual(3);
    const acme = (await target.organizations(ith)).find((o) => o.name === 'Acme');
    expect(acme).toBeDefined();
    expect(await target.joinOrganization(acme!, [{ key: 'new0@corp.example', email: 'new0@corp.example' }])).toEqual(new Map());

    const org = (name: string) => [...(jsm.organizations.find((o) => o.name === name)?.members ?? [])].sort();
    expect(org('Acme')).toEqual(['new0@corp.example', 'u0', 'u1', 'u2']);
    expect(org('Globex')).toEqual(['u5', 'u6', 'u7']);
    expect(org('Initech')).toEqual(['u0']);
    const desk = jsm.desks.find((d) => d.projectKey === 'ITH');
    expect(desk?.customers.has('u8')).toBe(false);
    expect(desk?.customers.size).toBe(N);
    expect(jsm.users.get('u8')?.active).toBe(true);

    const exported = await exportCustomers(target, ith);
    expect(exported).toHaveLength(N);
    expect(exported.find((r) => r.email === 'new0@corp.example')).toMatchObject({ fullName: 'New Zero', organizations: ['Acme'] });
    expect(exported.find((r) => r.email === email(5))?.organizations).toEqual(['Globex']);
  });

  it('a project open to everyone: JSM refuses the removals (400); those customers fail with JSM\'s answer and what to change, the others are done', async () => {
    const base = seed();
    const jsm = await rest.double({ ...base, projects: (base.projects ?? []).map((p) => (p.key === 'ITH' ? { ...p, access: 'open' as const } : p)) });
    const target = await rest.target(jsm);
    const ith = await target.getProject('ITH');
    const plan = await planDesired(source(file()), target, settings(ith, { dryRun: false }));
    const done = await applyRemovals(target, plan, ith);
    expect(done.removed).toBe(0);
    expect([...done.failed.keys()].sort()).toEqual([email(8), email(9)]);
    expect(done.failed.get(email(8))).toContain('must have closed access');
    expect(done.failed.get(email(8))).toContain('Project settings > Customer permissions');
    expect(jsm.desks.find((d) => d.projectKey === 'ITH')?.customers.has('u8')).toBe(true);
  });

  it('an instance that does not list customers (405): the sync plan stops with the reason before any write', async () => {
    const jsm = await rest.double(seed({ customerListRefused: 405 }));
    const target = await rest.target(jsm);
    const error = await planDesired(source(file()), target, settings(await target.getProject('ITH'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).code).toBe('customer-listing-unavailable');
    expect((error as TargetError).message).toContain('405');
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(requestsPer(jsm, SEARCH)).toBe(0);
  });
});
