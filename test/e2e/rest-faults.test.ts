/** A REST target refusing, failing and rate-limiting, through the built CLI against the JSM double. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createAttempts, createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { useTempDirs } from '../support/tmp.js';
import { csv, useRestCli } from '../rest/cli.js';

// The JSM target's first retry step as in the in-process target tests (5 ms, not 200 ms): the
// faults here are about what is retried and what is kept, not how long a back-off lasts.
const start = useRestCli({ env: { JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5' } });
const tempDir = useTempDirs();
const smtp = useSmtpSink();
let sink: SmtpSink;
beforeEach(() => {
  sink = smtp.sink;
});
const mail = () => smtp.mail();

describe('refusals before any row (exit 3, or 2 for configuration)', () => {
  it('a wrong token stops at the first authenticated call, never retried', async () => {
    const run = await start();
    await writeFile(join(run.dir, 'in.csv'), csv(50));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json'], { env: { JSM_TOKEN: 'wrong' } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'auth-failed', message: `authentication failed for ${run.jsm.url}: check JSM_TOKEN` } });
    expect(run.jsm.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'GET /rest/servicedeskapi/info 200',
      'GET /rest/servicedeskapi/servicedesk 401',
    ]);
    expect(r.stderr + r.stdout).not.toContain('wrong');
    expect(r.json()).toMatchObject({ error: { hint: expect.stringContaining('else set JSM_USER and JSM_PASSWORD') } });
    // A wrong password: the hint does not send the admin to the variables they already set.
    const basic = await run.cli(['customers', 'list', '--project', 'ITH', '--json'], { env: { JSM_TOKEN: undefined, JSM_USER: 'admin', JSM_PASSWORD: 'not-it' } });
    expect(basic.code).toBe(3);
    const { error } = basic.json<{ error: { code: string; hint: string } }>();
    expect(error.code).toBe('auth-failed');
    expect(error.hint).toContain('check the user name and password');
    expect(error.hint).not.toContain('set JSM_USER');
    expect(basic.stderr + basic.stdout).not.toContain('not-it');
  });

  it('a token that is known but forbidden (403) stops the same way', async () => {
    const run = await start({ forbiddenToken: 'agent-token' });
    const r = await run.cli(['customers', 'list', '--project', 'ITH', '--json'], { env: { JSM_TOKEN: 'agent-token' } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ error: { code: 'auth-failed', message: expect.stringContaining('authentication failed for') } });
    expect(run.jsm.calls.filter((c) => c.status === 403)).toHaveLength(1);
  });

  it('a 401 in the middle of an import stops it at once: exit 3, the rest not attempted', async () => {
    const run = await start({ faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: '401' }] } });
    await writeFile(join(run.dir, 'in.csv'), csv(100));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--concurrency', '1', '--outbox', 'outbox', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ error: { code: 'auth-failed' } });
    // One request at a time: nothing at all after the 401 (with more in flight, those already sent finish).
    // (Before the first write, who the account is and whether emails can be searched; the first row is looked up before its create.)
    expect(run.jsm.calls.slice(4).map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'GET /rest/api/2/myself 200',
      'GET /rest/api/2/mypermissions 200',
      'GET /rest/api/2/user/search 200',
      'GET /rest/api/2/user/search 200',
      'POST /rest/servicedeskapi/customer 401',
    ]);
  });

  it('an unknown project names the close matches', async () => {
    const run = await start({ projects: [{ key: 'ITH', name: 'IT Help' }, { key: 'ITX', name: 'IT Extra' }, { key: 'HR', name: 'People' }] });
    const r = await run.cli(['project', 'show', '--project', 'ITG', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({
      error: { code: 'unknown-project', message: `there is no service project ITG on ${run.jsm.url} (close matches: ITH, ITX)` },
    });
  });

  it('missing credentials: exit 2 naming the variables, before any call', async () => {
    const run = await start();
    const r = await run.cli(['project', 'show', '--project', 'ITH', '--json'], { env: { JSM_TOKEN: undefined, JSM_USER: 'root' } });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'missing-credentials', message: expect.stringContaining('JSM_PASSWORD is not set') } });
    expect(r.json<{ error: { message: string } }>().error.message).toContain('set JSM_TOKEN');
    expect(run.jsm.calls).toEqual([]);
  });

  it('a Jira Cloud URL with a token but no JSM_USER: exit 2 saying Cloud needs the account\'s email, with no call made', async () => {
    const dir = await tempDir();
    const r = await runCli(['project', 'show', '--project', 'ITH', '--target', 'https://acme.atlassian.net', '--json'], { cwd: dir, env: { JSM_TOKEN: 't' } });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'missing-credentials', message: 'JSM_USER is not set (Cloud needs the email of the account the API token belongs to) for https://acme.atlassian.net (JSM Cloud)' } });
    expect(r.stderr).toContain('id.atlassian.com/manage-profile/security/api-tokens');
  });

  it('an address where nothing listens: exit 3 "cannot reach"', async () => {
    const dir = await tempDir();
    const r = await runCli(['project', 'show', '--project', 'ITH', '--target', 'http://127.0.0.1:9', '--json'], { cwd: dir, env: { JSM_TOKEN: 't', JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5' } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ error: { code: 'unreachable', message: expect.stringContaining('connection refused') } });
  });
});

describe('faults and rate limits during a run', () => {
  it('10% 503s and 10% connections cut after the write: every row created once, each invited once or in doubt', async () => {
    const run = await start({ faults: { status503Rate: 0.1, cutAfterWriteRate: 0.1, seed: 42 } });
    // Every third row with a password: both create calls meet the faults.
    await writeFile(join(run.dir, 'in.csv'), csv(150, 'c', 3));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--json', ...mail()]);
    // A create whose answer was lost proves nothing about who made the account (another run may
    // have, and be inviting them): its invitation is in doubt, listed, and not sent by itself.
    const unanswered = run.jsm.creates.filter((c) => !c.answered).length;
    expect(unanswered).toBeGreaterThan(5);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({
      ok: false,
      totals: { rows: 150, created: 150, existing: 0, failed: 0 },
      invitations: { sent: 150 - unanswered, failed: 0, inDoubt: unanswered },
      problems: expect.arrayContaining([expect.objectContaining({ status: 'created', invitation: 'in-doubt', reason: expect.stringContaining('invitations send --in-doubt') })]),
    });
    expect(sink.accepted()).toHaveLength(150 - unanswered);
    // The admin, knowing no other run was at work, sends them.
    const resend = await run.cli(['invitations', 'send', '--project', 'ITH', '--in-doubt', '--yes', '--json', ...mail()]);
    expect(resend.json()).toMatchObject({ invitations: { sent: unanswered } });
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.creates).toHaveLength(150);
    expect(run.jsm.desks[60]?.customers.size).toBe(150);
    // The faults did happen, and some creates were answered "exists" after a lost answer.
    expect(run.jsm.calls.filter((c) => c.fault === 'cut-after-write').length).toBeGreaterThan(5);
    expect([...createAttempts(run.jsm).values()].some((n) => n > 1)).toBe(true);
    expect(sink.accepted()).toHaveLength(150);
    expect(new Set(sink.accepted().map((m) => m.rcptTo[0])).size).toBe(150);
    // JSM was never asked to send anything itself.
    const userCreates = run.jsm.calls.filter((c) => c.method === 'POST' && c.path === '/rest/api/2/user');
    expect(new Set(userCreates.map((c) => (c.body as { notification: unknown }).notification))).toEqual(new Set(['false']));
    expect(new Set(userCreates.map((c) => (c.body as { name: string }).name)).size).toBe(50);
    expect(run.jsm.notificationsSent).toEqual([]);
  });

  it('honours Retry-After in full after a 429, then goes on', async () => {
    const run = await start({ faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: '429', retryAfter: 1 }] } });
    await writeFile(join(run.dir, 'in.csv'), csv(5));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--concurrency', '1', '--no-invite', '--json']);
    expect(r.json()).toMatchObject({ ok: true, totals: { created: 5 } });
    const i = run.jsm.calls.findIndex((c) => c.status === 429);
    const throttled = run.jsm.calls[i]!;
    const next = run.jsm.calls[i + 1]!;
    expect(next.body).toEqual(throttled.body);
    expect(next.time - throttled.time).toBeGreaterThanOrEqual(1000); // Retry-After: 1, in full
  });

  it('paces itself by the X-RateLimit headers under a small token bucket', async () => {
    // 20 rows are some 45 calls, 8 times the bucket: 40 of them must wait for a token (60 rows made
    // about 130 calls, 3 s at 40 a second, for the same proof). Not pacing meets dozens of 429s.
    const run = await start({ rateLimit: { capacity: 5, refillPerSecond: 40 } });
    await writeFile(join(run.dir, 'in.csv'), csv(20));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--json']);
    expect(r.json()).toMatchObject({ ok: true, totals: { created: 20, failed: 0 } });
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.calls.length).toBeGreaterThanOrEqual(40);
    expect(run.jsm.calls.filter((c) => c.status === 429).length).toBeLessThanOrEqual(2);
  });
});
