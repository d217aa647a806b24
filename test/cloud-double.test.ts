import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOT_AUTHENTICATED, PASSWORD_REFUSED, createdTwice, rateLimited, requestsByRoute, startJsmCloudDouble, timeSpan,
  type JsmCloudDouble,
} from './support/jsm-cloud-double.js';

const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const AUTH = { authorization: basic('admin@example.com', 'cloud-api-token') };
const OPT_IN = { ...AUTH, 'x-experimentalapi': 'opt-in' };

interface Answer { status: number; headers: Headers; json: unknown }
async function send(d: JsmCloudDouble, method: string, path: string, body?: unknown,
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
const values = (a: Answer): Record<string, unknown>[] => (a.json as { values: Record<string, unknown>[] }).values;

let cloud: JsmCloudDouble;
beforeAll(async () => {
  cloud = await startJsmCloudDouble({
    existingAccounts: [
      { email: 'Old@Example.com', displayName: 'Olga Old' },
      { email: 'hidden@example.com', displayName: 'Hedda Hidden', hideEmail: true },
      { email: 'agent@example.com', displayName: 'Agnes Agent', accountType: 'atlassian' },
    ],
    organizations: [{ name: 'Acme', members: ['old@example.com'], projects: ['ITH'] }],
  });
});
afterAll(async () => { await cloud.close(); });

describe('who the instance is, and who the caller is', () => {
  it('says deploymentType Cloud on serverInfo (v3 and v2) without credentials', async () => {
    for (const v of ['3', '2']) {
      const r = await send(cloud, 'GET', `/rest/api/${v}/serverInfo`, undefined, {});
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ deploymentType: 'Cloud', baseUrl: cloud.url, versionNumbers: [1001, 0, 0] });
    }
  });

  it('answers myself with an accountId and no username or key', async () => {
    const r = await send(cloud, 'GET', '/rest/api/3/myself');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accountId: '5b10ac8d82e05b22cc7d4ef5', accountType: 'atlassian', emailAddress: 'admin@example.com' });
    expect(r.json).not.toHaveProperty('name');
    expect(r.json).not.toHaveProperty('key');
    expect(r.headers.get('x-aaccountid')).toBe('5b10ac8d82e05b22cc7d4ef5');
  });
});

describe('authentication: Basic with the email and an API token, nothing else', () => {
  it('refuses a password, a username, a wrong token, Bearer, a cookie and nothing, with 401', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ authorization: basic('admin@example.com', 'cloud-password') }, PASSWORD_REFUSED],
      [{ authorization: basic('admin', 'cloud-api-token') }, NOT_AUTHENTICATED],
      [{ authorization: basic('admin@example.com', 'wrong') }, NOT_AUTHENTICATED],
      [{ authorization: 'Bearer cloud-api-token' }, NOT_AUTHENTICATED],
      [{ cookie: 'JSESSIONID=ABC; cloud.session.token=xyz' }, NOT_AUTHENTICATED],
      [{}, NOT_AUTHENTICATED],
    ];
    for (const [headers, text] of cases) {
      const r = await send(cloud, 'GET', '/rest/api/3/myself', undefined, headers);
      expect([r.status, r.json]).toEqual([401, text]);
    }
    // Credentials sent to an anonymous resource are still checked.
    const info = await send(cloud, 'GET', '/rest/api/3/serverInfo', undefined, { authorization: basic('admin@example.com', 'cloud-password') });
    expect(info.status).toBe(401);
  });

  it('sets no session cookie, so there is no session to reuse', async () => {
    const r = await send(cloud, 'GET', '/rest/api/3/myself');
    expect(r.status).toBe(200);
    expect(r.headers.get('set-cookie')).toBeNull();
  });
});

describe('creating customers', () => {
  it('makes a portal-only customer from {email, displayName}: an accountId, name and key carry it, no email is sent', async () => {
    const r = await send(cloud, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true',
      { email: 'fred@example.com', displayName: 'Fred F. User' });
    expect(r.status).toBe(201);
    const u = r.json as Record<string, string>;
    expect(u).toMatchObject({ emailAddress: 'fred@example.com', displayName: 'Fred F. User', active: true });
    expect(u.accountId).toMatch(/^qm:[0-9a-f-]{36}:[0-9a-f]{23}$/);
    expect([u.name, u.key]).toEqual([u.accountId, u.accountId]);
    expect(cloud.accountByEmail('FRED@example.com')).toMatchObject({ accountType: 'customer', createdVia: 'customer' });
    expect(cloud.creates.at(-1)).toMatchObject({ email: 'fred@example.com', answered: true });
  });

  it('takes the deprecated fullName when displayName is absent', async () => {
    const r = await send(cloud, 'POST', '/rest/servicedeskapi/customer', { email: 'wilma@example.com', fullName: 'Wilma W.' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ displayName: 'Wilma W.' });
  });

  it('answers an email in use with 409 under strictConflictStatusCode=true and 400 without, whatever its case', async () => {
    const strict = await send(cloud, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', { email: 'OLD@example.com', displayName: 'X' });
    expect(strict.status).toBe(409);
    expect(strict.json).toMatchObject({ errorMessage: expect.any(String), i18nErrorMessage: { i18nKey: expect.any(String) } });
    const loose = await send(cloud, 'POST', '/rest/servicedeskapi/customer', { email: 'old@example.com', displayName: 'X' });
    expect(loose.status).toBe(400);
    expect(createdTwice(cloud)).toEqual([]);
  });

  it('refuses a bad email and a missing name with 400, and a caller who is not a Jira admin with 403', async () => {
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/customer', { email: 'nope', displayName: 'N' })).status).toBe(400);
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/customer', { email: 'n@example.com' })).status).toBe(400);
    const agent = await startJsmCloudDouble({ caller: { admin: false } });
    try {
      expect((await send(agent, 'POST', '/rest/servicedeskapi/customer', { email: 'n@example.com', displayName: 'N' })).status).toBe(403);
    } finally { await agent.close(); }
  });
});

describe('service desks and their customers', () => {
  it('pages desks: the test project is on page 2, and a desk is found by id or project key', async () => {
    const p1 = await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk');
    expect(p1.json).toMatchObject({ size: 50, start: 0, limit: 50, isLastPage: false });
    expect((p1.json as { _links: { next: string } })._links.next).toBe(`${cloud.url}/rest/servicedeskapi/servicedesk?start=50&limit=50`);
    const p2 = await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk?start=50');
    expect(p2.json).toMatchObject({ size: 11, isLastPage: true });
    expect(values(p2).at(-1)).toMatchObject({ id: '61', projectKey: 'ITH', projectName: 'IT Help' });
    expect((await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk/61')).json).toMatchObject({ projectKey: 'ITH' });
    expect((await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk/ITH')).json).toMatchObject({ id: '61' });
    expect((await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk/999')).status).toBe(404);
  });

  it('adds customers by accountIds (204, again is no error), refuses usernames and unknown ids, lists them in pages', async () => {
    const fred = cloud.accountByEmail('fred@example.com')!.accountId;
    const old = cloud.accountByEmail('old@example.com')!.accountId;
    const path = '/rest/servicedeskapi/servicedesk/61/customer';
    expect((await send(cloud, 'POST', path, { accountIds: [fred, old] })).status).toBe(204);
    expect((await send(cloud, 'POST', path, { accountIds: [fred] })).status).toBe(204);
    const usernames = await send(cloud, 'POST', path, { usernames: ['fred@example.com'] });
    expect(usernames.status).toBe(400);
    expect(JSON.stringify(usernames.json)).toContain('accountIds');
    const unknown = await send(cloud, 'POST', path, { accountIds: [fred, 'qm:nobody'] });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('qm:nobody');
    expect(cloud.desk('ITH')?.customers).toEqual(new Set([fred, old]));

    const list = await send(cloud, 'GET', `${path}?limit=1`, undefined, OPT_IN);
    expect(list.json).toMatchObject({ size: 1, start: 0, limit: 1, isLastPage: false });
    expect(values(list)[0]).toMatchObject({ accountId: fred, emailAddress: 'fred@example.com' });
    const rest = await send(cloud, 'GET', `${path}?start=1&limit=1`, undefined, OPT_IN);
    expect(rest.json).toMatchObject({ size: 1, isLastPage: true });
    const q = await send(cloud, 'GET', `${path}?query=olg`, undefined, OPT_IN);
    expect(values(q).map((u) => u.accountId)).toEqual([old]);
  });

  it('wants X-ExperimentalApi: opt-in on the listing and the removal (412 without), not on the add', async () => {
    const path = '/rest/servicedeskapi/servicedesk/61/customer';
    const list = await send(cloud, 'GET', path);
    expect(list.status).toBe(412);
    expect(list.json).toMatchObject({ i18nErrorMessage: { i18nKey: 'sd.api.experimental.header.required' } });
    const wilma = cloud.accountByEmail('wilma@example.com')!.accountId;
    expect((await send(cloud, 'POST', path, { accountIds: [wilma] })).status).toBe(204);
    expect((await send(cloud, 'DELETE', path, { accountIds: [wilma] })).status).toBe(412);
    expect((await send(cloud, 'DELETE', path, { accountIds: [wilma] }, OPT_IN)).status).toBe(204);
    expect(cloud.desk('ITH')?.customers.has(wilma)).toBe(false);
    expect(cloud.accounts.has(wilma)).toBe(true);
  });
});
