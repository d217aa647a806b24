// Split from rest.test.ts so that two workers share the REST contract spawns.
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

describe('import-csv on REST', () => {
  it('imports 200 rows at <= 2.1 requests per new row (look up, create; memberships batched), each invited once', async () => {
    const run = await start();
    await writeFile(join(run.dir, 'in.csv'), csv(200));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, target: 'rest', totals: { rows: 200, created: 200, failed: 0 }, invitations: { sent: 200 } });
    expect(requestsPer(run.jsm, 'POST /rest/servicedeskapi/servicedesk/61/customer')).toBe(4);
    expect(requestsPer(run.jsm, 'POST /rest/servicedeskapi/customer')).toBe(200);
    // One search per row, and one for the account's own email (can emails be matched here?).
    expect(requestsPer(run.jsm, 'GET /rest/api/2/user/search')).toBe(201);
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
    expect(requestsPer(run.jsm, 'GET /rest/api/2/user/search')).toBe(4);
    expect(sink.messages).toEqual([]);
  });

  it('a dry run gives the real run\'s totals and exit: an inactive account and a shared email fail in both', async () => {
    const run = await start({
      existingUsers: [
        { name: 'jold', emailAddress: 'c1@example.com', active: false },
        { name: 'jsmith1', emailAddress: 'c2@example.com' },
        { name: 'jsmith2', emailAddress: 'c2@example.com' },
      ],
    });
    await writeFile(join(run.dir, 'in.csv'), csv(3));
    const dry = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--dry-run', '--json', ...mail()]);
    const real = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...mail()]);
    const totals = { rows: 3, created: 1, existing: 0, invalid: 0, duplicate: 0, failed: 2 };
    expect([dry.code, real.code]).toEqual([1, 1]);
    expect(dry.json()).toMatchObject({ ok: false, dryRun: true, totals, invitations: { sent: 1 } });
    expect(real.json()).toMatchObject({ ok: false, dryRun: false, totals, invitations: { sent: 1 } });
    const problems = (r: typeof dry) => r.json<{ problems: { line: number; status: string; reason: string }[] }>().problems;
    expect(problems(dry)).toEqual(problems(real));
    expect(problems(dry).map((p) => [p.line, p.status])).toEqual([[3, 'failed'], [4, 'failed']]);
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
      // A 403 is the account's permission, not a call the instance lacks.
      const said = refused === 403 ? 'refused to list the customers of ITH to this account' : 'does not offer the experimental customer listing';
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'customer-listing-unavailable', message: expect.stringContaining(said) } });
      expect(r.stderr).toContain('invitations list --project ITH');
      // The missing endpoint is named.
      expect(r.json<{ error: { message: string } }>().error.message).toContain(`GET .../servicedesk/61/customer: ${refused}`);
    }
  });
});
