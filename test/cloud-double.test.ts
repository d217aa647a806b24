import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CALLER, NOT_AUTHENTICATED, PASSWORD_REFUSED, createdTwice, rateLimited, requestsByRoute, startJsmCloudDouble, timeSpan,
  type JsmCloudDouble,
} from './support/jsm-cloud-double.js';

const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const AUTH = { authorization: basic(DEFAULT_CALLER.email, DEFAULT_CALLER.apiToken) };
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

describe('permissions and the shape of refusals', () => {
  it('wants the permissions parameter on mypermissions and answers the asked keys only', async () => {
    expect((await send(cloud, 'GET', '/rest/api/3/mypermissions')).status).toBe(400);
    const r = await send(cloud, 'GET', '/rest/api/3/mypermissions?projectKey=ITH&permissions=USER_PICKER,ADMINISTER');
    expect(r.json).toEqual({ permissions: {
      USER_PICKER: expect.objectContaining({ havePermission: true, type: 'GLOBAL' }),
      ADMINISTER: expect.objectContaining({ havePermission: true }),
    } });
    expect((await send(cloud, 'GET', '/rest/api/3/mypermissions?projectKey=NOPE&permissions=USER_PICKER')).status).toBe(404);
    const blind = await startJsmCloudDouble({ caller: { browseUsers: false, admin: false } });
    try {
      const b = await send(blind, 'GET', '/rest/api/3/mypermissions?permissions=USER_PICKER,ADMINISTER');
      expect(b.json).toMatchObject({ permissions: { USER_PICKER: { havePermission: false }, ADMINISTER: { havePermission: false } } });
    } finally { await blind.close(); }
  });

  it('answers servicedeskapi/info without credentials, 404 an unknown path, 405 a wrong method, 415 and 400 a bad body', async () => {
    expect((await send(cloud, 'GET', '/rest/servicedeskapi/info', undefined, {})).json).toMatchObject({ isLicensedForUse: true });
    expect((await send(cloud, 'GET', '/rest/api/3/nothing')).status).toBe(404);
    expect((await send(cloud, 'PUT', '/rest/servicedeskapi/customer', {})).status).toBe(405);
    const plain = await fetch(`${cloud.url}/rest/servicedeskapi/customer`, { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'x' });
    expect(plain.status).toBe(415);
    const broken = await fetch(`${cloud.url}/rest/servicedeskapi/customer`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{' });
    expect(broken.status).toBe(400);
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

  it('finds a used email at once among thousands of accounts', async () => {
    const big = await startJsmCloudDouble({ existingAccounts: Array.from({ length: 3000 }, (_, i) => ({ email: `p${i}@example.com` })) });
    try {
      for (let i = 0; i < 20; i++) {
        expect((await send(big, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', { email: `new${i}@example.com`, displayName: 'N' })).status).toBe(201);
      }
      expect((await send(big, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', { email: 'NEW7@example.com', displayName: 'N' })).status).toBe(409);
      expect((await send(big, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', { email: 'p2999@example.com', displayName: 'N' })).status).toBe(409);
      expect(big.accounts.size).toBe(3020);
    } finally { await big.close(); }
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
    expect((p1.json as { _links: unknown })._links).toEqual({
      base: `${cloud.url}/rest/servicedeskapi`, context: '', next: `${cloud.url}/rest/servicedeskapi/servicedesk?start=50&limit=50`,
    });
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

describe('user search and profile privacy', () => {
  it('matches the start of the display name, of a word of it, or of the email; answers carry no name or key', async () => {
    const byName = await send(cloud, 'GET', '/rest/api/3/user/search?query=olg');
    expect((byName.json as Record<string, unknown>[]).map((u) => u.emailAddress)).toEqual(['Old@Example.com']);
    const byWord = await send(cloud, 'GET', '/rest/api/3/user/search?query=agent');
    expect((byWord.json as Record<string, unknown>[]).map((u) => u.displayName)).toEqual(['Agnes Agent']);
    const byEmail = await send(cloud, 'GET', '/rest/api/3/user/search?query=old%40example.com');
    const [u] = byEmail.json as Record<string, unknown>[];
    expect(byEmail.json).toHaveLength(1);
    expect(u).toMatchObject({ accountType: 'customer', emailAddress: 'Old@Example.com', active: true });
    expect(u).not.toHaveProperty('name');
    expect(u).not.toHaveProperty('key');
    expect(u?.self).toBe(`${cloud.url}/rest/api/3/user?accountId=${encodeURIComponent(String(u?.accountId))}`);
  });

  it('matches an email-shaped query against emails only, finds an account by accountId, refuses username', async () => {
    const named = await startJsmCloudDouble({ existingAccounts: [{ email: 'x@example.com', displayName: 'tmp@example.com' }] });
    try {
      expect((await send(named, 'GET', '/rest/api/3/user/search?query=tmp%40example.com')).json).toEqual([]);
    } finally { await named.close(); }
    const id = cloud.accountByEmail('agent@example.com')!.accountId;
    const exact = await send(cloud, 'GET', `/rest/api/3/user/search?accountId=${id}`);
    expect((exact.json as Record<string, unknown>[]).map((x) => x.accountId)).toEqual([id]);
    expect((await send(cloud, 'GET', '/rest/api/3/user/search?username=old')).json).toEqual({ errorMessages: ["The query parameter 'username' is not supported in GDPR strict mode."], errors: {} });
    expect((await send(cloud, 'GET', '/rest/api/3/user/search')).status).toBe(400);
    expect((await send(cloud, 'GET', `/rest/api/3/user?accountId=${id}`)).json).toMatchObject({ accountId: id, accountType: 'atlassian' });
  });

  it('leaves emailAddress out for an account whose profile hides it, everywhere it is answered', async () => {
    const hidden = cloud.accountByEmail('hidden@example.com')!;
    const found = await send(cloud, 'GET', '/rest/api/3/user/search?query=hidden%40example.com');
    expect(found.json).toEqual([expect.objectContaining({ accountId: hidden.accountId, displayName: 'Hedda Hidden' })]);
    expect((found.json as Record<string, unknown>[])[0]).not.toHaveProperty('emailAddress');
    expect((await send(cloud, 'GET', `/rest/api/3/user?accountId=${hidden.accountId}`)).json).not.toHaveProperty('emailAddress');
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/servicedesk/61/customer', { accountIds: [hidden.accountId] })).status).toBe(204);
    const listed = values(await send(cloud, 'GET', '/rest/servicedeskapi/servicedesk/61/customer?query=hedda', undefined, OPT_IN));
    expect(listed).toEqual([expect.objectContaining({ accountId: hidden.accountId })]);
    expect(listed[0]).not.toHaveProperty('emailAddress');
  });

  it('can be told that a hidden email is not matched by the search either', async () => {
    const strict = await startJsmCloudDouble({ hiddenEmailSearch: 'not-matched', existingAccounts: [{ email: 'h@example.com', hideEmail: true, displayName: 'H' }] });
    try {
      expect((await send(strict, 'GET', '/rest/api/3/user/search?query=h%40example.com')).json).toEqual([]);
    } finally { await strict.close(); }
  });

  it('can be told that user search finds Atlassian accounts only, not portal-only customers', async () => {
    const d = await startJsmCloudDouble({ userSearchFindsCustomers: false, existingAccounts: [
      { email: 'c@example.com', displayName: 'Cora' }, { email: 'a@example.com', displayName: 'Abe', accountType: 'atlassian' }] });
    try {
      expect((await send(d, 'GET', '/rest/api/3/user/search?query=c%40example.com')).json).toEqual([]);
      expect((await send(d, 'GET', '/rest/api/3/user/search?query=a%40example.com')).json).toHaveLength(1);
    } finally { await d.close(); }
  });

  it('answers an empty list to a caller without Browse users and groups, and caps maxResults', async () => {
    const blind = await startJsmCloudDouble({ caller: { browseUsers: false }, existingAccounts: [{ email: 'a@example.com' }] });
    try {
      const r = await send(blind, 'GET', '/rest/api/3/user/search?query=a');
      expect([r.status, r.json]).toEqual([200, []]);
    } finally { await blind.close(); }
    const many = await startJsmCloudDouble({ existingAccounts: Array.from({ length: 60 }, (_, i) => ({ email: `m${i}@example.com` })) });
    try {
      expect((await send(many, 'GET', '/rest/api/3/user/search?query=m')).json).toHaveLength(50);
      expect((await send(many, 'GET', '/rest/api/3/user/search?query=m&startAt=50&maxResults=50')).json).toHaveLength(10);
    } finally { await many.close(); }
  });
});

describe('organizations', () => {
  it('lists in pages, and creating an existing name answers with the existing organization (one is made once)', async () => {
    const list = await send(cloud, 'GET', '/rest/servicedeskapi/organization');
    expect(list.json).toMatchObject({ size: 1, isLastPage: true });
    expect(values(list)[0]).toMatchObject({ id: '1', name: 'Acme' });
    const again = await send(cloud, 'POST', '/rest/servicedeskapi/organization', { name: 'Acme' });
    expect([again.status, (again.json as { id: string }).id]).toEqual([201, '1']);
    const made = await send(cloud, 'POST', '/rest/servicedeskapi/organization', { name: 'Globex' });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ id: '2', name: 'Globex' });
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/organization', { name: 'Globex' })).json).toMatchObject({ id: '2' });
    expect(cloud.organizationCreates).toEqual(['Globex']);
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/organization', { name: '' })).status).toBe(400);
  });

  it('adds and removes members by accountIds (usernames refused) and attaches organizations to a desk by number', async () => {
    const fred = cloud.accountByEmail('fred@example.com')!.accountId;
    const wilma = cloud.accountByEmail('wilma@example.com')!.accountId;
    const users = '/rest/servicedeskapi/organization/2/user';
    expect((await send(cloud, 'POST', users, { accountIds: [fred, wilma] })).status).toBe(204);
    expect((await send(cloud, 'POST', users, { usernames: ['fred@example.com'] })).status).toBe(400);
    expect((await send(cloud, 'POST', users, { accountIds: ['qm:nobody'] })).status).toBe(400);
    expect((await send(cloud, 'DELETE', users, { accountIds: [wilma] })).status).toBe(204);
    const members = await send(cloud, 'GET', users);
    expect(values(members).map((u) => u.accountId)).toEqual([fred]);
    expect(cloud.organizationJoins).toEqual([`2/${fred}`, `2/${wilma}`]);
    const mine = await send(cloud, 'GET', `/rest/servicedeskapi/organization?accountId=${encodeURIComponent(fred)}`);
    expect(values(mine).map((o) => o.name)).toEqual(['Globex']);

    const desk = '/rest/servicedeskapi/servicedesk/61/organization';
    expect((await send(cloud, 'POST', desk, { organizationId: '2' })).status).toBe(400);
    expect((await send(cloud, 'POST', desk, { organizationId: 2 })).status).toBe(204);
    expect((await send(cloud, 'POST', desk, { organizationId: 2 })).status).toBe(204);
    expect(cloud.deskOrganizationAdds).toEqual(['61/2']);
    expect(values(await send(cloud, 'GET', desk)).map((o) => o.name)).toEqual(['Acme', 'Globex']);
    expect((await send(cloud, 'DELETE', desk, { organizationId: 2 })).status).toBe(204);
    expect(values(await send(cloud, 'GET', desk)).map((o) => o.name)).toEqual(['Acme']);
    expect((await send(cloud, 'POST', desk, { organizationId: 99 })).status).toBe(404);
  });

  it('deletes an organization whatever its desks', async () => {
    const made = await send(cloud, 'POST', '/rest/servicedeskapi/organization', { name: 'Initech' });
    const id = (made.json as { id: string }).id;
    expect((await send(cloud, 'POST', '/rest/servicedeskapi/servicedesk/61/organization', { organizationId: Number(id) })).status).toBe(204);
    expect((await send(cloud, 'DELETE', `/rest/servicedeskapi/organization/${id}`)).status).toBe(204);
    expect((await send(cloud, 'GET', `/rest/servicedeskapi/organization/${id}`)).status).toBe(404);
    expect(cloud.desk('ITH')?.organizations.has(id)).toBe(false);
  });
});

describe('projects and the tool\'s notification setting', () => {
  it('shows a project by key or id, lists projects, and 404s an unknown key', async () => {
    expect((await send(cloud, 'GET', '/rest/api/3/project/ITH')).json).toMatchObject({ id: '10061', key: 'ITH', name: 'IT Help', projectTypeKey: 'service_desk' });
    expect((await send(cloud, 'GET', '/rest/api/3/project/10061')).json).toMatchObject({ key: 'ITH' });
    expect((await send(cloud, 'GET', '/rest/api/3/project/NOPE')).status).toBe(404);
    expect((await send(cloud, 'GET', '/rest/api/3/project')).json).toHaveLength(61);
    const search = await send(cloud, 'GET', '/rest/api/3/project/search?keys=ITH');
    expect(search.json).toMatchObject({ total: 1, isLast: true, values: [{ key: 'ITH' }] });
  });

  it('keeps the setting as a project property under /rest/api/3: 404, then 201 created, 200 updated', async () => {
    const path = '/rest/api/3/project/ITH/properties/jsm-provision.customer-notifications';
    expect((await send(cloud, 'GET', path)).status).toBe(404);
    expect((await send(cloud, 'PUT', path, { sendVerificationEmails: false })).status).toBe(201);
    expect((await send(cloud, 'PUT', path, { sendVerificationEmails: false })).status).toBe(200);
    expect((await send(cloud, 'GET', path)).json).toEqual({ key: 'jsm-provision.customer-notifications', value: { sendVerificationEmails: false } });
    expect(cloud.properties.get('ITH/jsm-provision.customer-notifications')).toEqual({ sendVerificationEmails: false });
    expect((await send(cloud, 'GET', '/rest/api/3/project/ITH/properties')).json).toMatchObject({ keys: [{ key: 'jsm-provision.customer-notifications' }] });
  });
});

describe('the burst limit and the stats the bench reads', () => {
  it('answers 429 with Retry-After, X-RateLimit-Reset, RateLimit-Reason, and the limit headers on every answer', async () => {
    const limited = await startJsmCloudDouble({ rateLimit: { perSecond: 0.001, burst: 5 } });
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 6; i++) answers.push(await send(limited, 'GET', '/rest/api/3/myself'));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
      expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0', '0']);
      expect(answers[0]?.headers.get('x-ratelimit-limit')).toBe('5');
      expect(answers[0]?.headers.get('x-ratelimit-nearlimit')).toBeNull();
      expect(answers[4]?.headers.get('x-ratelimit-nearlimit')).toBe('true');
      const last = answers[5]!;
      const retryAfter = Number(last.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(last.headers.get('ratelimit-reason')).toBe('jira-burst-based');
      expect(last.headers.get('x-ratelimit-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
      const reset = Date.parse(last.headers.get('x-ratelimit-reset')!);
      expect(reset).toBeLessThanOrEqual(Date.now() + retryAfter * 1000);
      expect(reset).toBeGreaterThan(Date.now() + retryAfter * 1000 - 61_000);
      // The burst limit is per endpoint and method: another route still has its tokens.
      expect((await send(limited, 'GET', '/rest/servicedeskapi/servicedesk')).status).toBe(200);
      expect(rateLimited(limited)).toBe(1);
      expect(requestsByRoute(limited)).toEqual(new Map([['GET /rest/api/3/myself', 6], ['GET /rest/servicedeskapi/servicedesk', 1]]));
    } finally { await limited.close(); }
  });

  it('keeps one bucket for every call with scope account, and counts by route with ids as placeholders', async () => {
    const shared = await startJsmCloudDouble({ rateLimit: { perSecond: 0.001, burst: 2, scope: 'account', retryAfterSeconds: 7 } });
    try {
      expect((await send(shared, 'GET', '/rest/api/3/myself')).status).toBe(200);
      expect((await send(shared, 'GET', '/rest/servicedeskapi/servicedesk/61')).status).toBe(200);
      const third = await send(shared, 'GET', '/rest/servicedeskapi/servicedesk/1');
      expect([third.status, third.headers.get('retry-after')]).toEqual([429, '7']);
      expect(requestsByRoute(shared).get('GET /rest/servicedeskapi/servicedesk/{id}')).toBe(2);
      const span = timeSpan(shared);
      expect(span.last).toBeGreaterThanOrEqual(span.first);
      expect(span.ms).toBe(span.last - span.first);
    } finally { await shared.close(); }
  });
});

describe('faults for lost answers', () => {
  it('cuts the answer of a create after making the account: the retry meets 409', async () => {
    const d = await startJsmCloudDouble({ failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' }] });
    try {
      const body = { email: 'lost@example.com', displayName: 'Lost' };
      await expect(send(d, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', body)).rejects.toThrow();
      expect(d.creates).toEqual([expect.objectContaining({ email: 'lost@example.com', answered: false })]);
      expect((await send(d, 'POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', body)).status).toBe(409);
      d.setFailNext([{ path: '/rest/api/3/myself', kind: '429', retryAfter: 3 }]);
      const r = await send(d, 'GET', '/rest/api/3/myself');
      expect([r.status, r.headers.get('retry-after'), r.headers.get('ratelimit-reason')]).toEqual([429, '3', 'jira-burst-based']);
    } finally { await d.close(); }
  });
});
