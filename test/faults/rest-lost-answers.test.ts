/**
 * Lost answers never turn a user who existed before the run into a `created` one, and never get
 * them an invitation: the REST target looks accounts up first, and after a lost or refused create
 * decides from the account, not from the message. Through the built CLI, the JSM double cutting
 * half of the answers after the write (German messages), and the real SMTP sink.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();

describe('lost answers and users who existed before the run', () => {
  it('pre-existing users (directory usernames or email usernames) are existing, never created, never invited', async () => {
    const before = [
      ...Array.from({ length: 8 }, (_, i) => ({ name: `dir${i}`, emailAddress: `Dir.User${i}@Corp.Example`, displayName: `Dir User ${i}` })),
      ...Array.from({ length: 8 }, (_, i) => ({ name: `old${i}@example.com`, emailAddress: `old${i}@example.com`, displayName: `Old ${i}` })),
    ];
    const run = await start({ language: 'de', existingUsers: before, faults: { cutAfterWriteRate: 0.35, seed: 5 } });
    const lines = [
      'email,full name,password',
      ...before.map((u) => `${u.emailAddress.toLowerCase()},${u.displayName},${u.name.startsWith('old3') ? 'Pw-never-used-1' : ''}`),
      ...Array.from({ length: 16 }, (_, i) => `new${i}@example.com,New ${i},`),
    ];
    await writeFile(join(run.dir, 'in.csv'), `${lines.join('\n')}\n`);
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--report', 'report.json', '--json', ...smtp.mail()]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.json()).toMatchObject({ ok: true, totals: { rows: 32, created: 16, existing: 16, failed: 0 }, invitations: { sent: 16, failed: 0, inDoubt: 0 } });
    // Answers were lost (the double cut them after the write), yet nothing was made twice or for the old users.
    expect(run.jsm.calls.filter((c) => c.fault === 'cut-after-write').length).toBeGreaterThan(5);
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.creates.map((c) => c.username).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `new${i}@example.com`).sort());
    const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((a) => a.toLowerCase()));
    expect(invited.sort()).toEqual(Array.from({ length: 16 }, (_, i) => `new${i}@example.com`).sort());
    // The old users are on the desk under their own usernames; their passwords untouched.
    expect([...(run.jsm.desks[60]?.customers ?? [])].filter((u) => !u.startsWith('new')).sort()).toEqual(before.map((u) => u.name.toLowerCase()).sort());
    expect(run.jsm.users.get('old3@example.com')?.password).toBeUndefined();
  });
});
