/** The REST contract on directory-backed, German and CAPTCHA-guarded instances, through the built CLI. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { csv, useRestCli } from '../rest/cli.js';

// The JSM target's first retry step as in the in-process target tests (5 ms, not 200 ms): the
// faults here are about what is retried and what is kept, not how long a back-off lasts.
const start = useRestCli({ env: { JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5' } });
const smtp = useSmtpSink();

describe('REST against real directories', () => {
  it('a file of directory users (username ≠ email, email in another case, a username column) makes 0 accounts and adds them by username', async () => {
    const users = Array.from({ length: 12 }, (_, i) => ({ name: `jsmith${i}`, emailAddress: `john.smith${i}@corp.example`, displayName: `John Smith ${i}` }));
    const run = await start({ existingUsers: [...users, { name: 'mmuster', emailAddress: 'max@corp.example' }, { name: 'mmuster2', emailAddress: 'max@corp.example' }] });
    const lines = [
      'E-Mail,Name,User name',
      ...users.map((u, i) => `${u.emailAddress.toUpperCase()},${u.displayName},${i === 0 ? 'JSMITH0' : ''}`),
      'max@corp.example,Max Muster,mmuster2',
    ];
    await writeFile(join(run.dir, 'in.csv'), `${lines.join('\n')}\n`);
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...smtp.mail()]);
    expect(r.json()).toMatchObject({ ok: true, totals: { rows: 13, created: 0, existing: 13 }, invitations: { sent: 0 } });
    expect(run.jsm.creates).toEqual([]);
    expect(run.jsm.desks[60]?.customers).toEqual(new Set([...users.map((u) => u.name), 'mmuster2']));
    expect(smtp.sink.messages).toEqual([]);
  });

  it('a German instance with 30% of answers cut after the write: every row created once, every new customer invited once (or in doubt, then sent)', async () => {
    const run = await start({ language: 'de', faults: { cutAfterWriteRate: 0.3, seed: 3 } });
    await writeFile(join(run.dir, 'in.csv'), csv(60, 'g', 4));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--report', 'report.csv', '--json', ...smtp.mail()]);
    // A create whose answer was lost: created, its invitation in doubt (no answer proves this run made the account).
    const unanswered = run.jsm.creates.filter((c) => !c.answered).length;
    expect(r.json()).toMatchObject({ totals: { rows: 60, created: 60, failed: 0 }, invitations: { sent: 60 - unanswered, failed: 0, inDoubt: unanswered } });
    expect(run.jsm.calls.filter((c) => c.fault === 'cut-after-write').length).toBeGreaterThan(10);
    expect(createdTwice(run.jsm)).toEqual([]);
    await run.cli(['invitations', 'send', '--project', 'ITH', '--in-doubt', '--yes', '--json', ...smtp.mail()]);
    const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo);
    expect(invited.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `g${i}@example.com`).sort());
    const report = await readFile(join(run.dir, 'report.csv'), 'utf8');
    expect(report.split('\n').filter((l) => l.includes(',created,'))).toHaveLength(60);
  });

  it('a CAPTCHA stops at once with exit 3 and says how to clear it', async () => {
    const run = await start({ basic: { user: 'admin', password: 'pw' }, captcha: { active: true } });
    await writeFile(join(run.dir, 'in.csv'), csv(20));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...smtp.mail()], { env: { JSM_TOKEN: undefined, JSM_USER: 'admin', JSM_PASSWORD: 'pw' } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({
      ok: false,
      error: {
        code: 'captcha-required',
        message: `Jira asks for a CAPTCHA for this account after failed logins: log in once in a browser at ${run.jsm.url}/login.jsp, then run again (or use a personal access token)`,
      },
    });
    expect(run.jsm.calls.filter((c) => c.status === 403)).toHaveLength(1);
    expect(run.jsm.creates).toEqual([]);
  });
});
