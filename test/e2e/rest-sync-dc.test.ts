/**
 * A sync on the JSM Data Center double through the built CLI: `import-csv --sync --plan`, then
 * `apply`, then `customers export`. The plan and the apply read the project's customers in pages
 * (no search per row already there), removals go through JSM's own calls by username, members
 * leave and join organizations, the export gives every customer (more than one page), and an
 * instance that does not list customers refuses the plan before any write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestsPer, type JsmDoubleOptions } from '../support/jsm-double.js';
import { syncEmail, syncSeed } from '../support/sync-world.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const restCli = useRestCli();
const mail = useSmtpSink();
const SD = '/rest/servicedeskapi';
const SEARCH = 'GET /rest/api/2/user/search';
const N = 120;
const email = syncEmail;

const seed = (extra: Partial<JsmDoubleOptions> = {}): JsmDoubleOptions => syncSeed(N, extra);

/** Everyone but u8 and u9; u3 and u4 out of Acme; new0 (into Acme) and new1 added. */
function wanted(): string {
  const lines = ['email,full name,organization'];
  for (let i = 0; i < N; i++) {
    if (i === 8 || i === 9) continue;
    lines.push(`${email(i)},Person ${i},${i < 3 ? 'Acme' : i >= 5 && i < 8 ? 'Globex' : ''}`);
  }
  lines.push('new0@corp.example,New Zero,Acme', 'new1@corp.example,New One,');
  return `${lines.join('\n')}\n`;
}

describe('a sync on Data Center, through the CLI', () => {
  it('plans and applies through JSM\'s calls, with no search per row already a customer; the export then gives every customer', async () => {
    const run = await restCli(seed());
    await writeFile(join(run.dir, 'ith.csv'), wanted());
    const plan = await run.cli(['import-csv', 'ith.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json()).toMatchObject({ ok: true });
    const listingPages = Math.ceil(N / 50);
    expect(requestsPer(run.jsm, `GET ${SD}/servicedesk/3/customer`)).toBe(listingPages);
    const searched = () => run.jsm.calls.filter((c) => `${c.method} ${c.path}` === SEARCH && c.query.username !== 'admin@jira.example').map((c) => c.query.username);
    expect(searched()).toEqual(['new0@corp.example', 'new1@corp.example']);
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);

    const before = run.jsm.calls.length;
    const apply = await run.cli(['apply', 'plan.json', '--json', ...mail.mail()]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.json()).toMatchObject({ ok: true, target: 'rest', totals: { created: 2, removed: 2 }, organizations: { left: 4 }, invitations: { sent: 2 } });
    const during = run.jsm.calls.slice(before);
    // The apply reads the listing again (is the plan still true?) and searches only for the two it creates.
    expect(during.filter((c) => c.method === 'GET' && c.path === `${SD}/servicedesk/3/customer`)).toHaveLength(listingPages);
    const applySearches = during.filter((c) => `${c.method} ${c.path}` === SEARCH && c.query.username !== 'admin@jira.example').map((c) => c.query.username);
    expect(applySearches.every((q) => q === 'new0@corp.example' || q === 'new1@corp.example')).toBe(true);
    expect(applySearches.length).toBeLessThanOrEqual(4);
    const deletes = during.filter((c) => c.method === 'DELETE').map((c) => [c.path, c.body]);
    expect(deletes).toEqual(expect.arrayContaining([
      [`${SD}/organization/1/user`, { usernames: ['u3', 'u4'] }],
      [`${SD}/organization/2/user`, { usernames: ['u8', 'u9'] }],
      [`${SD}/servicedesk/3/customer`, { usernames: ['u8', 'u9'] }],
    ]));
    expect(deletes).toHaveLength(3);
    const org = (name: string) => [...(run.jsm.organizations.find((o) => o.name === name)?.members ?? [])].sort();
    expect(org('Acme')).toEqual(['new0@corp.example', 'u0', 'u1', 'u2']);
    expect(org('Globex')).toEqual(['u5', 'u6', 'u7']);
    expect(org('Initech')).toEqual(['u0']);
    expect(run.jsm.users.get('u8')?.active).toBe(true);
    expect(mail.sink.messages.map((m) => m.rcptTo).sort()).toEqual([['new0@corp.example'], ['new1@corp.example']]);

    const exported = await run.cli(['customers', 'export', '--project', 'ITH']);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(N + 1);
    expect(lines).toContain('new0@corp.example,New Zero,Acme,');
    expect(lines).toContain(`${email(5)},Person 5,Globex,`);
    expect(lines.some((l) => l.startsWith(`${email(8)},`))).toBe(false);

    // The export as the next file: its sync plans nothing.
    await writeFile(join(run.dir, 'exported.csv'), exported.stdout);
    const again = await run.cli(['import-csv', 'exported.csv', '--project', 'ITH', '--sync', '--plan', 'again.json', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(run.dir, 'again.json'), 'utf8')).counts).toEqual({ create: 0, existing: N, remove: 0, join: 0, leave: 0, invite: 0 });
  });

  it('an instance that does not list customers (405): the plan is refused with customer-listing-unavailable (exit 3) before any write', async () => {
    const run = await restCli(seed({ customerListRefused: 405 }));
    await writeFile(join(run.dir, 'ith.csv'), wanted());
    const plan = await run.cli(['import-csv', 'ith.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json']);
    expect(plan.code).toBe(3);
    expect(plan.json()).toMatchObject({ ok: false, command: 'import-csv', error: { code: 'customer-listing-unavailable' } });
    expect((plan.json() as { error: { message: string } }).error.message).toContain('405');
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(requestsPer(run.jsm, SEARCH)).toBe(0);
  });
});
