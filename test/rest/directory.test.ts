/**
 * The REST target against directory-backed instances (LDAP/AD): usernames that are not emails,
 * emails that are not unique, inactive accounts, a username column, read-only directories, a
 * German instance, Basic sessions and the CAPTCHA. In process, against the JSM double.
 */
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import type { ProvisionRequest } from '../../src/core/target.js';
import { createdTwice, requestsPer } from '../support/jsm-double.js';
import { rows, useRest } from './helpers.js';

const rest = useRest();
const MEMBERS = 'POST /rest/servicedeskapi/servicedesk/61/customer';
const creates = (jsm: Parameters<typeof requestsPer>[0]): number =>
  requestsPer(jsm, 'POST /rest/servicedeskapi/customer') + requestsPer(jsm, 'POST /rest/api/2/user');
const row = (email: string, extra: Partial<ProvisionRequest> = {}): ProvisionRequest => ({ email, key: email.toLowerCase(), fullName: `Name of ${email}`, exists: null, ...extra });

describe('accounts are resolved by email before anything is created', () => {
  it('directory users (username ≠ email, email in another case) make no new account and join by username', async () => {
    const directory = Array.from({ length: 20 }, (_, i) => ({ name: `jsmith${i}`, emailAddress: `John.Smith${i}@Corp.Example`, displayName: `John Smith ${i}` }));
    const jsm = await rest.double({ existingUsers: directory });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), directory.map((_, i) => row(`john.smith${i}@corp.example`)));
    expect(outcomes).toEqual(directory.map(() => expect.objectContaining({ status: 'existing' })));
    expect(creates(jsm)).toBe(0);
    expect(jsm.creates).toEqual([]);
    expect(jsm.desks[60]?.customers).toEqual(new Set(directory.map((u) => u.name)));
    // Every membership call named usernames, never emails.
    const named = jsm.calls.filter((c) => `${c.method} ${c.path}` === MEMBERS).flatMap((c) => (c.body as { usernames: string[] }).usernames);
    expect(named.sort()).toEqual(directory.map((u) => u.name).sort());
  });

  it('a prefix of another address is not a match: the search hits are filtered to the exact email', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'ann', emailAddress: 'ann@example.com.au' }, { name: 'ann@example.com2', emailAddress: 'x@y.example' }] });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [row('ann@example.com')]);
    expect(outcomes).toEqual([{ status: 'created' }]);
    expect(jsm.users.get('ann@example.com')?.emailAddress).toBe('ann@example.com');
  });

  it('several active accounts with one email: the row fails naming them; nothing is created or added', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'jdoe', emailAddress: 'jd@corp.example' }, { name: 'john.doe', emailAddress: 'JD@corp.example' }] });
    const target = await rest.target(jsm);
    const [outcome] = await target.provision(await target.getProject('ITH'), [row('jd@corp.example')]);
    expect(outcome).toEqual({
      status: 'failed',
      reason: '2 active Jira accounts have the email jd@corp.example (jdoe, john.doe): pick one with a username column (or --map username=<column>), or fix the directory so that one account has it',
    });
    expect(creates(jsm)).toBe(0);
    expect(jsm.desks[60]?.customers.size).toBe(0);
  });

  it('an inactive account is refused by row: not created, not added to the desk', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'gone', emailAddress: 'gone@corp.example', active: false }] });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [row('gone@corp.example'), ...rows(1)]);
    expect(outcomes).toEqual([
      { status: 'failed', reason: "the account gone (gone@corp.example) is inactive: reactivate it in Jira's user management, then run again; it was not added to the project and not invited" },
      { status: 'created' },
    ]);
    expect(jsm.desks[60]?.customers).toEqual(new Set(['c0@example.com']));
    expect(requestsPer(jsm, 'POST /rest/servicedeskapi/customer')).toBe(1);
  });

  it('one active account beside inactive ones is the account', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'old', emailAddress: 'p@corp.example', active: false }, { name: 'new', emailAddress: 'p@corp.example' }] });
    const target = await rest.target(jsm);
    expect(await target.provision(await target.getProject('ITH'), [row('p@corp.example')])).toEqual([expect.objectContaining({ status: 'existing' })]);
    expect(jsm.desks[60]?.customers).toEqual(new Set(['new']));
  });

  it('a username column names the account: found by username, or created under it (platform API, no password, silent)', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'jsmith', emailAddress: 'john@corp.example' }, { name: 'other', emailAddress: 'o@corp.example' }] });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [
      row('john@corp.example', { username: 'JSmith' }),
      row('new@corp.example', { username: 'newbie' }),
      row('x@corp.example', { username: 'other' }),
    ]);
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'existing' }),
      { status: 'created' },
      { status: 'failed', reason: 'the username other belongs to an account with another email (o@corp.example), not x@corp.example: correct the username or the email of this row' },
    ]);
    expect(jsm.users.get('newbie')).toMatchObject({ emailAddress: 'new@corp.example', applicationKeys: [], createdVia: 'user' });
    expect(jsm.notificationsSent).toEqual([]);
    expect(jsm.desks[60]?.customers).toEqual(new Set(['jsmith', 'newbie']));
  });

  it("an existing account's password is never changed: the cell is ignored with a note", async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'jsmith', emailAddress: 'john@corp.example', password: 'theirs' }] });
    const target = await rest.target(jsm);
    const [outcome] = await target.provision(await target.getProject('ITH'), [row('john@corp.example', { password: new Secret('Pw-new-123456') })]);
    // The row's reason about the ignored password is the core's, for every target (apply.ts).
    expect(outcome).toMatchObject({ status: 'existing' });
    expect(jsm.users.get('jsmith')?.password).toBe('theirs');
    expect(jsm.calls.filter((c) => c.method !== 'GET' && JSON.stringify(c.body ?? '').includes('Pw-new'))).toEqual([]);
  });

  it('a create refused because the email is in use under this username by another account fails the row from the facts', async () => {
    // The directory has a user whose *username* is the row's email but whose email is another.
    const jsm = await rest.double({ existingUsers: [{ name: 'fred@example.com', emailAddress: 'frederick@elsewhere.example' }] });
    const target = await rest.target(jsm);
    const [outcome] = await target.provision(await target.getProject('ITH'), [row('fred@example.com')]);
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'the username fred@example.com belongs to an account with another email (frederick@elsewhere.example), not fred@example.com: correct the username or the email of this row',
    });
  });
});

describe('a German instance: answers in German, decided by status, i18n key and the accounts', () => {
  it('30% of the answers cut after the write: every row created once, nothing twice', async () => {
    const jsm = await rest.double({ language: 'de', faults: { cutAfterWriteRate: 0.3, seed: 11 } });
    const target = await rest.target(jsm);
    const outcomes = await target.provision(await target.getProject('ITH'), [...rows(60), ...rows(20, 'p', 'Pw-12345678')]);
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(80);
    expect(createdTwice(jsm)).toEqual([]);
    expect(jsm.creates.filter((c) => !c.answered).length).toBeGreaterThan(10);
    expect(jsm.desks[60]?.customers.size).toBe(80);
  });

  it('a read-only directory stops the run once (TargetError), not every row alike', async () => {
    const jsm = await rest.double({ language: 'de', readOnlyDirectory: true });
    const target = await rest.target(jsm, { concurrency: 1 });
    // Stopped part-way: the refusal, with every row's outcome (none was created).
    await expect(target.provision(await target.getProject('ITH'), rows(50))).rejects.toMatchObject({
      error: { code: 'directory-read-only', message: expect.stringContaining('its user directories are read-only or delegated') },
      outcomes: Array.from({ length: 50 }, () => ({ status: 'failed' })),
    });
    expect(creates(jsm)).toBe(1);
  });

  it('the same refusal for every create, without an i18n key, stops after a few rows', async () => {
    const jsm = await rest.double({ readOnlyDirectory: true });
    const target = await rest.target(jsm, { concurrency: 1 });
    await expect(target.provision(await target.getProject('ITH'), rows(50, 'p', 'Pw-12345678'))).rejects.toMatchObject({ error: { code: 'create-refused' } });
    expect(creates(jsm)).toBe(3);
  });
});

describe('Basic authentication: one login, then the session', () => {
  const BASIC = { JSM_TOKEN: '', JSM_USER: 'admin', JSM_PASSWORD: 'admin-pw' };

  it('300 rows log in once and reuse JSESSIONID; an ended session logs in again', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' }, sessions: { maxRequests: 400 } });
    const target = await rest.target(jsm, { env: BASIC });
    const outcomes = await target.provision(await target.getProject('ITH'), rows(300));
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(300);
    // ~610 calls; a session of 400 calls: one login, and one more when it ended.
    expect(jsm.logins).toBe(2);
    expect(target.logins).toBeLessThanOrEqual(3);
    const withCredentials = jsm.calls.filter((c) => c.headers.authorization !== undefined && c.path !== '/rest/servicedeskapi/info');
    expect(withCredentials).toHaveLength(2);
    expect(jsm.failedLogins).toBe(0);
  });

  it('a CAPTCHA stops the run at once: exit-3 error with the login URL, nothing retried', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' }, captcha: { active: true } });
    const target = await rest.target(jsm, { env: BASIC });
    await expect(target.getProject('ITH')).rejects.toMatchObject({
      code: 'captcha-required',
      message: `Jira asks for a CAPTCHA for this account after failed logins: log in once in a browser at ${jsm.url}/login.jsp, then run again (or use a personal access token)`,
    });
    expect(jsm.calls.filter((c) => c.status === 403)).toHaveLength(1);
  });

  it('an HTML 401 page is shown by its status and title, never the page', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' }, html401: true });
    const target = await rest.target(jsm, { env: { ...BASIC, JSM_PASSWORD: 'wrong' } });
    const error = (await target.getProject('ITH').then(() => ({ message: 'no error' }), (e: unknown) => e)) as { message: string; hint?: string };
    const text = `${error.message} ${error.hint ?? ''}`;
    expect(text).toContain('401 Unauthorized: Log in - Jira');
    expect(text).not.toMatch(/<|script|os_password/);
  });
});
