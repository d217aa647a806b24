/**
 * Lost answers never turn a user who existed before the run into a `created` one, and never get
 * them an invitation: the REST target looks accounts up first, and after a lost or refused create
 * decides from the account, not from the message. Through the built CLI, the JSM double cutting
 * half of the answers after the write (German messages), and the real SMTP sink.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';
import { rows, useRest } from '../rest/helpers.js';

// The JSM target's first retry step as in the in-process target tests (5 ms, not 200 ms): the cut
// answers here are about what is decided after them, not how long a back-off lasts.
const start = useRestCli({ env: { JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5' } });
const smtp = useSmtpSink();
const rest = useRest();

describe('lost answers and users who existed before the run', () => {
  it('pre-existing users (directory usernames or email usernames) are existing, never created, never invited', async () => {
    const before = [
      ...Array.from({ length: 5 }, (_, i) => ({ name: `dir${i}`, emailAddress: `Dir.User${i}@Corp.Example`, displayName: `Dir User ${i}` })),
      ...Array.from({ length: 5 }, (_, i) => ({ name: `old${i}@example.com`, emailAddress: `old${i}@example.com`, displayName: `Old ${i}` })),
    ];
    const run = await start({ language: 'de', existingUsers: before, faults: { cutAfterWriteRate: 0.35, seed: 5 } });
    const lines = [
      'email,full name,password',
      ...before.map((u) => `${u.emailAddress.toLowerCase()},${u.displayName},${u.name.startsWith('old3') ? 'Pw-never-used-1' : ''}`),
      ...Array.from({ length: 10 }, (_, i) => `new${i}@example.com,New ${i},`),
    ];
    await writeFile(join(run.dir, 'in.csv'), `${lines.join('\n')}\n`);
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--report', 'report.json', '--json', ...smtp.mail()]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    // A new customer whose create lost its answer is created, its invitation in doubt (no answer proves this run made it).
    const unanswered = run.jsm.creates.filter((c) => !c.answered).length;
    expect(r.json()).toMatchObject({ totals: { rows: 20, created: 10, existing: 10, failed: 0 }, invitations: { sent: 10 - unanswered, failed: 0, inDoubt: unanswered } });
    // Answers were lost (the double cut them after the write), yet nothing was made twice or for the old users.
    expect(run.jsm.calls.filter((c) => c.fault === 'cut-after-write').length).toBeGreaterThan(3);
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.creates.map((c) => c.username).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `new${i}@example.com`).sort());
    await run.cli(['invitations', 'send', '--project', 'ITH', '--in-doubt', '--yes', '--json', ...smtp.mail()]);
    const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((a) => a.toLowerCase()));
    expect(invited.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `new${i}@example.com`).sort());
    // The old users are on the desk under their own usernames; their passwords untouched.
    expect([...(run.jsm.desks[60]?.customers ?? [])].filter((u) => !u.startsWith('new')).sort()).toEqual(before.map((u) => u.name.toLowerCase()).sort());
    expect(run.jsm.users.get('old3@example.com')?.password).toBeUndefined();
  });
});

describe('an account made by someone else between the look-up and the create', () => {
  it('is existing, never created, and its intent is settled without an invitation', async () => {
    const jsm = await rest.double({
      onRequest: (call, users) => {
        const email = (call.body as { email?: string } | undefined)?.email;
        if (call.method === 'POST' && call.path === '/rest/servicedeskapi/customer' && email === 'c1@example.com' && !users.has(email)) {
          // Another admin's tool creates the same customer a moment before ours.
          users.set(email, { name: email, key: 'JIRAUSER9', emailAddress: email, displayName: 'Made Elsewhere', active: true, createdVia: 'seed', applicationKeys: [] });
        }
      },
    });
    const target = await rest.target(jsm, { concurrency: 1 });
    const project = await target.getProject('ITH');
    const intent = (i: number) => ({
      project: 'ITH', key: `c${i}@example.com`, email: `c${i}@example.com`, fullName: `Customer ${i}`, kind: 'welcome' as const,
      status: 'pending' as const, deferred: false, mustChangePassword: false, updatedAt: new Date().toISOString(),
    });
    const outcomes = await target.provision(project, rows(3).map((r, i) => ({ ...r, invitation: intent(i) })));
    expect(outcomes).toEqual([{ status: 'created' }, { status: 'existing', fullName: 'Made Elsewhere' }, { status: 'created' }]);
    // The core records invitations for the created rows only; then the intents are all resolved.
    target.ledger.add([intent(0), intent(2)]);
    await target.flush();
    expect(target.ledger.get('ITH', 'c1@example.com')).toBeUndefined();
    expect(await readdir(`${target.ledgerPath}.intents`)).toEqual([]);
  });
});
