/**
 * Organizations on the REST target, in process against the JSM double: read once, each missing one
 * created once, each put on the desk once, memberships by the resolved username in batches, faults,
 * a failed membership finished by the same command again.
 */
import { describe, expect, it } from 'vitest';
import { requestsPer, type JsmDouble } from '../support/jsm-double.js';
import { runOrgs } from '../support/organizations.js';
import { useRest } from './helpers.js';

const rest = useRest();
const SD = '/rest/servicedeskapi';

/** Globex exists (not on ITH) and cara is a directory user `ccole` whose email differs in case. */
const seed = {
  existingUsers: [{ name: 'ccole', emailAddress: 'cara.cole@GLOBEX.example', displayName: 'Cara Cole' }],
  organizations: [{ name: 'Globex', members: [] }],
  desks: 3,
};

const orgWrites = (jsm: JsmDouble): number =>
  jsm.calls.filter((c) => c.method === 'POST' && (c.path === `${SD}/organization` || /\/organization(\/\d+\/user)?$/.test(c.path))).length;

function membersOf(jsm: JsmDouble): Record<string, string[]> {
  return Object.fromEntries(jsm.organizations.map((o) => [o.name, [...o.members].sort()]));
}

describe('organizations on JSM over REST', () => {
  it('a dry run reads the organizations once, counts, and writes nothing', async () => {
    const jsm = await rest.double(seed);
    const target = await rest.target(jsm);
    const dry = await runOrgs(target, { dryRun: true });
    expect(dry.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 6 });
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(requestsPer(jsm, `GET ${SD}/organization`)).toBe(1);
  });

  it('creates each missing one once, adds each to the desk once, joins by username; a second run creates and joins nothing', async () => {
    const jsm = await rest.double(seed);
    const target = await rest.target(jsm);
    const first = await runOrgs(target);
    expect(first.summary.ok).toBe(true);
    expect(first.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 6 });
    expect(jsm.organizationCreates).toEqual(['Acme Corp', 'Support Partners']);
    const desk = jsm.desks.find((d) => d.projectKey === 'ITH');
    expect([...(desk?.organizations ?? [])].map((id) => jsm.organizations.find((o) => o.id === id)?.name).sort()).toEqual(['Acme Corp', 'Globex', 'Support Partners']);
    expect(membersOf(jsm)).toEqual({
      Globex: ['ccole', 'dan.dole@globex.example'],
      'Acme Corp': ['ann.archer@acme.example', 'bob.baker@acme.example'],
      'Support Partners': ['bob.baker@acme.example', 'dan.dole@globex.example'],
    });
    // Memberships named the resolved username, never cara's email; the organization id went as a number.
    const named = jsm.calls.filter((c) => c.method === 'POST' && /\/organization\/\d+\/user$/.test(c.path)).flatMap((c) => (c.body as { usernames: string[] }).usernames);
    expect(named).toContain('ccole');
    expect(named.some((n) => n.toLowerCase().startsWith('cara'))).toBe(false);
    const deskAdds = jsm.calls.filter((c) => c.method === 'POST' && c.path === `${SD}/servicedesk/${desk?.id}/organization`);
    expect(deskAdds.map((c) => typeof (c.body as { organizationId: unknown }).organizationId)).toEqual(['number', 'number', 'number']);
    expect(requestsPer(jsm, `GET ${SD}/organization`)).toBe(1);
    await target.close();

    const again = await rest.target(jsm);
    const writesBefore = orgWrites(jsm);
    const second = await runOrgs(again);
    expect(second.summary.organizations).toEqual({ created: 0, addedToProject: 0, memberships: 0 });
    expect(second.summary.totals).toMatchObject({ existing: 5, created: 0 });
    expect(orgWrites(jsm)).toBe(writesBefore);
    expect(await again.listOrganizations(await again.getProject('ITH'))).toEqual([
      { name: 'Acme Corp', members: 2 },
      { name: 'Globex', members: 2 },
      { name: 'Support Partners', members: 2 },
    ]);
  });

  it('under cut answers and 503s: each organization exists once, every membership is made, nothing twice', async () => {
    // The first create's answer is lost for sure (the retry meets "already exists"); the rest at random.
    const failNext = [{ method: 'POST', path: `${SD}/organization`, kind: 'cut-after-write' as const }, { method: 'POST', path: /\/organization\/\d+\/user$/, kind: 'cut-after-write' as const }];
    const jsm = await rest.double({ ...seed, faults: { cutAfterWriteRate: 0.3, status503Rate: 0.1, seed: 11, failNext } });
    const target = await rest.target(jsm);
    const run = await runOrgs(target);
    expect(run.summary.totals).toMatchObject({ created: 4, existing: 1, failed: 0 });
    expect(jsm.calls.some((c) => c.fault === 'cut-after-write' && c.path === `${SD}/organization`)).toBe(true);
    expect(jsm.organizations.map((o) => o.name).sort()).toEqual(['Acme Corp', 'Globex', 'Support Partners']);
    expect(membersOf(jsm)).toEqual({
      Globex: ['ccole', 'dan.dole@globex.example'],
      'Acme Corp': ['ann.archer@acme.example', 'bob.baker@acme.example'],
      'Support Partners': ['bob.baker@acme.example', 'dan.dole@globex.example'],
    });
  });

  it('a membership that fails makes its rows failed with the reason; the same command again finishes them', async () => {
    const jsm = await rest.double(seed);
    const target = await rest.target(jsm, { maxAttempts: 2 });
    jsm.setFaults({ failNext: [1, 2].map(() => ({ method: 'POST', path: /^\/rest\/servicedeskapi\/organization\/1\/user$/, kind: 'cut-before-write' as const })) });
    const first = await runOrgs(target);
    expect(first.rows.map((r) => [r.email, r.status])).toEqual([
      ['ann.archer@acme.example', 'created'],
      ['bob.baker@acme.example', 'created'],
      ['Cara.Cole@globex.example', 'failed'],
      ['dan.dole@globex.example', 'failed'],
      ['erin.east@initech.example', 'created'],
    ]);
    expect(first.rows[2]?.reason).toMatch(/^it could not join the organization 'Globex' \(JSM gave no usable answer after 2 attempts.*\): run the same command again to finish$/);
    expect(first.rows[3]?.reason).toMatch(/^the customer was created, but it could not join the organization 'Globex'/);
    expect(first.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 4 });
    await target.close();

    const again = await rest.target(jsm);
    const second = await runOrgs(again);
    expect(second.summary.ok).toBe(true);
    expect(second.summary.organizations).toEqual({ created: 0, addedToProject: 0, memberships: 2 });
    expect(membersOf(jsm).Globex).toEqual(['ccole', 'dan.dole@globex.example']);
  });
});
