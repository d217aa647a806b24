/**
 * The REST target against instances as admins configure them (docs/jsm-api.md): the experimental
 * header required everywhere (412), a two-node cluster behind a sticky cookie, a wrong password,
 * Basic authentication turned off, a login page answered 200, a 429 storm.
 */
import { describe, expect, it } from 'vitest';
import { rows, useRest } from './helpers.js';
import { ProvisionStopped } from '../../src/core/target.js';

const rest = useRest();
const BASIC = { JSM_TOKEN: '', JSM_USER: 'admin', JSM_PASSWORD: 'admin-pw' };
const SD = '/rest/servicedeskapi';

describe('the experimental header', () => {
  it('goes with every servicedeskapi call: with it required everywhere (412), 20 rows make 20 customers', async () => {
    const jsm = await rest.double({ experimentalEverywhere: 412 });
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const outcomes = await target.provision(project, rows(20));
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ status: 'created' })));
    expect(jsm.desks.find((d) => d.projectKey === 'ITH')?.customers.size).toBe(20);
    const without = jsm.calls.filter((c) => c.path.startsWith(`${SD}/`) && c.path !== `${SD}/info` && c.headers['x-experimentalapi'] !== 'opt-in');
    expect(without).toEqual([]);
  });
});

describe('Basic credentials on a cluster and on instances that refuse them', () => {
  it('a two-node cluster pinned by its own cookie: 200 rows, no lost session, at most three logins', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' }, cluster: { nodes: 2, cookie: 'ROUTEID' } });
    const target = await rest.target(jsm, { env: BASIC });
    const outcomes = await target.provision(await target.getProject('ITH'), rows(200));
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(200);
    expect(jsm.lostSessions).toBe(0);
    expect(jsm.logins).toBeLessThanOrEqual(3);
    expect(jsm.failedLogins).toBe(0);
    // Every call after the first carries the load balancer's cookie back.
    expect(jsm.calls.slice(1).filter((c) => !/ROUTEID=/.test(c.headers.cookie ?? ''))).toEqual([]);
  });

  it('a wrong password is one failed login, and the run stops (exit 3)', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' } });
    const target = await rest.target(jsm, { env: { ...BASIC, JSM_PASSWORD: 'wrong' } });
    await expect(target.getProject('ITH')).rejects.toMatchObject({ code: 'auth-failed' });
    expect(jsm.failedLogins).toBe(1);
    // /info needs no login: no credentials go with it.
    expect(jsm.calls.filter((c) => c.path === `${SD}/info` && c.headers.authorization !== undefined)).toEqual([]);
  });

  it('Basic authentication turned off: exit 3 naming personal access tokens', async () => {
    const jsm = await rest.double({ basic: { user: 'admin', password: 'admin-pw' }, basicDisabled: true });
    const target = await rest.target(jsm, { env: BASIC });
    const error = await target.getProject('ITH').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'basic-auth-disabled',
      message: `${jsm.url} has Basic authentication turned off, so JSM_USER and JSM_PASSWORD cannot log in`,
      hint: expect.stringMatching(/personal access token.*JSM_TOKEN \(or JSM_TOKEN_FILE\)/),
    });
    expect(jsm.calls.filter((c) => c.status === 403)).toHaveLength(1);
  });
});

describe('answers that are not what the call returns', () => {
  it('a login page answered 200 to a create stops the run; nothing after it is sent', async () => {
    const jsm = await rest.double({ faults: { failNext: [{ method: 'POST', path: `${SD}/customer`, kind: 'login-page-200' }] } });
    const target = await rest.target(jsm, { concurrency: 1 });
    const project = await target.getProject('ITH');
    const stopped = await target.provision(project, rows(5)).catch((e: unknown) => e);
    // The run stops with what each row came to; the refusal is its cause.
    expect(stopped).toBeInstanceOf(ProvisionStopped);
    const error = (stopped as ProvisionStopped).error;
    expect(error).toMatchObject({ code: 'session-lost', message: expect.stringContaining('login page') });
    expect((error as Error).message).not.toMatch(/<|os_password/);
    const page = jsm.calls.findIndex((c) => c.fault === 'login-page-200');
    expect(jsm.calls.slice(page + 1).filter((c) => c.method !== 'GET')).toEqual([]);
    expect(jsm.desks.find((d) => d.projectKey === 'ITH')?.customers.size).toBe(0);
  });

  it('a login page answered 200 to the look-up stops the run before a create', async () => {
    const jsm = await rest.double({ faults: { failNext: [{ method: 'GET', path: '/rest/api/2/user/search', kind: 'login-page-200' }] } });
    const target = await rest.target(jsm, { concurrency: 1 });
    const project = await target.getProject('ITH');
    await expect(target.provision(project, rows(3))).rejects.toMatchObject({ code: 'session-lost' });
    expect(jsm.creates).toEqual([]);
  });
});

describe('a 429 storm', () => {
  it('is reported as rate limiting, with its hint, not as an unreachable instance', async () => {
    const storm = Array.from({ length: 20 }, () => ({ method: 'GET', path: `${SD}/servicedesk`, kind: '429' as const, retryAfter: 0 }));
    const jsm = await rest.double({ faults: { failNext: storm } });
    const target = await rest.target(jsm);
    const error = await target.getProject('ITH').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'rate-limited', hint: expect.stringContaining('Rate limiting') });
    expect((error as { hint: string }).hint).not.toMatch(/network|firewall/);
  });
});
