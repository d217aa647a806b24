/**
 * Through the built CLI, instances as admins configure them: emails hidden from the user search,
 * and a login page answered 200 in the middle of a run. Nobody is invited who existed before, or
 * who is not a customer of the project.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, useRestCli } from '../rest/cli.js';
import type { JsmDouble } from '../support/jsm-double.js';

const start = useRestCli();
const LDAP = { name: 'jsmith', emailAddress: 'john.smith@corp.example', displayName: 'John Smith' };
const outbox = async (dir: string): Promise<string[]> => (await readdir(join(dir, 'outbox')).catch(() => [])).filter((f) => f.endsWith('.eml'));

describe('emails hidden from the user search', () => {
  it('an LDAP user in the file: exit 3 before any write, naming the setting; with a username column and --match-accounts username the run resolves them', async () => {
    const run = await start({ emailVisibility: 'hidden', existingUsers: [LDAP] });
    await writeFile(join(run.dir, 'in.csv'), 'email,full name\njohn.smith@corp.example,John Smith\nnew@example.com,New Person\n');
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--outbox', 'outbox', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({
      ok: false,
      error: { code: 'emails-not-matchable', hint: expect.stringContaining('User email visibility') },
    });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(await outbox(run.dir)).toEqual([]);

    await writeFile(join(run.dir, 'named.csv'), 'email,full name,username\njohn.smith@corp.example,John Smith,jsmith\n');
    const named = await run.cli(['import-csv', 'named.csv', '--project', 'ITH', '--outbox', 'outbox', '--match-accounts', 'username', '--json']);
    expect(named.code).toBe(0);
    expect(named.json()).toMatchObject({ totals: { existing: 1, created: 0 }, invitations: { sent: 0 } });
    expect(run.jsm.creates).toEqual([]);
    expect(run.jsm.desks[60]?.customers.has('jsmith')).toBe(true);
    expect(await outbox(run.dir)).toEqual([]);
  });
});

describe('Basic authentication turned off', () => {
  it('exit 3 before any write, naming personal access tokens; the password never printed', async () => {
    const run = await start({ basic: { user: 'admin', password: 'Pw-not-shown-7' }, basicDisabled: true });
    await writeFile(join(run.dir, 'in.csv'), csv(3));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--outbox', 'outbox', '--json'], {
      env: { JSM_TOKEN: undefined, JSM_USER: 'admin', JSM_PASSWORD: 'Pw-not-shown-7' },
    });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'basic-auth-disabled', hint: expect.stringContaining('Personal Access Tokens') } });
    expect(r.stdout + r.stderr).not.toContain('Pw-not-shown-7');
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
  });
});

describe('a login page answered 200 in the middle of a run', () => {
  it('to the membership call: exit 3, and nobody who is not a customer is invited', async () => {
    const run = await start({ faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/servicedesk/61/customer', kind: 'login-page-200' }] } });
    await writeFile(join(run.dir, 'in.csv'), csv(10));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--outbox', 'outbox', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'session-lost' }, invitations: { sent: 0 } });
    expect(r.stdout + r.stderr).not.toMatch(/os_password|<html/i);
    expect(run.jsm.desks[60]?.customers.size).toBe(0);
    expect(await outbox(run.dir)).toEqual([]);
  });

  it('to a create after five others: exit 3; no account that was never made is invited', async () => {
    let jsm: JsmDouble | undefined;
    const run = await start({
      onCreate: (count) => {
        if (count === 5) jsm?.setFaults({ failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'login-page-200' }] });
      },
    });
    jsm = run.jsm;
    await writeFile(join(run.dir, 'in.csv'), csv(10));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--concurrency', '1', '--outbox', 'outbox', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ error: { code: 'session-lost' } });
    expect(run.jsm.creates).toHaveLength(5);
    const customers = run.jsm.desks[60]?.customers ?? new Set<string>();
    const invited = await outbox(run.dir);
    // Invited only if a customer; here the run stopped before any membership, so nobody.
    expect(invited.length).toBeLessThanOrEqual(customers.size);
    expect(invited).toEqual([]);
  });
});
