/** The Cloud target in process against the Cloud double: identity by accountId, credentials, detection, faults, pacing. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import type { ProvisionRequest } from '../../src/core/target.js';
import { checkBaseUrl, deploymentOf } from '../../src/targets/http/deployment.js';
import { resetInMs } from '../../src/targets/http/rate.js';
import { cloudCredentialsFrom, openCloudTarget, type CloudTarget, type CloudTargetOptions } from '../../src/targets/cloud/index.js';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import type { JsmCloudDouble, JsmCloudDoubleOptions } from '../support/jsm-cloud-double/types.js';
import { startJsmDouble } from '../support/jsm-double.js';

const ENV = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token' };
const doubles: { close(): Promise<void> }[] = [];
const targets: CloudTarget[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close().catch(() => undefined)));
  await Promise.all(doubles.splice(0).map((d) => d.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function double(options: JsmCloudDoubleOptions = {}): Promise<JsmCloudDouble> {
  const d = await startJsmCloudDouble(options);
  doubles.push(d);
  return d;
}

async function target(d: JsmCloudDouble, options: Partial<CloudTargetOptions> = {}): Promise<CloudTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'jsm-cloud-'));
  dirs.push(dir);
  const t = await openCloudTarget(checkBaseUrl(d.url), { backoffMs: 5, ...options, env: { ...ENV, JSM_STATE_DIR: dir, ...options.env } });
  targets.push(t);
  return t;
}

function rows(emails: string[]): ProvisionRequest[] {
  return emails.map((email, i) => ({ email, key: email.toLowerCase(), fullName: `Person ${i}`, exists: null }));
}

describe('Cloud detection and credentials', () => {
  it('a host of atlassian.net is Cloud without a call; another asks serverInfo only with Cloud-shaped credentials', async () => {
    expect(await deploymentOf(new URL('https://acme.atlassian.net'), {})).toBe('cloud');
    const cloud = await double();
    expect(await deploymentOf(checkBaseUrl(cloud.url), ENV)).toBe('cloud');
    expect(cloud.calls.map((c) => `${c.method} ${c.path} ${c.headers.authorization ?? 'anonymous'}`)).toEqual(['GET /rest/api/2/serverInfo anonymous']);
    // A Data Center run (a personal access token) costs no extra call.
    expect(await deploymentOf(checkBaseUrl(cloud.url), { JSM_TOKEN: 'pat' })).toBe('dc');
    expect(cloud.calls).toHaveLength(1);
    const dc = await startJsmDouble({});
    doubles.push(dc);
    expect(await deploymentOf(checkBaseUrl(dc.url), ENV)).toBe('dc');
    // Nobody there: Data Center, whose own first call then says so.
    expect(await deploymentOf(new URL('http://127.0.0.1:9'), ENV)).toBe('dc');
  });

  it('JSM_USER (an email) and JSM_TOKEN as Basic; a missing user, a username or a password only is said (exit 2)', () => {
    const url = new URL('https://acme.atlassian.net');
    const ok = cloudCredentialsFrom(ENV, url);
    expect(ok.header.reveal()).toBe(`Basic ${Buffer.from('admin@example.com:cloud-api-token').toString('base64')}`);
    expect(String(ok.header)).not.toContain('cloud-api-token');
    const missingUser = (() => { try { cloudCredentialsFrom({ JSM_TOKEN: 't' }, url); } catch (e) { return e; } })() as UsageError;
    expect(missingUser).toBeInstanceOf(UsageError);
    expect(missingUser.exitCode).toBe(2);
    expect(missingUser.message).toBe('JSM_USER is not set (Cloud needs the email of the account the API token belongs to) for https://acme.atlassian.net (JSM Cloud)');
    expect(() => cloudCredentialsFrom({ JSM_USER: 'admin', JSM_TOKEN: 't' }, url)).toThrow('JSM_USER is "admin", but https://acme.atlassian.net is JSM Cloud, where the user is the account\'s email');
    expect(() => cloudCredentialsFrom({ JSM_USER: 'admin@example.com', JSM_PASSWORD: 'pw' }, url)).toThrow("Cloud's API does not take an account's password (JSM_PASSWORD): use an API token instead");
  });

  it('a token read from JSM_TOKEN_FILE is named so, as the Data Center target names it', () => {
    const url = new URL('https://acme.atlassian.net');
    expect(cloudCredentialsFrom(ENV, url).source).toBe('JSM_USER and JSM_TOKEN');
    // The CLI has read the file into JSM_TOKEN by now (src/cli/runs/context.ts); the message names what the user set.
    const fromFile = cloudCredentialsFrom({ ...ENV, JSM_TOKEN_FILE: '/run/secrets/jsm' }, url);
    expect(fromFile.source).toBe('JSM_USER and JSM_TOKEN_FILE');
    expect(fromFile.header.reveal()).toBe(`Basic ${Buffer.from('admin@example.com:cloud-api-token').toString('base64')}`);
  });

  it('a token Cloud refuses stops the run (exit 3) with the API token advice, the token never shown', async () => {
    const d = await double();
    const t = await target(d, { env: { JSM_TOKEN: 'wrong-token' } });
    const error = (await t.getProject('ITH').then(() => undefined, (e: unknown) => e)) as Error & { exitCode: number; hint?: string };
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('authentication failed');
    expect(error.hint).toContain('id.atlassian.com/manage-profile/security/api-tokens');
    expect(`${error.message} ${error.hint}`).not.toContain('wrong-token');
  });
});

describe('identity by accountId', () => {
  it('the create is the look-up: one request per new row; a 409 uses the existing account, by accountId', async () => {
    const d = await double({ existingAccounts: [{ email: 'old@example.com', displayName: 'Old Hand' }] });
    const t = await target(d);
    const project = await t.getProject('ITH');
    const before = d.calls.length;
    const out = await t.provision(project, rows(['a@example.com', 'b@example.com', 'Old@Example.com']));
    const old = d.accountByEmail('old@example.com');
    expect(out).toEqual([{ status: 'created' }, { status: 'created' }, { status: 'existing', fullName: 'Old Hand' }]);
    const made = d.calls.slice(before);
    const creates = made.filter((c) => c.path === '/rest/servicedeskapi/customer').map((c) => [c.query.strictConflictStatusCode, c.body]);
    expect(creates.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b), 'en'))).toEqual([
      ['true', { email: 'a@example.com', displayName: 'Person 0' }],
      ['true', { email: 'b@example.com', displayName: 'Person 1' }],
      ['true', { email: 'Old@Example.com', displayName: 'Person 2' }],
    ]);
    // One batched add, by accountIds.
    const adds = made.filter((c) => c.method === 'POST' && c.path.endsWith('/customer') && c.path.includes('/servicedesk/'));
    expect(adds).toHaveLength(1);
    const ids = ['a@example.com', 'b@example.com', 'old@example.com'].map((e) => d.accountByEmail(e)?.accountId);
    expect(new Set((adds[0]?.body as { accountIds: string[] }).accountIds)).toEqual(new Set(ids));
    expect(ids).toContain(old?.accountId);
    expect(d.creates).toHaveLength(2);
  });

  it('an account whose profile hides its email, found by neither search nor the project: the row fails with why, no second account', async () => {
    const d = await double({ existingAccounts: [{ email: 'quiet@example.com', hideEmail: true }], hiddenEmailSearch: 'not-matched' });
    const t = await target(d);
    const project = await t.getProject('ITH');
    const [out] = await t.provision(project, rows(['quiet@example.com']));
    expect(out).toEqual({
      status: 'failed',
      reason: 'JSM Cloud says quiet@example.com has an account already (409), but no single account could be named: a user search does not show it (its profile may hide the email, or the account may be inactive: deactivated on the site), nor does the customer list of the project; add the person to ITH in JSM (Customers > Add customers), then run again',
    });
    expect(d.creates).toHaveLength(0);
  });

  it('an account hiding its email that a search for the email finds alone is used, with a note; none is made', async () => {
    const d = await double({ existingAccounts: [{ email: 'quiet@example.com', displayName: 'Quiet', hideEmail: true }], hiddenEmailSearch: 'matches' });
    const t = await target(d);
    const [out] = await t.provision(await t.getProject('ITH'), rows(['quiet@example.com']));
    expect(out).toEqual({
      status: 'existing',
      fullName: 'Quiet',
      note: 'the account hides its email in its profile: it was found by a user search for the email',
    });
    expect(d.creates).toHaveLength(0);
    expect(d.desk('ITH')?.customers.has(d.accountByEmail('quiet@example.com')?.accountId ?? '')).toBe(true);
  });

  it('a portal-only customer that user search does not return, already a customer of the project, is found by the project\'s customer listing', async () => {
    const d = await double({
      existingAccounts: [{ email: 'portal@example.com', displayName: 'Portal Only', accountType: 'customer' }],
      userSearchFindsCustomers: false,
      projects: [{ key: 'ITH', name: 'IT Help', customers: ['portal@example.com'] }],
    });
    const t = await target(d);
    const [out] = await t.provision(await t.getProject('ITH'), rows(['portal@example.com']));
    expect(out).toEqual({ status: 'existing', fullName: 'Portal Only' });
    expect(d.desk('ITH')?.customers.has(d.accountByEmail('portal@example.com')?.accountId ?? '')).toBe(true);
    expect(d.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/customer')).map((c) => c.query.query)).toEqual(['portal@example.com']);
    expect(d.creates).toHaveLength(0);
  });

  it('an inactive (deactivated) account, which user search does not show: the 409 fails the row saying it may be inactive; nothing made, not added', async () => {
    const d = await double({ existingAccounts: [{ email: 'gone@example.com', displayName: 'Gone Away', active: false }] });
    const t = await target(d);
    expect(await t.lookup([{ key: 'gone@example.com', email: 'gone@example.com' }])).toEqual(['absent']);
    const [out] = await t.provision(await t.getProject('ITH'), rows(['gone@example.com']));
    expect(out).toMatchObject({ status: 'failed', reason: expect.stringContaining('the account may be inactive') });
    expect(d.creates).toHaveLength(0);
    expect(d.desk('ITH')?.customers.size).toBe(0);
  });

  it('a create whose answer was cut after the write: the account is found, counted created (in doubt), never made twice', async () => {
    const d = await double({ failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-after-write' }] });
    const t = await target(d);
    const [out] = await t.provision(await t.getProject('ITH'), rows(['cut@example.com']));
    expect(out).toEqual({ status: 'created', unproven: true });
    expect(d.creates.filter((c) => c.email === 'cut@example.com')).toHaveLength(1);
  });
});

describe('a dry run on Cloud', () => {
  it('looks each row up by a user search and writes nothing: shown email existing, none absent', async () => {
    const d = await double({ existingAccounts: [{ email: 'old@example.com' }] });
    const t = await target(d);
    expect(await t.lookup([{ key: 'old@example.com', email: 'OLD@example.com' }, { key: 'new@example.com', email: 'new@example.com' }])).toEqual(['existing', 'absent']);
    expect(d.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });
});

describe('organizations by accountId', () => {
  it('members join 50 accountIds a call; an unknown accountId (400) fails alone, its neighbours join', async () => {
    const d = await double({ organizations: [{ name: 'Acme', projects: ['ITH'] }] });
    const t = await target(d);
    const project = await t.getProject('ITH');
    await t.provision(project, rows(Array.from({ length: 60 }, (_, i) => `m${i}@example.com`)));
    const members = Array.from({ length: 60 }, (_, i) => ({ key: `m${i}@example.com`, email: `m${i}@example.com`, account: d.accountByEmail(`m${i}@example.com`)?.accountId ?? '' }));
    members[7] = { ...members[7]!, account: 'no-such-account' };
    const [acme] = (await t.organizations(project)).filter((o) => o.name === 'Acme');
    const refused = await t.joinOrganization(acme!, members);
    expect([...refused.keys()]).toEqual(['m7@example.com']);
    expect(d.organizations.find((o) => o.name === 'Acme')?.members.size).toBe(59);
    // Again: Cloud answers the existing organization for a name that exists; nothing is made.
    expect((await t.createOrganization('Acme')).id).toBe(acme!.id);
    expect(d.organizationCreates).toEqual([]);
  });
});

describe('the project on Cloud', () => {
  it('its portal link, the setting as a project property under /rest/api/3; project create says where projects are made', async () => {
    const d = await double();
    const t = await target(d);
    const project = await t.getProject('ith');
    expect(project).toMatchObject({ key: 'ITH', name: 'IT Help', sendVerificationEmails: true, jsmVersion: 'Cloud', portalUrl: `${d.url}/servicedesk/customer/portal/${d.desk('ITH')?.id}` });
    const change = await t.setSendVerificationEmails('ITH', false);
    expect(change.previous).toBe(true);
    expect(d.calls.some((c) => c.method === 'PUT' && c.path === '/rest/api/3/project/ITH/properties/jsm-provision.customer-notifications')).toBe(true);
    expect((await t.getProject('ITH')).sendVerificationEmails).toBe(false);
    await expect(t.createProject()).rejects.toThrow('create service projects in Jira Cloud');
    await expect(t.getProject('ITX')).rejects.toThrow(/no service project ITX .*close matches: ITH/);
  });
});

describe('rate limits', () => {
  it("Cloud's X-RateLimit-Reset (ISO 8601) is read when Retry-After is absent", () => {
    const now = Date.parse('2026-12-04T23:59:30Z');
    expect(resetInMs('2026-12-05T00:00Z', now)).toBe(30_000);
    expect(resetInMs('2026-12-04T23:00Z', now)).toBe(0);
    expect(resetInMs('soon', now)).toBeUndefined();
    expect(resetInMs(undefined, now)).toBeUndefined();
  });

  it('429s of a small burst limit are waited out (Retry-After): every row done, none twice', async () => {
    // A bucket of 5 refilled at 5 a second: the first 8 creates (the target's window) meet its edge
    // whatever the machine's speed (3 more tokens take 600 ms), Retry-After says 1 s, and after it
    // the bucket is full again. 12 rows are 3 waves of creates (5, 5, 2), so two 429 pauses are
    // waited out, each about a second (40 rows at 20 a second waited about 7 s for the same thing).
    const d = await double({ rateLimit: { perSecond: 5, burst: 5 } });
    const t = await target(d);
    const emails = Array.from({ length: 12 }, (_, i) => `r${i}@example.com`);
    const out = await t.provision(await t.getProject('ITH'), rows(emails));
    expect(out.every((o) => o.status === 'created')).toBe(true);
    expect(d.creates).toHaveLength(12);
    const creates = d.calls.filter((c) => c.method === 'POST' && c.route === '/rest/servicedeskapi/customer');
    const throttled = creates.filter((c) => c.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    // Waited out: after the first 429, no create came until its Retry-After (1 s) was nearly over,
    // except those already on their way when it was answered.
    const first = throttled[0]?.time ?? 0;
    expect(creates.filter((c) => c.time > first + 400 && c.time < first + 900)).toEqual([]);
    expect(creates.some((c) => c.time >= first + 900 && c.status === 201)).toBe(true);
    // A second pause: some create after the first wait was refused again, then waited out too.
    const second = throttled.find((c) => c.time >= first + 900);
    expect(second).toBeDefined();
    expect(creates.some((c) => c.time >= (second?.time ?? 0) + 900 && c.status === 201)).toBe(true);
  });
});
