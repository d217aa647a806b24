/** Every command on a REST target, through the built CLI, against the JSM double. */
import { beforeEach, describe, expect, it } from 'vitest';
import { useSmtpSink } from '../support/e2e.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { useRestCli } from '../rest/cli.js';

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
      project: 'ITH',
      projectDetails: {
        key: 'ITH',
        name: 'IT Help',
        sendVerificationEmails: true,
        portalUrl: `${run.jsm.url}/servicedesk/customer/portal/61`,
        deskId: '61',
        jsmVersion: '5.17.2-QR-0028',
      },
      customers: 1,
      invitations: { pending: 0, inDoubt: 0, sending: 0, failed: 0, sent: 0, suppressed: 0 },
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
    const body = off.json<{ changed: boolean; projectDetails: { sendVerificationEmails: boolean }; notes: string[] }>();
    expect(body).toMatchObject({ ok: true, target: 'rest', changed: true, projectDetails: { sendVerificationEmails: false } });
    expect(body.notes.join(' ')).toContain('Project settings > Customer notifications');
    expect(body.notes.join(' ')).toContain('has no REST API');
    expect(run.jsm.properties.get(SETTING)).toEqual({ sendVerificationEmails: false });
    const again = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--no-verification']);
    expect(again.stdout).toContain('(it already was)');
    const show = await run.cli(['project', 'show', '--project', 'ITH']);
    expect(show.stdout).toContain('"Do not send account verification emails" is on');
    const on = await run.cli(['project', 'set-notifications', '--project', 'ITH', '--verification', '--json']);
    expect(on.json()).toMatchObject({ changed: true, projectDetails: { sendVerificationEmails: true } });
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
