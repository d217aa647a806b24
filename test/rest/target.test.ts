/** The REST target in process against the JSM double: discovery, creates, memberships, faults. */
import { describe, expect, it } from 'vitest';
import { TargetError } from '../../src/core/errors.js';
import { createAttempts, createdTwice, requestsPer } from '../support/jsm-double.js';
import { rows, useRest } from './helpers.js';

const rest = useRest();
const DESKS = 'GET /rest/servicedeskapi/servicedesk';

describe('discovery', () => {
  it('pages the desks only as far as the project, once per target; reads the setting each time', async () => {
    const jsm = await rest.double({ desks: 150, version: '5.4' });
    const target = await rest.target(jsm);
    const first = await target.getProject('ith');
    expect(first).toEqual({
      key: 'ITH',
      name: 'IT Help',
      sendVerificationEmails: true,
      portalUrl: `${jsm.url}/servicedesk/customer/portal/151`,
      deskId: '151',
      jsmVersion: '5.4',
    });
    jsm.properties.set('ITH/jsm-provision.customer-notifications', { sendVerificationEmails: false });
    expect(await target.getProject('ITH')).toMatchObject({ sendVerificationEmails: false });
    expect(jsm.calls.filter((c) => `${c.method} ${c.path}` === DESKS).map((c) => c.query.start)).toEqual(['0', '50', '100', '150']);
    expect(requestsPer(jsm, 'GET /rest/servicedeskapi/info')).toBe(1);
    expect(requestsPer(jsm, 'GET /rest/api/2/project/ITH/properties/jsm-provision.customer-notifications')).toBe(2);
  });

  it('lists the projects; with only one, that one is the default', async () => {
    const jsm = await rest.double({ desks: 0 });
    const target = await rest.target(jsm);
    expect(await target.listProjects()).toEqual([expect.objectContaining({ key: 'ITH', deskId: '1', sendVerificationEmails: true })]);
  });

  it('an unknown key pages to the end and names the close matches', async () => {
    const jsm = await rest.double({ desks: 3 });
    const target = await rest.target(jsm);
    const error = await target.getProject('FILL9').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).message).toBe(`there is no service project FILL9 on ${jsm.url} (close matches: FILL1, FILL2, FILL3)`);
  });

  it('an unreadable setting property is reported and counts as "send"', async () => {
    const jsm = await rest.double();
    const notes: string[] = [];
    const target = await rest.target(jsm, { onNote: (m) => notes.push(m) });
    jsm.properties.set('ITH/jsm-provision.customer-notifications', 'yes please');
    expect(await target.getProject('ITH')).toMatchObject({ sendVerificationEmails: true });
    expect(notes).toEqual([expect.stringContaining('is not {"sendVerificationEmails": true|false}')]);
  });

  it('an instance without JSM: exit 3 naming the URL and the context path', async () => {
    const jsm = await rest.double({ contextPath: '/jira' });
    const target = await rest.target({ ...jsm, url: jsm.url.replace(/\/jira$/, '') });
    const error = await target.getProject('ITH').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not-jsm', hint: expect.stringContaining('context path') });
  });
});

describe('provision', () => {
  it('one create per row and one membership call per 50, with progress per row', async () => {
    const jsm = await rest.double();
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    let done = 0;
    const outcomes = await target.provision(project, rows(120), () => done++);
    expect(outcomes).toEqual(Array.from({ length: 120 }, () => ({ status: 'created' })));
    expect(done).toBe(120);
    expect(requestsPer(jsm, 'POST /rest/servicedeskapi/customer')).toBe(120);
    const members = jsm.calls.filter((c) => c.path === '/rest/servicedeskapi/servicedesk/61/customer');
    expect(members.map((c) => (c.body as { usernames: string[] }).usernames.length).sort()).toEqual([20, 50, 50]);
  });

  it('an answer lost after the write: the retry says "exists", and the row is created (once), not proven made by this run', async () => {
    const jsm = await rest.double({
      faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' }, { method: 'POST', path: '/rest/api/2/user', kind: 'cut-after-write' }] },
    });
    const target = await rest.target(jsm, { concurrency: 1 });
    const project = await target.getProject('ITH');
    const outcomes = await target.provision(project, [...rows(2, 'a'), ...rows(2, 'p', 'Pw-123456')]);
    // Only an answer proves which create made an account (another run may have made it meanwhile).
    expect(outcomes).toEqual([{ status: 'created', unproven: true }, { status: 'created' }, { status: 'created', unproven: true }, { status: 'created' }]);
    expect(createdTwice(jsm)).toEqual([]);
    expect(createAttempts(jsm).get('a0@example.com')).toBe(2);
    expect(createAttempts(jsm).get('p0@example.com')).toBe(2);
    expect(jsm.desks[60]?.customers.size).toBe(4);
  });

  it('an existing user stays existing after a 503 (nothing was done), and on 409', async () => {
    for (const duplicateStatus of [400, 409] as const) {
      const jsm = await rest.double({
        duplicateStatus,
        existingUsers: [{ name: 'a0@example.com' }, { name: 'p0@example.com' }],
        faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: '503' }] },
      });
      const target = await rest.target(jsm, { concurrency: 1 });
      const outcomes = await target.provision(await target.getProject('ITH'), [...rows(1, 'a'), ...rows(1, 'p', 'Pw-123456')]);
      // The row's reason about the password is the core's, for every target (apply.ts).
      // The account's display name comes with it: a row's other name is noted, never applied.
      expect(outcomes).toEqual([{ status: 'existing', fullName: 'a0@example.com' }, { status: 'existing', fullName: 'p0@example.com' }]);
      expect(requestsPer(jsm, 'POST /rest/servicedeskapi/customer') + requestsPer(jsm, 'POST /rest/api/2/user')).toBe(0);
      expect(jsm.desks[60]?.customers).toEqual(new Set(['a0@example.com', 'p0@example.com']));
    }
  });

  it('a membership 400 naming missing users fails those rows only; the rest go again', async () => {
    // The ghost exists when looked up and is deleted (by someone else) before the membership call.
    let jsmRef: { users: Map<string, unknown> } | undefined;
    const jsm = await rest.double({ existingUsers: [{ name: 'ghost@example.com' }], onCreate: () => jsmRef?.users.delete('ghost@example.com') });
    jsmRef = jsm;
    const target = await rest.target(jsm, { concurrency: 1 });
    const ghost = { email: 'ghost@example.com', key: 'ghost@example.com', fullName: 'Ghost', exists: null };
    const outcomes = await target.provision(await target.getProject('ITH'), [ghost, ...rows(2), ...rows(1, 'd')]);
    expect(outcomes).toEqual([
      { status: 'failed', reason: 'JSM says the user ghost@example.com does not exist, so it could not be made a customer of ITH' },
      { status: 'created' },
      { status: 'created' },
      { status: 'created' },
    ]);
    expect(requestsPer(jsm, 'POST /rest/servicedeskapi/servicedesk/61/customer')).toBe(2);
    expect(jsm.desks[60]?.customers.size).toBe(3);
  });

  it('a create JSM refuses for another reason fails that row with what JSM said', async () => {
    const jsm = await rest.double();
    const target = await rest.target(jsm);
    const bad = { email: 'x@nodot', key: 'x@nodot', fullName: 'X', exists: null };
    const outcomes = await target.provision(await target.getProject('ITH'), [bad, ...rows(1)]);
    expect(outcomes).toEqual([
      { status: 'failed', reason: "JSM refused to create the customer: 400 Bad Request: The email address 'x@nodot' is invalid." },
      { status: 'created' },
    ]);
  });

  it('a create that keeps failing ends failed with a reason after its attempts; the others go on', async () => {
    const jsm = await rest.double({ faults: { failNext: [1, 2, 3].map(() => ({ method: 'POST', path: '/rest/servicedeskapi/customer', kind: '503' as const })) } });
    const target = await rest.target(jsm, { concurrency: 1, maxAttempts: 3 });
    const outcomes = await target.provision(await target.getProject('ITH'), rows(2));
    expect(outcomes).toEqual([
      { status: 'failed', reason: 'JSM gave no usable answer after 3 attempts (last: 503 Service Unavailable): run the same command again to finish this row' },
      { status: 'created' },
    ]);
    expect(requestsPer(jsm, 'POST /rest/servicedeskapi/customer')).toBe(4);
  });

  it('a create whose answers keep getting lost is decided by looking the account up', async () => {
    const jsm = await rest.double({ faults: { failNext: [1, 2].map(() => ({ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' as const })) } });
    const target = await rest.target(jsm, { concurrency: 1, maxAttempts: 2 });
    const [outcome] = await target.provision(await target.getProject('ITH'), rows(1));
    expect(outcome).toEqual({ status: 'created', unproven: true });
    expect(createdTwice(jsm)).toEqual([]);
    expect(jsm.desks[60]?.customers).toEqual(new Set(['c0@example.com']));
  });

  it('a create whose answers are lost, and whose look-up fails too, says the account may exist', async () => {
    const jsm = await rest.double({
      faults: {
        failNext: [
          ...[1, 2].map(() => ({ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' as const })),
          ...[1, 2].map(() => ({ method: 'GET', path: '/rest/api/2/user', kind: '503' as const })),
        ],
      },
    });
    const target = await rest.target(jsm, { concurrency: 1, maxAttempts: 2 });
    const [outcome] = await target.provision(await target.getProject('ITH'), rows(1));
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'JSM gave no usable answer after 2 attempts (last: connection lost before the answer); the account may have been created: run the same command again to finish this row',
    });
    expect(createdTwice(jsm)).toEqual([]);
  });

  it('a membership call that keeps failing fails its rows, saying the accounts were created', async () => {
    const jsm = await rest.double();
    const target = await rest.target(jsm, { maxAttempts: 2 });
    const project = await target.getProject('ITH');
    jsm.setFaults({ failNext: [1, 2].map(() => ({ method: 'POST', path: /\/servicedesk\/61\/customer$/, kind: '503' as const })) });
    const [outcome] = await target.provision(project, rows(1));
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'the account was created, but it could not be made a customer of ITH: JSM gave no usable answer after 2 attempts (last: 503 Service Unavailable); run the same command again to finish',
      accountCreated: true,
    });
  });

  it('a 401 stops the whole chunk with the authentication error', async () => {
    const jsm = await rest.double({ faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: '401' }] } });
    const target = await rest.target(jsm);
    const error = await target.provision(await target.getProject('ITH'), rows(30)).catch((e: unknown) => e);
    // The token worked for discovery: a 401 now means it expired or was revoked during the run.
    expect(error).toMatchObject({ error: { code: 'auth-failed', message: 'JSM stopped accepting JSM_TOKEN during the run (401 after earlier calls succeeded): it expired or was revoked' } });
    expect((error as { outcomes: { status: string }[] }).outcomes).toHaveLength(30);
    expect(requestsPer(jsm, 'POST /rest/servicedeskapi/customer')).toBeLessThan(30);
  });
});

describe('look-ups and listing', () => {
  it('lookup finds what provision will do, by the same rule: existing, absent, inactive and shared emails fail alike', async () => {
    const seed = {
      existingUsers: [
        { name: 'c1@example.com' },
        { name: 'jold', emailAddress: 'c2@example.com', active: false },
        { name: 'jsmith1', emailAddress: 'c3@example.com' },
        { name: 'jsmith2', emailAddress: 'C3@example.com' },
      ],
    };
    const jsm = await rest.double(seed);
    const target = await rest.target(jsm);
    const asked = rows(4);
    const found = await target.lookup(asked);
    expect(found.slice(0, 2)).toEqual(['absent', 'existing']);
    expect(found[2]).toEqual({ failed: expect.stringContaining('the account jold (c2@example.com) is inactive') });
    expect(found[3]).toEqual({ failed: expect.stringContaining('2 active Jira accounts have the email c3@example.com (jsmith1, jsmith2)') });
    expect(jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    // The real run, on a fresh double with the same accounts, ends each row as the look-up said.
    const real = await rest.double(seed);
    const realTarget = await rest.target(real);
    const outcomes = await realTarget.provision(await realTarget.getProject('ITH'), rows(4));
    expect(outcomes.map((o) => o.status)).toEqual(['created', 'existing', 'failed', 'failed']);
    expect(outcomes.slice(2).map((o) => ('reason' in o ? o.reason : ''))).toEqual([found[2], found[3]].map((f) => (f as { failed: string }).failed));
  });

  it('lookup of a row naming a username uses that account, as provision does', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'jsmith', emailAddress: 'other@example.com' }] });
    const target = await rest.target(jsm);
    const [row] = rows(1);
    expect(await target.lookup([{ ...row!, username: 'jsmith' }])).toEqual([{ failed: expect.stringContaining('the username jsmith belongs to an account with another email') }]);
  });

  it('refuses a customer listing the instance does not offer (400 without the header counts too)', async () => {
    const jsm = await rest.double({ customerListRefused: 404 });
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const listing = async () => {
      for await (const _ of target.listCustomers(project)) return;
    };
    await expect(listing()).rejects.toMatchObject({ code: 'customer-listing-unavailable' });
  });
});
