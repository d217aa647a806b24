/**
 * JSM Cloud as a target, end to end against the Cloud double (on 127.0.0.1: a Cloud site by its
 * serverInfo): 300 rows with two people whose accounts exist (one hiding its email), an existing
 * organization and a new one; the same file again; passwords refused; the project's setting.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import type { JsmCloudDouble } from '../support/jsm-cloud-double/types.js';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const smtp = useSmtpSink();
let jsm: JsmCloudDouble | undefined;
afterEach(async () => {
  await jsm?.close();
  jsm = undefined;
});

const ENV = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token' };
const WRITES = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/** Every key of a JSON body, however deep. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      into.add(k.toLowerCase());
      keysOf(v, into);
    }
  }
  return into;
}

describe('JSM Cloud', () => {
  it('300 rows, two existing (one hiding its email): 298 accounts, 300 customers, 298 invitations to the portal; the same file again makes nothing; passwords refused; the setting stops invitations', async () => {
    jsm = await startJsmCloudDouble({
      existingAccounts: [
        { email: 'known@example.com', displayName: 'Known Person' },
        { email: 'private@example.com', displayName: 'Private Person', hideEmail: true },
      ],
      organizations: [{ name: 'Acme' }],
    });
    const double = jsm;
    const dir = await tempDir();
    const env = { ...ENV, JSM_STATE_DIR: path.join(dir, 'state') };
    const rows = Array.from({ length: 300 }, (_, i) => {
      const email = i === 10 ? 'KNOWN@example.com' : i === 20 ? 'private@example.com' : `person${i}@example.com`;
      const org = i % 3 === 0 ? 'Acme' : i % 3 === 1 ? 'Globex' : '';
      return `${email},Person ${i},${org}`;
    });
    await writeFile(path.join(dir, 'people.csv'), `email,full name,organization\n${rows.join('\n')}\n`);
    const accountsBefore = double.accounts.size;
    const common = ['--target', double.url, '--project', 'ITH', '--json', ...smtp.mail()];

    const first = await runCli(['import-csv', 'people.csv', ...common], { cwd: dir, env });
    expect(first.stderr).not.toContain('cloud-api-token');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const summary = first.json<{ target: string; totals: Record<string, number>; invitations: Record<string, unknown>; organizations: Record<string, number> }>();
    expect(summary.totals).toMatchObject({ rows: 300, created: 298, existing: 2, invalid: 0, duplicate: 0, failed: 0 });
    expect(summary.invitations).toMatchObject({ sent: 298, failed: 0, suppressed: 0 });
    expect(summary.organizations).toMatchObject({ created: 1 });

    // No second account for anyone: 298 made, one per new email; the two who existed kept theirs.
    expect(double.accounts.size).toBe(accountsBefore + 298);
    expect(new Set(double.creates.map((c) => c.email)).size).toBe(double.creates.length);
    expect(double.creates.map((c) => c.email)).not.toContain('known@example.com');
    expect(double.creates.map((c) => c.email)).not.toContain('private@example.com');
    const desk = double.desk('ITH');
    expect(desk?.customers.size).toBe(300);
    const known = double.accountByEmail('known@example.com');
    const hidden = double.accountByEmail('private@example.com');
    expect(desk?.customers.has(known?.accountId ?? '')).toBe(true);
    expect(desk?.customers.has(hidden?.accountId ?? '')).toBe(true);

    // Nothing password- or username-like ever sent.
    for (const call of double.calls) {
      const keys = keysOf(call.body);
      for (const forbidden of ['password', 'username', 'usernames', 'name']) {
        if (forbidden === 'name' && call.path.endsWith('/organization')) continue;
        expect(keys.has(forbidden), `${call.method} ${call.path} sent "${forbidden}"`).toBe(false);
      }
    }

    // 298 invitations, none to the two who existed, each linking to the portal, none with a password.
    const portal = `${double.url}/servicedesk/customer/portal/${desk?.id}`;
    const to = smtp.sink.messages.flatMap((m) => m.rcptTo.map((r) => r.toLowerCase()));
    expect(to).toHaveLength(298);
    expect(to).not.toContain('known@example.com');
    expect(to).not.toContain('private@example.com');
    for (const message of smtp.sink.messages) {
      expect(message.raw).toContain(portal);
      expect(message.raw).toContain('Forgot your password?');
      expect(message.raw).not.toMatch(/administrator has set a password/i);
    }

    // An existing organization used, a new one made once, with the right members.
    expect(double.organizationCreates).toEqual(['Globex']);
    const acme = double.organizations.find((o) => o.name === 'Acme');
    const globex = double.organizations.find((o) => o.name === 'Globex');
    expect(acme?.members.size).toBe(100);
    expect(globex?.members.size).toBe(100);
    expect(acme?.members.has(double.accountByEmail('person3@example.com')?.accountId ?? '')).toBe(true);
    expect(globex?.members.has(double.accountByEmail('person1@example.com')?.accountId ?? '')).toBe(true);
    expect(desk?.organizations.has(acme?.id ?? '')).toBe(true);
    expect(desk?.organizations.has(globex?.id ?? '')).toBe(true);

    // At most 1.15 requests per new row, everything counted (look-ups, pages, organizations).
    expect(double.calls.length / 298).toBeLessThanOrEqual(1.15);

    // The same file again: nothing made, nobody invited.
    const sentBefore = smtp.sink.messages.length;
    const creates = double.creates.length;
    const again = await runCli(['import-csv', 'people.csv', ...common], { cwd: dir, env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ totals: { created: 0, existing: 300, failed: 0 }, invitations: { sent: 0 }, organizations: { created: 0 } });
    expect(double.creates.length).toBe(creates);
    expect(double.organizationCreates).toEqual(['Globex']);
    expect(smtp.sink.messages.length).toBe(sentBefore);

    // A file with passwords: refused before any write, exit 2, said once.
    await writeFile(path.join(dir, 'with-passwords.csv'), 'email,full name,password\nnew1@example.com,New One,S3cret-Pa55\nnew2@example.com,New Two,\n');
    const writesBefore = double.calls.filter((c) => WRITES.has(c.method)).length;
    const refused = await runCli(['import-csv', 'with-passwords.csv', ...common], { cwd: dir, env });
    expect(refused.code).toBe(2);
    expect(refused.json()).toMatchObject({ ok: false, error: { code: 'passwords-unsupported', message: expect.stringContaining('JSM Cloud sets no passwords by API') } });
    expect(refused.json<{ error: { message: string } }>().error.message).toContain('line 2');
    expect(refused.stdout + refused.stderr).not.toContain('S3cret-Pa55');
    expect(refused.stderr.match(/sets no passwords/g) ?? []).toHaveLength(1);
    expect(double.calls.filter((c) => WRITES.has(c.method)).length).toBe(writesBefore);
    expect(double.accountByEmail('new1@example.com')).toBeUndefined();

    // The project's setting on Cloud: the next import invites nobody.
    const set = await runCli(['project', 'set-notifications', '--no-verification', '--target', double.url, '--project', 'ITH', '--json'], { cwd: dir, env });
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(double.properties.get('ITH/jsm-provision.customer-notifications')).toEqual({ sendVerificationEmails: false });
    await writeFile(path.join(dir, 'later.csv'), 'email,full name\nlater1@example.com,Later One\nlater2@example.com,Later Two\n');
    const later = await runCli(['import-csv', 'later.csv', ...common], { cwd: dir, env });
    expect(later.code, later.stdout + later.stderr).toBe(0);
    expect(later.json()).toMatchObject({ totals: { created: 2 }, invitations: { sent: 0, suppressed: 2, suppressedBy: 'project-setting' } });
    expect(smtp.sink.messages.length).toBe(sentBefore);
  }, 120_000);

  it('the other commands work on Cloud: project list/show, add-customer, customers list, organizations list, invitations list; project create and passwords say why not', async () => {
    jsm = await startJsmCloudDouble({ organizations: [{ name: 'Acme', projects: ['ITH'] }] });
    const double = jsm;
    const dir = await tempDir();
    const env = { ...ENV, JSM_STATE_DIR: path.join(dir, 'state') };
    const on = ['--target', double.url, '--json'];
    const cli = (args: string[]) => runCli([...args, ...on], { cwd: dir, env });

    const list = await cli(['project', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json<{ target: string; projects: { key: string }[] }>().projects.map((p) => p.key)).toContain('ITH');

    const generated = await cli(['add-customer', '--project', 'ITH', '--email', 'gen@example.com', '--name', 'Gen', '--generate-password', ...smtp.mail()]);
    expect(generated.code).toBe(2);
    expect(generated.json()).toMatchObject({ error: { code: 'passwords-unsupported', message: expect.stringContaining('--generate-password: JSM Cloud sets no passwords by API') } });
    expect(double.calls.filter((c) => WRITES.has(c.method))).toEqual([]);

    const added = await cli(['add-customer', '--project', 'ITH', '--email', 'fred@example.com', '--name', 'Fred Jones', ...smtp.mail()]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ target: 'rest', totals: { created: 1 }, invitations: { sent: 1 } });
    expect(smtp.sink.messages[0]?.raw).toContain(`${double.url}/servicedesk/customer/portal/${double.desk('ITH')?.id}`);

    const show = await cli(['project', 'show', '--project', 'ITH']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json()).toMatchObject({ project: 'ITH', projectDetails: { jsmVersion: 'Cloud' } });

    const customers = await cli(['customers', 'list', '--project', 'ITH']);
    expect(customers.code, customers.stderr).toBe(0);
    expect(customers.json<{ customers: { email: string }[] }>().customers).toEqual([{ email: 'fred@example.com', fullName: 'Fred Jones', passwordSet: false, mustChangePassword: false }]);

    const orgs = await cli(['organizations', 'list', '--project', 'ITH']);
    expect(orgs.code, orgs.stderr).toBe(0);
    expect(orgs.json()).toMatchObject({ organizations: [{ name: 'Acme', members: 0 }] });

    const invitations = await cli(['invitations', 'list', '--project', 'ITH']);
    expect(invitations.code, invitations.stderr).toBe(0);
    expect(invitations.json()).toMatchObject({ count: 1, invitations: [{ email: 'fred@example.com', status: 'sent' }] });

    // import-mail: the sender becomes a customer and gets Cloud's verification message.
    await writeFile(path.join(dir, 'hello.eml'), 'From: Mail Person <mail.person@example.com>\r\nTo: help@example.com\r\nSubject: Printer\r\nMessage-ID: <m1@example.com>\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n\r\nIt jams.\r\n');
    const mailed = await cli(['import-mail', 'hello.eml', '--project', 'ITH', ...smtp.mail()]);
    expect(mailed.code, mailed.stderr).toBe(0);
    expect(mailed.json()).toMatchObject({ totals: { created: 1 }, invitations: { sent: 1 } });
    const verify = smtp.sink.messages.find((m) => m.rcptTo.includes('mail.person@example.com'));
    expect(verify?.raw).toContain('Verify your email for IT Help');
    expect(verify?.raw).toContain('Forgot your password?');

    const doctor = await cli(['doctor', '--project', 'ITH']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.json()).toMatchObject({ target: 'rest', project: 'ITH', credentials: { source: 'JSM_USER and JSM_TOKEN', works: true, user: 'admin@example.com', jsmVersion: 'Cloud' } });

    const create = await cli(['project', 'create', 'NEW', '--name', 'New']);
    expect(create.code).toBe(2);
    expect(create.json<{ error: { message: string } }>().error.message).toContain('create service projects in Jira Cloud');
  }, 120_000);
});
