/**
 * Desired state on the JSM double (Data Center): a sync planned and applied through JSM's own calls
 * (removals by username, organization leaves), the plan with no secret in it, and stale plans.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestsPer } from '../support/jsm-double.js';
import { useRestCli } from '../rest/cli.js';
import { useSmtpSink } from '../support/e2e.js';

const restCli = useRestCli();
const smtp = useSmtpSink();

/** ITH with 60 customers (two pages of the listing), u0 and u1 in Acme (on ITH). */
const seed = () => {
  const users = Array.from({ length: 60 }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` }));
  return {
    desks: 2,
    existingUsers: users,
    projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }],
    organizations: [{ name: 'Acme', members: ['u0', 'u1'], projects: ['ITH'] }],
  };
};

/** Keeps person0..person56 (person1 out of Acme), drops person57..59, adds one new customer (with a password) into Acme. */
function wanted(): string {
  const rows = ['email,full name,organization,password'];
  for (let i = 0; i < 57; i++) rows.push(`person${i}@corp.example,Person ${i},${i === 0 ? 'Acme' : ''},`);
  rows.push('new@corp.example,New Person,Acme,Tr0ub4dor&3-secret');
  return `${rows.join('\n')}\n`;
}

describe('sync on JSM Data Center', () => {
  it('plans from the listing (no user search per customer already there), the plan holds no secret; apply removes and leaves through JSM; again: exit 4', async () => {
    const run = await restCli(seed());
    await writeFile(join(run.dir, 'wanted.csv'), wanted());
    const planned = await run.cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json', ...smtp.mail()]);
    expect(planned.code).toBe(0);
    expect(planned.json()).toMatchObject({ counts: { create: 1, existing: 57, remove: 3, join: 1, leave: 1, invite: 1 } });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    const searches = [...requestsPer(run.jsm).entries()].filter(([k]) => /user\/search|user\/picker/.test(k)).reduce((n, [, v]) => n + v, 0);
    // The listing in pages of 50; the user search only for the one row the listing does not have.
    expect(requestsPer(run.jsm, 'GET /rest/servicedeskapi/servicedesk/3/customer')).toBe(2);
    expect(searches).toBeLessThanOrEqual(3);
    const text = await readFile(join(run.dir, 'plan.json'), 'utf8');
    expect(text).not.toMatch(/Tr0ub4dor|test-token|PKCS5S2|password/i);

    const applied = await run.cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(applied.code).toBe(0);
    expect(applied.json()).toMatchObject({ ok: true, command: 'apply', target: 'rest', totals: { created: 1, existing: 57, removed: 3 }, organizations: { left: 1 }, invitations: { sent: 1 } });
    expect(run.jsm.customerRemovals.map((x) => x.split('/')[1]).sort()).toEqual(['u57', 'u58', 'u59']);
    expect(run.jsm.organizationLeaves.map((x) => x.split('/')[1])).toEqual(['u1']);
    expect(smtp.sink.messages.map((m) => m.rcptTo)).toEqual([['new@corp.example']]);

    const again = await run.cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(again.code).toBe(4);
    expect(again.json()).toMatchObject({ error: { code: 'stale-plan' } });
    const exported = await run.cli(['customers', 'export', '--project', 'ITH', '--output', 'ith.csv', '--json']);
    expect(exported.json()).toMatchObject({ count: 58 });
  });
});
