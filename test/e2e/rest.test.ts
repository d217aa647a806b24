/** Every command on a REST target, through the built CLI, against the JSM double. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { requestsPer } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { headerValues, type SmtpSink } from '../support/smtp-sink.js';
import { csv, useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();
let sink: SmtpSink;
beforeEach(() => {
  sink = smtp.sink;
});
const mail = () => smtp.mail();
const SETTING = 'ITH/jsm-provision.customer-notifications';

describe('project commands on REST', () => {
  it('shows the desk (found on page 2), the JSM version, the portal and the setting', async () => {
    const run = await start({ version: '5.17.2-QR-0028', projects: [{ key: 'ITH', name: 'IT Help', customers: ['old@example.com'] }], existingUsers: [{ name: 'old@example.com', displayName: 'Old Timer' }] });
    const r = await run.cli(['project', 'show', '--project', 'ith', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      ok: true,
      command: 'project show',
      target: 'rest',
      project: {
        key: 'ITH',
        name: 'IT Help',
        sendVerificationEmails: true,
        portalUrl: `${run.jsm.url}/servicedesk/customer/portal/61`,
        deskId: '61',
        jsmVersion: '5.17.2-QR-0028',
      },
      customers: 1,
      invitations: { pending: 0, 'in-doubt': 0, failed: 0, sent: 0, suppressed: 0 },
    });
    expect(run.jsm.calls.filter((c) => c.path === '/rest/servicedeskapi/servicedesk').map((c) => c.query.start)).toEqual(['0', '50']);
    const human = await run.cli(['project', 'show', '--project', 'ITH']);
    expect(human.stdout).toContain('JSM version: 5.17.2-QR-0028');
    expect(human.stdout).toContain('service desk id: 61');
  });

  it('stores the setting as a project property; JSM 5.x notes point at JSM\'s own switch', async () => {
    const run = await start();
    const off = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--no-verification', '--json']);
    expect(off.code).toBe(0);
    const body = off.json<{ changed: boolean; project: { sendVerificationEmails: boolean }; notes: string[] }>();
    expect(body).toMatchObject({ ok: true, target: 'rest', changed: true, project: { sendVerificationEmails: false } });
    expect(body.notes.join(' ')).toContain('Project settings > Customer notifications');
    expect(body.notes.join(' ')).toContain('has no REST API');
    expect(run.jsm.properties.get(SETTING)).toEqual({ sendVerificationEmails: false });
    const again = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--no-verification']);
    expect(again.stdout).toContain('(it already was)');
    const show = await run.cli(['project', 'show', '--project', 'ITH']);
    expect(show.stdout).toContain('"Do not send account verification emails" is on');
    const on = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--verification', '--json']);
    expect(on.json()).toMatchObject({ changed: true, project: { sendVerificationEmails: true } });
    expect(run.jsm.properties.get(SETTING)).toEqual({ sendVerificationEmails: true });
  });

  it('on JSM 3.9 still stores the setting, and says this JSM cannot stop its own emails', async () => {
    const run = await start({ version: '3.9.2' });
    const r = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--no-verification']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('This JSM (3.9.2) cannot stop its own verification emails: that needs JSM 3.10.0 or newer.');
    expect(r.stdout).not.toContain('Project settings > Customer notifications');
    expect(run.jsm.properties.get(SETTING)).toEqual({ sendVerificationEmails: false });
  });

  it('refuses project create on REST (exit 2) without a call to JSM', async () => {
    const run = await start();
    const r = await run.cli(['project', 'create', 'NEW', '--name', 'New', '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'unsupported', message: expect.stringContaining('create projects in JSM') } });
    expect(run.jsm.calls).toEqual([]);
  });
});

describe('add-customer on REST', () => {
  it('creates through the customer API (experimental header), adds to the desk, and invites with the portal link', async () => {
    const run = await start();
    const r = await run.cli(['add-customer', '--project', 'ITH', '--email', 'Fred@Example.com', '--name', 'Fred Jones', '--json', ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, target: 'rest', totals: { rows: 1, created: 1 }, invitations: { sent: 1 } });
    const create = run.jsm.calls.find((c) => c.method === 'POST' && c.path === '/rest/servicedeskapi/customer');
    expect(create?.headers['x-experimentalapi']).toBe('opt-in');
    expect(create?.body).toEqual({ email: 'Fred@Example.com', fullName: 'Fred Jones' });
    expect([...(run.jsm.desks[60]?.customers ?? [])]).toEqual(['fred@example.com']);
    expect(sink.accepted()).toHaveLength(1);
    expect(sink.messages[0]?.raw).toContain(`${run.jsm.url}/servicedesk/customer/portal/61`);
    expect(await run.ledgerFiles()).toHaveLength(1);
    const again = await run.cli(['add-customer', '--project', 'ITH', '--email', 'fred@example.com', '--name', 'Fred Jones', '--json', ...mail()]);
    expect(again.json()).toMatchObject({ ok: true, totals: { created: 0, existing: 1 }, invitations: { sent: 0 } });
    expect(sink.messages).toHaveLength(1);
  });

  it('with a password: POST /rest/api/2/user asking JSM not to notify, no application access; never printed', async () => {
    const run = await start();
    const password = 'Sup3r-Secret-Pw!';
    const r = await run.cli(['add-customer', '--project', 'ITH', '--email', 'pat@example.com', '--name', 'Pat W', '--password-stdin', '--no-invite', '--json'], { input: `${password}\n` });
    expect(r.code).toBe(0);
    const create = run.jsm.calls.find((c) => c.method === 'POST' && c.path === '/rest/api/2/user');
    expect(create?.body).toEqual({ name: 'pat@example.com', emailAddress: 'pat@example.com', displayName: 'Pat W', password, notification: 'false', applicationKeys: [] });
    expect(run.jsm.users.get('pat@example.com')).toMatchObject({ applicationKeys: [], password });
    expect(run.jsm.notificationsSent).toEqual([]);
    for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(password);
  });

  it('authenticates with JSM_USER and JSM_PASSWORD, under a context path', async () => {
    const run = await start({ contextPath: '/jira', basic: { user: 'root', password: 'pw' } });
    expect(run.jsm.url).toMatch(/\/jira$/);
    const r = await run.cli(['add-customer', '--project', 'ITH', '--email', 'b@example.com', '--name', 'B', '--no-invite', '--json'], {
      env: { JSM_TOKEN: undefined, JSM_USER: 'root', JSM_PASSWORD: 'pw' },
    });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ totals: { created: 1 } });
    // Outside the context path the double answers 404: only the absent setting property may.
    expect(run.jsm.calls.filter((c) => c.status === 404).map((c) => c.path)).toEqual(['/rest/api/2/project/ITH/properties/jsm-provision.customer-notifications']);
    expect(run.jsm.calls.filter((c) => c.path !== '/rest/servicedeskapi/info').every((c) => c.user === 'root')).toBe(true);
  });
});

describe('import-csv on REST', () => {
  it('imports 200 rows at <= 2.1 requests per new row (look up, create; memberships batched), each invited once', async () => {
    const run = await start();
    await writeFile(join(run.dir, 'in.csv'), csv(200));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, target: 'rest', totals: { rows: 200, created: 200, failed: 0 }, invitations: { sent: 200 } });
    expect(requestsPer(run.jsm, 'POST /rest/servicedeskapi/servicedesk/61/customer')).toBe(4);
    expect(requestsPer(run.jsm, 'POST /rest/servicedeskapi/customer')).toBe(200);
    expect(requestsPer(run.jsm, 'GET /rest/api/2/user/search')).toBe(200);
    expect(run.jsm.calls.length / 200).toBeLessThanOrEqual(2.1);
    expect(run.jsm.desks[60]?.customers.size).toBe(200);
    const creates = run.jsm.calls.filter((c) => c.path === '/rest/servicedeskapi/customer');
    expect(creates.every((c) => c.headers['x-experimentalapi'] === 'opt-in')).toBe(true);
    expect(sink.accepted()).toHaveLength(200);
    expect(new Set(sink.messages.map((m) => m.rcptTo[0])).size).toBe(200);
    expect(headerValues(sink.messages[0]!, 'subject')).toEqual(['IT Help'].map((n) => `Welcome to ${n}`));
  });

  it('dry run: looks each row up, writes and sends nothing', async () => {
    const run = await start({ existingUsers: [{ name: 'c1@example.com' }] });
    await writeFile(join(run.dir, 'in.csv'), csv(3));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--dry-run', '--json', ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: true, totals: { rows: 3, created: 2, existing: 1 }, invitations: { sent: 2 } });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(requestsPer(run.jsm, 'GET /rest/api/2/user/search')).toBe(3);
    expect(sink.messages).toEqual([]);
  });

  it('existing users (400 and 409) are made members, not invited; deferred invitations are sent later', async () => {
    for (const duplicateStatus of [400, 409] as const) {
      const run = await start({ duplicateStatus, existingUsers: [{ name: 'c0@example.com' }] });
      await writeFile(join(run.dir, 'in.csv'), csv(3));
      const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--defer-invites', '--json', ...mail()]);
      expect(r.json()).toMatchObject({ ok: true, totals: { created: 2, existing: 1 }, invitations: { sent: 0, pending: 2 } });
      expect(run.jsm.desks[60]?.customers.size).toBe(3);
      // What follows does not depend on how JSM said "exists" (test/rest/target.test.ts proves both
      // statuses in process): the ledger's list and send are spawned once, after the 409 import.
      if (duplicateStatus === 400) continue;
      const list = await run.cli(['invitations', 'list', '--project', 'ITH', '--json']);
      expect(list.json<{ invitations: { email: string; status: string }[] }>().invitations.map((i) => [i.email, i.status]).sort()).toEqual([
        ['c1@example.com', 'pending'],
        ['c2@example.com', 'pending'],
      ]);
      sink.messages.length = 0;
      const send = await run.cli(['invitations', 'send', '--project', 'ITH', '--json', ...mail()]);
      expect(send.json()).toMatchObject({ ok: true, target: 'rest', invitations: { sent: 2, pending: 0 } });
      expect(sink.accepted().map((m) => m.rcptTo[0]).sort()).toEqual(['c1@example.com', 'c2@example.com']);
      expect(await run.ledgerFiles()).toHaveLength(1);
      const sent = await run.cli(['invitations', 'list', '--project', 'ITH', '--status', 'sent', '--json']);
      expect(sent.json<{ invitations: { email: string }[] }>().invitations.map((i) => i.email).sort()).toEqual(['c1@example.com', 'c2@example.com']);
    }
  });
});

describe('customers list on REST', () => {
  it('pages the desk customers with the experimental header', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `u${i}@example.com`);
    const run = await start({ existingUsers: names.map((name) => ({ name, displayName: name.toUpperCase() })), projects: [{ key: 'ITH', name: 'IT Help', customers: names }] });
    const r = await run.cli(['customers', 'list', '--project', 'ITH', '--json']);
    expect(r.code).toBe(0);
    const body = r.json<{ count: number; customers: { email: string; fullName: string }[] }>();
    expect(body.count).toBe(60);
    expect(body.customers[59]).toEqual({ email: 'u59@example.com', fullName: 'U59@EXAMPLE.COM', passwordSet: false, mustChangePassword: false });
    const listing = run.jsm.calls.filter((c) => c.path === '/rest/servicedeskapi/servicedesk/61/customer');
    expect(listing.map((c) => [c.query.start, c.headers['x-experimentalapi']])).toEqual([['0', 'opt-in'], ['50', 'opt-in']]);
  });

  it('says plainly when the instance does not offer the listing (exit 3)', async () => {
    for (const refused of [404, 403, 405] as const) {
      const run = await start({ customerListRefused: refused });
      const r = await run.cli(['customers', 'list', '--project', 'ITH', '--json']);
      expect(r.code).toBe(3);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'customer-listing-unavailable', message: expect.stringContaining('does not offer the experimental customer listing') } });
      expect(r.stderr).toContain('invitations list --project ITH');
      // The missing endpoint is named.
      expect(r.json<{ error: { message: string } }>().error.message).toContain(`GET .../servicedesk/61/customer: ${refused}`);
    }
  });
});
