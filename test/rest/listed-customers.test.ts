/**
 * A sync or a plan on Data Center reads the project's customers in pages of 50; rows already
 * customers are known from that listing, so neither the look-up (dry run, plan) nor the real run
 * searches for them one by one: only rows not in it are searched for, or created.
 */
import { describe, expect, it } from 'vitest';
import type { ProvisionRequest } from '../../src/core/target.js';
import { ListedAccounts } from '../../src/targets/rest/listed.js';
import { requestsPer, type JsmDoubleOptions } from '../support/jsm-double.js';
import { rows, useRest } from './helpers.js';

const rest = useRest();
const SD = '/rest/servicedeskapi';
const SEARCH = 'GET /rest/api/2/user/search';
const N = 240;

/** N customers of ITH with directory usernames (`u<i>`, emails that differ from them). */
function seed(extra: Partial<JsmDoubleOptions> = {}): JsmDoubleOptions {
  const users = Array.from({ length: N }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` }));
  return { desks: 2, existingUsers: users, projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }], ...extra };
}

function existingRows(): ProvisionRequest[] {
  return Array.from({ length: N }, (_, i) => ({ email: `Person${i}@corp.example`, key: `person${i}@corp.example`, fullName: `Person ${i}`, exists: null }));
}

describe('the customer listing stands in for a search per existing row', () => {
  it(`${N} rows already customers: ${N / 50} listing pages and no search; the 2 new rows alone are searched for and created`, async () => {
    const jsm = await rest.double(seed());
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    let listed = 0;
    for await (const _ of target.listCustomers(project)) listed++;
    expect(listed).toBe(N);
    const all = [...existingRows(), ...rows(2, 'new')];
    const verdicts = await target.lookup(all);
    expect(verdicts.filter((v) => v === 'existing')).toHaveLength(N);
    expect(verdicts.slice(N)).toEqual(['absent', 'absent']);
    expect(requestsPer(jsm, `GET ${SD}/servicedesk/3/customer`)).toBe(Math.ceil(N / 50));
    // Two searches for the rows the listing does not have, and those of the identity check (the account's own email).
    const searchedFor = jsm.calls.filter((c) => `${c.method} ${c.path}` === SEARCH).map((c) => c.query.username);
    expect(searchedFor.filter((q) => q?.toLowerCase().startsWith('person'))).toEqual([]);
    expect(searchedFor.filter((q) => q?.startsWith('new'))).toEqual(['new0@example.com', 'new1@example.com']);

    const before = jsm.calls.length;
    const outcomes = await target.provision(project, all);
    expect(outcomes.filter((o) => o.status === 'existing')).toHaveLength(N);
    expect(outcomes.slice(N).map((o) => o.status)).toEqual(['created', 'created']);
    // The real run searches only for the new rows again (its own rule before a create), never for the listed ones.
    const rowSearches = jsm.calls.slice(before).filter((c) => `${c.method} ${c.path}` === SEARCH && c.query.username !== 'admin@jira.example');
    expect(rowSearches.map((c) => c.query.username)).toEqual(['new0@example.com', 'new1@example.com']);
    expect(requestsPer(jsm, 'GET /rest/api/2/user')).toBe(0);
    // Existing customers keep their usernames for the desk call (batches of 50).
    const adds = jsm.calls.filter((c) => c.method === 'POST' && c.path === `${SD}/servicedesk/3/customer`);
    expect(adds.flatMap((c) => (c.body as { usernames: string[] }).usernames)).toEqual([...Array.from({ length: N }, (_, i) => `u${i}`), 'new0@example.com', 'new1@example.com'].sort(byNumber));
  });

  it('where the listing cannot decide (an inactive customer, a username of another email, two active customers with the email) the row is searched for, and fails as before', async () => {
    const jsm = await rest.double(seed({
      existingUsers: [
        { name: 'gone', emailAddress: 'gone@corp.example', displayName: 'Gone', active: false },
        { name: 'twin1', emailAddress: 'twin@corp.example', displayName: 'Twin' },
        { name: 'twin2', emailAddress: 'twin@corp.example', displayName: 'Twin' },
        { name: 'jsmith', emailAddress: 'john.smith@corp.example', displayName: 'John Smith' },
      ],
      projects: [{ key: 'ITH', name: 'IT Help', customers: ['gone', 'twin1', 'twin2', 'jsmith'] }],
    }));
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    for await (const _ of target.listCustomers(project)) void _;
    const verdicts = await target.lookup([
      { key: 'gone@corp.example', email: 'gone@corp.example' },
      { key: 'twin@corp.example', email: 'twin@corp.example' },
      { key: 'other@corp.example', email: 'other@corp.example', username: 'jsmith' },
      { key: 'john.smith@corp.example', email: 'john.smith@corp.example', username: 'jsmith' },
    ]);
    expect(verdicts[0]).toEqual({ failed: expect.stringContaining('inactive') });
    expect(verdicts[1]).toEqual({ failed: expect.stringContaining('2 active Jira accounts') });
    expect(verdicts[2]).toEqual({ failed: expect.stringContaining('belongs to an account with another email') });
    expect(verdicts[3]).toBe('existing');
    // jsmith with his own email was known from the listing: no GET user for him beyond the mismatched row's.
    expect(requestsPer(jsm, 'GET /rest/api/2/user')).toBe(1);
  });
});

function byNumber(a: string, b: string): number {
  const n = (s: string): number => (s.startsWith('u') ? Number(s.slice(1)) : Number.MAX_SAFE_INTEGER);
  return n(a) - n(b) || a.localeCompare(b);
}

describe('ListedAccounts: the listing decides only what findAccount would decide the same way', () => {
  const listed = new ListedAccounts();
  listed.add({ name: 'jsmith', email: 'john.smith@corp.example', active: true });
  listed.add({ name: 'fred@example.com', email: 'fred@example.com', active: true });
  listed.add({ name: 'hidden', email: '', active: true });
  listed.add({ name: 'old', email: 'old@corp.example', active: false });

  it('by email: the one active listed customer with it; an inactive one is left to the search', () => {
    expect(listed.find({ email: 'John.Smith@corp.example' })?.name).toBe('jsmith');
    expect(listed.find({ email: 'old@corp.example' })).toBeUndefined();
    expect(listed.find({ email: 'nobody@corp.example' })).toBeUndefined();
  });

  it('by username: that listed account when its email is the row\'s (a hidden email cannot say no, as in findAccount)', () => {
    expect(listed.find({ email: 'john.smith@corp.example', username: 'JSmith' })?.name).toBe('jsmith');
    expect(listed.find({ email: 'other@corp.example', username: 'jsmith' })).toBeUndefined();
    expect(listed.find({ email: 'someone@corp.example', username: 'hidden' })?.name).toBe('hidden');
  });

  it('follows --match-accounts: username needs a username column; jsm-username takes the email as the username', () => {
    expect(listed.find({ email: 'john.smith@corp.example' }, 'username')).toBeUndefined();
    expect(listed.find({ email: 'fred@example.com' }, 'jsm-username')?.name).toBe('fred@example.com');
    expect(listed.find({ email: 'john.smith@corp.example' }, 'jsm-username')).toBeUndefined();
  });

  it('an account listed again replaces what was known of it', () => {
    const again = new ListedAccounts();
    again.add({ name: 'ann', email: 'ann@corp.example', active: true });
    again.add({ name: 'ann', email: 'ann.new@corp.example', active: true });
    expect(again.find({ email: 'ann@corp.example' })).toBeUndefined();
    expect(again.find({ email: 'ann.new@corp.example' })?.name).toBe('ann');
    expect(again.size).toBe(1);
  });
});

describe('a listing refused to the account (403)', () => {
  it('says the account may not see the customers and what it needs, not that the instance lacks the call; nothing written', async () => {
    const jsm = await rest.double(seed({ customerListRefused: 403 }));
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const error = await (async () => {
      for await (const _ of target.listCustomers(project)) void _;
    })().catch((e: unknown) => e as Error & { code?: string; hint?: string });
    expect(error).toMatchObject({ code: 'customer-listing-unavailable' });
    expect(error?.message).toContain('refused to list the customers of ITH to this account');
    expect(error?.message).toContain('403');
    expect(error?.message).not.toContain('does not offer');
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });
});

describe('members of the project\'s organizations are known accounts too', () => {
  it('a row of a member read from an organization on the project is not searched for; one of an organization elsewhere still is', async () => {
    const jsm = await rest.double(seed({
      existingUsers: [
        { name: 'jsmith', emailAddress: 'john.smith@corp.example', displayName: 'John Smith' },
        { name: 'aday', emailAddress: 'ann.day@corp.example', displayName: 'Ann Day' },
      ],
      projects: [{ key: 'ITH', name: 'IT Help', customers: [] }, { key: 'OPS', name: 'Operations', customers: [] }],
      organizations: [{ name: 'Acme', members: ['jsmith'], projects: ['ITH'] }, { name: 'Initech', members: ['aday'], projects: ['OPS'] }],
    }));
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    for (const org of await target.organizations(project)) await target.organizationMembers(org);
    const before = jsm.calls.length;
    expect(await target.lookup([{ key: 'john.smith@corp.example', email: 'john.smith@corp.example' }, { key: 'ann.day@corp.example', email: 'ann.day@corp.example' }])).toEqual(['existing', 'existing']);
    const searched = jsm.calls.slice(before).filter((c) => `${c.method} ${c.path}` === SEARCH && c.query.username !== 'admin@jira.example').map((c) => c.query.username);
    expect(searched).toEqual(['ann.day@corp.example']);
  });
});
