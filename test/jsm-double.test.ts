import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAttempts, createdTwice, requestsPer, startJsmDouble, type JsmDouble,
} from './support/jsm-double.js';

const AUTH = { authorization: 'Bearer test-token' };
const OPT_IN = { 'x-experimentalapi': 'opt-in' };
const NOT_AUTH = {
  errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {},
};

interface Answer { status: number; headers: Headers; json: unknown }
async function send(d: JsmDouble, method: string, path: string, body?: unknown,
  headers: Record<string, string> = AUTH): Promise<Answer> {
  const r = await fetch(d.url + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown = text;
  try { json = text === '' ? undefined : JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: r.status, headers: r.headers, json };
}
const customer = (email: string, fullName = 'Fred F. User') => ({ email, fullName });
const platformUser = (name: string, extra: Record<string, unknown> = {}) => ({
  name, emailAddress: name, displayName: 'Wilma W.', password: 's3cret', notification: 'false', applicationKeys: [], ...extra,
});

let jsm: JsmDouble;
beforeAll(async () => {
  jsm = await startJsmDouble({ basic: { user: 'root', password: 'pw' }, existingUsers: [{ name: 'Old@Example.com' }] });
});
afterAll(async () => { await jsm.close(); });

describe('authentication and version', () => {
  it('answers /info without credentials and 401 elsewhere, recording every call', async () => {
    const info = await send(jsm, 'GET', '/rest/servicedeskapi/info', undefined, {});
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ version: '5.12.0', platformVersion: '9.12.0', isLicensedForUse: true });
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${btoa('root:bad')}` }];
    for (const headers of refused) {
      const r = await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk', undefined, headers);
      expect([r.status, r.json]).toEqual([401, NOT_AUTH]);
    }
    const basic = await send(jsm, 'GET', '/rest/api/2/serverInfo', undefined, { authorization: `Basic ${btoa('root:pw')}` });
    expect(basic.status).toBe(200);
    expect(basic.json).toMatchObject({ version: '9.12.0', versionNumbers: [9, 12, 0], deploymentType: 'Server' });
    expect(basic.headers.get('x-ausername')).toBe('root');
    expect(jsm.calls.filter((c) => c.status === 401)).toHaveLength(3);
  });
});

describe('service desks', () => {
  it('puts the test project on page 2 and caps limit at 100', async () => {
    const p1 = await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk');
    expect(p1.json).toMatchObject({ size: 50, start: 0, limit: 50, isLastPage: false });
    expect(JSON.stringify(p1.json)).not.toContain('"ITH"');
    const p2 = await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk?start=50&limit=50');
    expect(p2.json).toMatchObject({ size: 11, start: 50, isLastPage: true });
    expect((p2.json as { values: unknown[] }).values.at(-1))
      .toMatchObject({ id: '61', projectId: '10061', projectKey: 'ITH', projectName: 'IT Help' });
    expect((await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk?limit=500')).json).toMatchObject({ limit: 100, size: 61 });
    expect((await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk/61')).json).toMatchObject({ projectKey: 'ITH' });
    const missing = await send(jsm, 'GET', '/rest/servicedeskapi/servicedesk/999');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ errorMessage: expect.any(String), i18nErrorMessage: { parameters: [] } });
  });
});

describe('creating customers', () => {
  it('POST /servicedeskapi/customer: opt-in header, 201, duplicates in any case, bad email', async () => {
    expect((await send(jsm, 'POST', '/rest/servicedeskapi/customer', customer('fred@example.com'))).status).toBe(400);
    expect(jsm.users.has('fred@example.com')).toBe(false);
    const made = await send(jsm, 'POST', '/rest/servicedeskapi/customer', customer('Fred@Example.com'), { ...AUTH, ...OPT_IN });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'fred@example.com', emailAddress: 'Fred@Example.com',
      displayName: 'Fred F. User', active: true, key: expect.stringMatching(/^JIRAUSER/), timeZone: expect.any(String) });
    expect(jsm.users.get('fred@example.com')).toMatchObject({ createdVia: 'customer', applicationKeys: [] });
    for (const email of ['FRED@example.com', 'old@example.com']) {
      const dup = await send(jsm, 'POST', '/rest/servicedeskapi/customer', customer(email), { ...AUTH, ...OPT_IN });
      expect(dup.status).toBe(400);
      expect(dup.json).toEqual({ errorMessage: 'A user with that username already exists.',
        i18nErrorMessage: { i18nKey: expect.any(String), parameters: [] } });
    }
    const bad = await send(jsm, 'POST', '/rest/servicedeskapi/customer', customer('not-an-email'), { ...AUTH, ...OPT_IN });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ errorMessage: expect.stringContaining('not-an-email') });
  });

  it('POST /api/2/user: 201, no notification, duplicate as platform error, 415 without JSON', async () => {
    const made = await send(jsm, 'POST', '/rest/api/2/user', platformUser('wilma@example.com'));
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'wilma@example.com', displayName: 'Wilma W.', active: true });
    expect(jsm.users.get('wilma@example.com')).toMatchObject({ password: 's3cret', applicationKeys: [], createdVia: 'user' });
    expect(jsm.calls.at(-1)?.body).toMatchObject({ notification: 'false' });
    expect(jsm.notificationsSent).toEqual([]);
    const dup = await send(jsm, 'POST', '/rest/api/2/user', platformUser('WILMA@example.com'));
    expect([dup.status, dup.json]).toEqual([400,
      { errorMessages: [], errors: { username: 'A user with that username already exists.' } }]);
    await send(jsm, 'POST', '/rest/api/2/user', platformUser('loud@example.com', { notification: true, applicationKeys: undefined }));
    expect(jsm.notificationsSent.map((n) => n.username)).toEqual(['loud@example.com']);
    expect(jsm.users.get('loud@example.com')?.applicationKeys).toEqual(['jira-software']);
    const text = await fetch(`${jsm.url}/rest/api/2/user`, { method: 'POST', headers: AUTH, body: '{}' });
    expect(text.status).toBe(415);
    expect(createdTwice(jsm)).toEqual([]);
  });
});

describe('membership and lookups', () => {
  it('adds all or none, 204 again for members, lists with the opt-in header', async () => {
    const path = '/rest/servicedeskapi/servicedesk/61/customer';
    const partial = await send(jsm, 'POST', path, { usernames: ['fred@example.com', 'ghost@example.com'] });
    expect(partial.status).toBe(400);
    expect(partial.json).toMatchObject({ errorMessage: expect.stringContaining('ghost@example.com') });
    expect(jsm.desks[60]?.customers.size).toBe(0);
    for (let i = 0; i < 2; i++) {
      expect((await send(jsm, 'POST', path, { usernames: ['FRED@example.com', 'old@example.com'] })).status).toBe(204);
    }
    expect([...(jsm.desks[60]?.customers ?? [])]).toEqual(['fred@example.com', 'old@example.com']);
    expect((await send(jsm, 'GET', path)).status).toBe(400);
    const listed = await send(jsm, 'GET', `${path}?query=FRED`, undefined, { ...AUTH, ...OPT_IN });
    expect(listed.json).toMatchObject({ size: 1, isLastPage: true, values: [{ name: 'fred@example.com' }] });
  });

  it('finds users by username and by search', async () => {
    expect((await send(jsm, 'GET', '/rest/api/2/user?username=FRED@EXAMPLE.COM')).json).toMatchObject({ name: 'fred@example.com' });
    expect((await send(jsm, 'GET', '/rest/api/2/user?username=nobody')).status).toBe(404);
    // Jira's search matches the start of the username, the email, or a word of the display name.
    const found = await send(jsm, 'GET', '/rest/api/2/user/search?username=FRED&maxResults=2');
    expect((found.json as { name: string }[]).map((u) => u.name)).toContain('fred@example.com');
    expect((await send(jsm, 'GET', '/rest/api/2/user/search?username=Example.COM')).json).toEqual([]);
  });

  it('refuses the customer listing when told to', async () => {
    const refusing = await startJsmDouble({ customerListRefused: true, desks: 0 });
    try {
      const r = await send(refusing, 'GET', '/rest/servicedeskapi/servicedesk/1/customer', undefined, { ...AUTH, ...OPT_IN });
      expect(r.status).toBe(404);
    } finally { await refusing.close(); }
  });
});

describe('organizations', () => {
  it('opt-in header, create (201, a second of the same name refused), members all or none, desk by numeric id, pages', async () => {
    const d = await startJsmDouble({ desks: 0, existingUsers: [{ name: 'jsmith', emailAddress: 'j@corp.example' }], organizations: [{ name: 'Seeded', members: ['jsmith'] }] });
    try {
      const SD = '/rest/servicedeskapi';
      expect((await send(d, 'GET', `${SD}/organization`)).status).toBe(400);
      const made = await send(d, 'POST', `${SD}/organization`, { name: 'Acme' }, { ...AUTH, ...OPT_IN });
      expect(made).toMatchObject({ status: 201, json: { id: '2', name: 'Acme' } });
      expect((await send(d, 'POST', `${SD}/organization`, { name: 'ACME' }, { ...AUTH, ...OPT_IN })).status).toBe(400);
      expect((await send(d, 'GET', `${SD}/organization?limit=1`, undefined, { ...AUTH, ...OPT_IN })).json).toMatchObject({ isLastPage: false, values: [{ id: '1', name: 'Seeded' }] });
      expect((await send(d, 'POST', `${SD}/organization/2/user`, { usernames: ['jsmith', 'nobody'] }, { ...AUTH, ...OPT_IN })).status).toBe(400);
      expect(d.organizations[1]?.members.size).toBe(0);
      expect((await send(d, 'POST', `${SD}/organization/2/user`, { usernames: ['JSmith'] }, { ...AUTH, ...OPT_IN })).status).toBe(204);
      expect((await send(d, 'GET', `${SD}/organization/2/user`, undefined, { ...AUTH, ...OPT_IN })).json).toMatchObject({ values: [{ name: 'jsmith', emailAddress: 'j@corp.example' }] });
      expect((await send(d, 'POST', `${SD}/servicedesk/1/organization`, { organizationId: '2' }, { ...AUTH, ...OPT_IN })).status).toBe(400);
      expect((await send(d, 'POST', `${SD}/servicedesk/1/organization`, { organizationId: 2 }, { ...AUTH, ...OPT_IN })).status).toBe(204);
      expect((await send(d, 'GET', `${SD}/servicedesk/1/organization`, undefined, { ...AUTH, ...OPT_IN })).json).toMatchObject({ values: [{ id: '2', name: 'Acme' }] });
      expect(d.organizationCreates).toEqual(['Acme']);
      expect(d.deskOrganizationAdds).toEqual(['1/2']);
    } finally {
      await d.close();
    }
  });
});

describe('projects and properties', () => {
  it('answers the project, then 404, 201, 200 for its property', async () => {
    expect((await send(jsm, 'GET', '/rest/api/2/project/ITH')).json).toMatchObject({ id: '10061', key: 'ITH', name: 'IT Help' });
    const unknown = await send(jsm, 'GET', '/rest/api/2/project/NOPE');
    expect([unknown.status, unknown.json]).toEqual([404, { errorMessages: ["No project could be found with key 'NOPE'."], errors: {} }]);
    const path = '/rest/api/2/project/ITH/properties/jsm-provision.customer-notifications';
    expect((await send(jsm, 'GET', path)).status).toBe(404);
    expect((await send(jsm, 'PUT', path, { sendVerificationEmails: false })).status).toBe(201);
    expect((await send(jsm, 'PUT', path, { sendVerificationEmails: true })).status).toBe(200);
    const got = await send(jsm, 'GET', path);
    expect([got.status, got.json]).toEqual([200,
      { key: 'jsm-provision.customer-notifications', value: { sendVerificationEmails: true } }]);
    expect(jsm.properties.get('ITH/jsm-provision.customer-notifications')).toEqual({ sendVerificationEmails: true });
    expect(requestsPer(jsm, `PUT ${path}`)).toBe(2);
  });
});

describe('rate limit and faults', () => {
  it('answers 429 with Retry-After once the bucket is empty', async () => {
    const limited = await startJsmDouble({ rateLimit: { capacity: 2, refillPerSecond: 0.5 } });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await send(limited, 'GET', '/rest/api/2/serverInfo'));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(answers[0]?.headers.get('x-ratelimit-remaining')).toBe('1');
      const last = answers[2]?.headers;
      expect(last?.get('retry-after')).toBe('2');
      expect([last?.get('x-ratelimit-limit'), last?.get('x-ratelimit-interval-seconds'), last?.get('x-ratelimit-fillrate')])
        .toEqual(['2', '2', '1']);
    } finally { await limited.close(); }
  });

  it('cut-after-write creates the user, then destroys the socket; the retry meets a duplicate', async () => {
    jsm.setFaults({ failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' }] });
    const body = customer('cut@example.com');
    await expect(send(jsm, 'POST', '/rest/servicedeskapi/customer', body, { ...AUTH, ...OPT_IN })).rejects.toThrow();
    expect(jsm.users.has('cut@example.com')).toBe(true);
    expect(jsm.creates.at(-1)).toMatchObject({ username: 'cut@example.com', answered: false });
    expect(jsm.calls.at(-1)).toMatchObject({ status: null, fault: 'cut-after-write' });
    expect((await send(jsm, 'POST', '/rest/servicedeskapi/customer', body, { ...AUTH, ...OPT_IN })).status).toBe(400);
    expect(createAttempts(jsm).get('cut@example.com')).toBe(2);
    expect(createdTwice(jsm)).toEqual([]);
  });

  it('503 rate skips the write; seeded faults are reproducible', async () => {
    jsm.setFaults({ status503Rate: 1 });
    const r = await send(jsm, 'POST', '/rest/api/2/user', platformUser('busy@example.com'));
    expect(r.status).toBe(503);
    expect(jsm.users.has('busy@example.com')).toBe(false);
    jsm.setFaults({ status503Rate: 0 });
    const run = async (): Promise<number[]> => {
      const d = await startJsmDouble({ desks: 0, faults: { seed: 42, status503Rate: 0.5 } });
      try {
        const statuses = [];
        for (let i = 0; i < 12; i++) statuses.push((await send(d, 'POST', '/rest/api/2/user', platformUser(`u${i}@example.com`))).status);
        return statuses;
      } finally { await d.close(); }
    };
    const first = await run();
    expect(first).toContain(503);
    expect(first).toContain(201);
    expect(await run()).toEqual(first);
  });
});

describe('context path and closing', () => {
  it('serves everything under the context path only', async () => {
    const ctx = await startJsmDouble({ contextPath: '/jira/' });
    try {
      expect(ctx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/jira$/);
      expect((await send(ctx, 'GET', '/rest/api/2/project/ITH')).status).toBe(200);
      expect(ctx.calls.at(-1)?.path).toBe('/rest/api/2/project/ITH');
      const outside = await fetch(ctx.url.replace(/\/jira$/, '/rest/servicedeskapi/info'));
      expect(outside.status).toBe(404);
      expect((await send(ctx, 'GET', '/rest/nothing/here')).status).toBe(404);
    } finally { await ctx.close(); }
  });

  it('close() ends the server and its sockets', async () => {
    const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    // Closed handles leave the list a turn of the loop later: wait for what is expected, by name.
    const eventually = async (what: string, holds: () => boolean): Promise<void> => {
      for (const started = Date.now(); !holds(); await new Promise((r) => setImmediate(r))) {
        if (Date.now() - started > 10_000) throw new Error(`not reached: ${what}`);
      }
    };
    const d = await startJsmDouble();
    const servers = count('TCPServerWrap');
    await send(d, 'GET', '/rest/api/2/serverInfo'); // leaves a keep-alive socket open
    const sockets = count('TCPSocketWrap');
    expect(sockets).toBeGreaterThan(0);
    await d.close();
    await eventually('the server closed', () => count('TCPServerWrap') === servers - 1);
    await eventually('its sockets closed', () => count('TCPSocketWrap') < sockets);
    await expect(fetch(`${d.url}/rest/servicedeskapi/info`)).rejects.toThrow();
  });
});

describe('real directories, languages, sessions and CAPTCHA', () => {
  const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
  const started: JsmDouble[] = [];
  const start = async (...args: Parameters<typeof startJsmDouble>) => {
    const d = await startJsmDouble(...args);
    started.push(d);
    return d;
  };
  afterAll(async () => { await Promise.all(started.map((d) => d.close())); });

  it('keeps emails non-unique: a create under a new username with a used email makes a second account', async () => {
    const d = await start({ desks: 0, existingUsers: [{ name: 'jsmith', emailAddress: 'john@corp.example' }] });
    const r = await send(d, 'POST', '/rest/api/2/user', platformUser('john.smith', { emailAddress: 'john@corp.example' }));
    expect(r.status).toBe(201);
    const found = await send(d, 'GET', '/rest/api/2/user/search?username=john@corp.example');
    expect((found.json as { name: string }[]).map((u) => u.name).sort()).toEqual(['john.smith', 'jsmith']);
    // The customer API makes the username the email: a second account again, not a refusal.
    expect((await send(d, 'POST', '/rest/servicedeskapi/customer', customer('john@corp.example'), { ...AUTH, ...OPT_IN })).status).toBe(201);
    expect([...d.users.values()].filter((u) => u.emailAddress === 'john@corp.example')).toHaveLength(3);
  });

  it('searches as Jira does: start of username, email or a word of the name; inactive only when asked', async () => {
    const d = await start({ desks: 0, existingUsers: [
      { name: 'jsmith', emailAddress: 'John.Smith@Corp.Example', displayName: 'John Smith' },
      { name: 'gone', emailAddress: 'gone@corp.example', displayName: 'Gone Person', active: false },
    ] });
    const names = async (q: string) => ((await send(d, 'GET', `/rest/api/2/user/search?username=${encodeURIComponent(q)}`)).json as { name: string }[]).map((u) => u.name);
    expect(await names('JSM')).toEqual(['jsmith']);
    expect(await names('john.smith@corp.example')).toEqual(['jsmith']);
    expect(await names('smith')).toEqual(['jsmith']);
    expect(await names('corp.example')).toEqual([]);
    expect(await names('gone')).toEqual([]);
    const all = await send(d, 'GET', '/rest/api/2/user/search?username=gone&includeInactive=true');
    expect(all.json).toMatchObject([{ name: 'gone', active: false }]);
  });

  it('a German instance answers in German and keeps the i18n key; a read-only directory refuses every create', async () => {
    const d = await start({ desks: 0, language: 'de', readOnlyDirectory: true, existingUsers: [{ name: 'a@example.com' }] });
    const dup = await send(d, 'POST', '/rest/servicedeskapi/customer', customer('a@example.com'), { ...AUTH, ...OPT_IN });
    expect(dup.json).toEqual({ errorMessage: 'Ein Benutzer mit diesem Benutzernamen ist bereits vorhanden.', i18nErrorMessage: { i18nKey: 'sd.customer.create.user.exists', parameters: [] } });
    const ro = await send(d, 'POST', '/rest/servicedeskapi/customer', customer('b@example.com'), { ...AUTH, ...OPT_IN });
    expect(ro.status).toBe(400);
    expect(ro.json).toMatchObject({ i18nErrorMessage: { i18nKey: 'admin.errors.cannot.add.user.all.directories.read.only' } });
    expect((await send(d, 'POST', '/rest/api/2/user', platformUser('c@example.com'))).status).toBe(400);
    expect(d.creates).toEqual([]);
  });

  it('sessions: Basic sets JSESSIONID, the cookie alone authenticates, an ended session answers 401 (HTML when asked)', async () => {
    const d = await start({ desks: 0, basic: { user: 'root', password: 'pw' }, sessions: { maxRequests: 2 }, html401: true });
    const first = await send(d, 'GET', '/rest/api/2/serverInfo', undefined, basic('root', 'pw'));
    const cookie = /JSESSIONID=[^;]+/.exec(first.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(cookie).toMatch(/^JSESSIONID=/);
    expect((await send(d, 'GET', '/rest/api/2/serverInfo', undefined, { cookie })).status).toBe(200);
    expect((await send(d, 'GET', '/rest/api/2/serverInfo', undefined, { cookie })).status).toBe(200);
    const ended = await send(d, 'GET', '/rest/api/2/serverInfo', undefined, { cookie });
    expect(ended.status).toBe(401);
    expect(ended.headers.get('content-type')).toContain('text/html');
    expect(String(ended.json)).toContain('<title>Log in - Jira</title>');
    expect(d.logins).toBe(1);
  });

  it('CAPTCHA after failed logins: 403 with the denied reason and login URL, even with the right password', async () => {
    const d = await start({ desks: 0, basic: { user: 'root', password: 'pw' }, captcha: { afterFailures: 2 } });
    for (let i = 0; i < 2; i++) expect((await send(d, 'GET', '/rest/api/2/serverInfo', undefined, basic('root', 'bad'))).status).toBe(401);
    const r = await send(d, 'GET', '/rest/api/2/serverInfo', undefined, basic('root', 'pw'));
    expect(r.status).toBe(403);
    expect(r.headers.get('x-authentication-denied-reason')).toBe(`CAPTCHA_CHALLENGE; login-url=${d.url}/login.jsp`);
    expect(r.headers.get('x-seraph-loginreason')).toBe('AUTHENTICATION_DENIED');
    expect(d.failedLogins).toBe(2);
  });

  it('answers 405 for the customer listing when told to, and tells a hook about each create', async () => {
    const seen: string[] = [];
    const d = await start({ desks: 0, customerListRefused: 405, onCreate: (n, u) => seen.push(`${n}:${u}`) });
    expect((await send(d, 'GET', '/rest/servicedeskapi/servicedesk/1/customer', undefined, { ...AUTH, ...OPT_IN })).status).toBe(405);
    await send(d, 'POST', '/rest/servicedeskapi/customer', customer('x@example.com'), { ...AUTH, ...OPT_IN });
    expect(seen).toEqual(['1:x@example.com']);
  });
});
