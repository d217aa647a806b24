/**
 * Matching people to accounts where the instance hides emails (User email visibility Hidden or
 * Masked, or no Browse users and groups): no account is created on a guess. Organizations by an
 * account that is not an agent: none are made twice.
 */
import { describe, expect, it } from 'vitest';
import { rows, useRest } from './helpers.js';
import type { JsmDoubleOptions } from '../support/jsm-double.js';

const rest = useRest();
const LDAP = { name: 'jsmith', emailAddress: 'john.smith@corp.example', displayName: 'John Smith' };
const ROW = { email: 'john.smith@corp.example', key: 'john.smith@corp.example', fullName: 'John Smith', exists: null };
const WRITES = (calls: { method: string }[]) => calls.filter((c) => c.method !== 'GET');

describe('emails that cannot be matched', () => {
  const hiding: [string, JsmDoubleOptions, RegExp][] = [
    ['hidden', { emailVisibility: 'hidden' }, /User email visibility: Hidden/],
    ['masked', { emailVisibility: 'masked' }, /masked \("admin at jira dot example"/],
    ['no Browse users and groups', { account: { browseUsers: false } }, /lacks the global permission Browse users and groups/],
  ];
  for (const [what, options, why] of hiding) {
    it(`${what}: an LDAP user's email makes no second account; the run stops before any write`, async () => {
      const jsm = await rest.double({ ...options, existingUsers: [LDAP] });
      const target = await rest.target(jsm);
      const project = await target.getProject('ITH');
      const error = await target.provision(project, [ROW, ...rows(3)]).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'emails-not-matchable',
        message: expect.stringMatching(why),
        hint: expect.stringContaining('Administration > System > General configuration > User email visibility'),
      });
      expect((error as { hint: string }).hint).toMatch(/--match-accounts username.*--match-accounts jsm-username/);
      expect(WRITES(jsm.calls)).toEqual([]);
      expect(jsm.users.size).toBe(1);
    });
  }

  it('a dry run (the look-up) stops the same way', async () => {
    const jsm = await rest.double({ emailVisibility: 'hidden', existingUsers: [LDAP] });
    const target = await rest.target(jsm);
    await expect(target.lookup([ROW])).rejects.toMatchObject({ code: 'emails-not-matchable' });
  });

  it('public: the check passes and the LDAP account is found as existing', async () => {
    const jsm = await rest.double({ existingUsers: [LDAP] });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [ROW, ...rows(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['existing', 'created', 'created']);
    expect(jsm.desks.find((d) => d.projectKey === 'ITH')?.customers.has('jsmith')).toBe(true);
  });

  it('hidden, rows naming their username: resolved by it, nothing created', async () => {
    const jsm = await rest.double({ emailVisibility: 'hidden', existingUsers: [LDAP] });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [{ ...ROW, username: 'jsmith' }]);
    expect(outcomes).toEqual([{ status: 'existing', fullName: expect.any(String) }]);
    expect(jsm.creates).toEqual([]);
  });

  it('masked, a username whose account has another email is still refused', async () => {
    const jsm = await rest.double({ emailVisibility: 'masked', existingUsers: [LDAP] });
    const target = await rest.target(jsm);
    const [outcome] = await target.provision(await target.getProject('ITH'), [{ ...ROW, email: 'jane@corp.example', key: 'jane@corp.example', username: 'jsmith' }]);
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('belongs to an account with another email') });
  });

  it('--match-accounts username: a row without a username fails, the others go on', async () => {
    const jsm = await rest.double({ emailVisibility: 'hidden', existingUsers: [LDAP] });
    const target = await rest.target(jsm, { match: 'username' });
    const outcomes = await target.provision(await target.getProject('ITH'), [{ ...ROW, username: 'jsmith' }, ...rows(1)]);
    expect(outcomes).toEqual([{ status: 'existing', fullName: expect.any(String) }, { status: 'failed', reason: expect.stringContaining('names no username') }]);
    expect(jsm.creates).toEqual([]);
  });

  it('--match-accounts jsm-username: the account JSM made (username = email) is found; a new email is created', async () => {
    const made = { name: 'ann@example.com', emailAddress: 'ann@example.com', displayName: 'Ann' };
    const jsm = await rest.double({ emailVisibility: 'hidden', existingUsers: [made] });
    const target = await rest.target(jsm, { match: 'jsm-username' });
    const outcomes = await target.provision(await target.getProject('ITH'), [
      { email: 'ann@example.com', key: 'ann@example.com', fullName: 'Ann', exists: null },
      ...rows(1),
    ]);
    expect(outcomes).toEqual([{ status: 'existing', fullName: expect.any(String) }, { status: 'created' }]);
    expect(jsm.creates.map((c) => c.username)).toEqual(['c0@example.com']);
  });
});

describe('organizations seen by an account that is not an agent', () => {
  it('are refused before any write, instead of being made twice', async () => {
    const jsm = await rest.double({ account: { admin: false, agentOf: [] }, organizations: [{ name: 'Acme', members: ['someone'] }] });
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    await expect(target.organizations(project)).rejects.toMatchObject({
      code: 'organizations-not-visible',
      message: expect.stringContaining('neither an agent of ITH nor a Jira admin'),
    });
    expect(WRITES(jsm.calls)).toEqual([]);
  });

  it('an agent of the project sees them all', async () => {
    const jsm = await rest.double({ account: { admin: false, agentOf: ['ITH'] }, organizations: [{ name: 'Acme', members: ['someone'] }] });
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    expect((await target.organizations(project)).map((o) => o.name)).toEqual(['Acme']);
  });
});
