import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import type { SmtpSink } from '../support/smtp-sink.js';
import { readStore } from '../support/store.js';

const smtp = useSmtpSink();
const projectDir = useProjectDir();
let dir: string;
let sink: SmtpSink;
beforeEach(() => {
  dir = projectDir();
  sink = smtp.sink;
});

const csv = (n: number) => ['email,name', ...Array.from({ length: n }, (_, i) => `person${i}@example.com,Person ${i}`)].join('\n');
const cli = (args: string[], input?: string, smtpUrl = sink.url) =>
  runCli([...args, '--project', 'ITH', '--json', '--smtp', smtpUrl, '--mail-from', 'help@example.com'], { cwd: dir, ...(input ? { input } : {}) });
const received = () => sink.accepted().map((m) => m.rcptTo[0]).sort();

describe('deferred invitations', () => {
  it('stay pending, are not sent while the project setting is on, then go out once', async () => {
    const imported = await cli(['import-csv', '-', '--defer-invites'], csv(5));
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({ totals: { created: 5 }, invitations: { sent: 0, pending: 5 } });
    expect(sink.messages).toHaveLength(0);

    // Another command never sends unrelated pending invitations by surprise.
    const other = await cli(['add-customer', '--email', 'solo@example.com', '--name', 'Solo']);
    expect(other.json()).toMatchObject({ invitations: { sent: 1 } });
    expect(received()).toEqual(['solo@example.com']);

    await runCli(['project', 'set-notifications', '--project', 'ITH', '--no-verification'], { cwd: dir });
    const blocked = await cli(['invitations', 'send']);
    expect(blocked.code).toBe(0);
    // Held back, each counted once: pending (as the ledger keeps them), not also suppressed.
    expect(blocked.json()).toMatchObject({ invitations: { sent: 0, suppressed: 0, suppressedBy: 'project-setting', pending: 5 } });
    expect(received()).toEqual(['solo@example.com']);

    await runCli(['project', 'set-notifications', '--project', 'ITH', '--verification'], { cwd: dir });
    const sent = await cli(['invitations', 'send']);
    expect(sent.json()).toMatchObject({ ok: true, invitations: { sent: 5, pending: 0 } });
    const again = await cli(['invitations', 'send']);
    expect(again.json()).toMatchObject({ invitations: { sent: 0 } });
    expect(received()).toEqual(['person0@example.com', 'person1@example.com', 'person2@example.com', 'person3@example.com', 'person4@example.com', 'solo@example.com']);
  });
});

describe('SMTP faults', () => {
  it('a connection dropped after the data leaves the invitation in doubt, never resent by itself', async () => {
    sink.setFaults({ dropAfterData: true });
    const r = await cli(['add-customer', '--email', 'doubt@example.com', '--name', 'Dee Doubt']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ totals: { created: 1 }, invitations: { sent: 0, failed: 0, inDoubt: 1 } });
    sink.setFaults({ dropAfterData: false });
    const rerun = await cli(['add-customer', '--email', 'doubt@example.com', '--name', 'Dee Doubt']);
    expect(rerun.json()).toMatchObject({ totals: { existing: 1 }, invitations: { sent: 0, inDoubt: 1 } });
    const pending = await cli(['invitations', 'send']);
    expect(pending.json()).toMatchObject({ invitations: { sent: 0, inDoubt: 1 } });
    expect(sink.messages).toHaveLength(1);
    const list = await runCli(['invitations', 'list', '--project', 'ITH', '--status', 'in-doubt', '--json'], { cwd: dir });
    expect(list.json()).toMatchObject({ invitations: [{ email: 'doubt@example.com', status: 'in-doubt' }] });
    const decided = await cli(['invitations', 'send', '--in-doubt', '--yes']);
    expect(decided.json()).toMatchObject({ ok: true, invitations: { sent: 1, inDoubt: 0 } });
    expect(sink.messages).toHaveLength(2);
  });

  it('a refusing server fails the invitations (exit 1), keeps the customers, and --failed retries them', async () => {
    sink.setFaults({ refuse: 'rcpt' });
    const r = await cli(['import-csv', '-'], csv(3));
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, totals: { created: 3, failed: 0 }, invitations: { sent: 0, failed: 3 } });
    // The exit's reason is in `problems`: each invitation that failed, by its row (created) and why.
    const { problems } = r.json<{ problems: { line: number; email: string; status: string; invitation?: string; reason: string }[] }>();
    expect(problems.map((p) => [p.line, p.email, p.status, p.invitation])).toEqual([
      [2, 'person0@example.com', 'created', 'failed'],
      [3, 'person1@example.com', 'created', 'failed'],
      [4, 'person2@example.com', 'created', 'failed'],
    ]);
    expect(problems[0]?.reason).toMatch(/550.*retry with: invitations send --failed/);
    const words = await runCli(['import-csv', '-', '--project', 'ITH', '--smtp', sink.url, '--mail-from', 'help@example.com'], { cwd: dir, input: 'email,name\nq@example.com,Q\n' });
    expect(words.stdout).toMatch(/^ {2}line 2: \[invitation failed\] q@example\.com: .*550/m);
    expect(Object.keys((await readStore(dir)).customers)).toHaveLength(4);
    // Still refusing: `invitations send --failed -q` exits 1 and says why on stderr; a re-run of the
    // import (nothing new) reminds that failed invitations are owed.
    const quiet = await runCli(['invitations', 'send', '--failed', '--yes', '-q', '--project', 'ITH', '--smtp', sink.url, '--mail-from', 'help@example.com'], { cwd: dir });
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toMatch(/550/);
    const rerun = await runCli(['import-csv', '-', '--project', 'ITH', '--smtp', sink.url, '--mail-from', 'help@example.com'], { cwd: dir, input: 'email,name\nq@example.com,Q\n' });
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('4 invitations of ITH failed in an earlier run: retry with `invitations send --failed` and the same --smtp or --outbox');
    sink.setFaults({ refuse: null });
    expect((await cli(['invitations', 'send'])).json()).toMatchObject({ invitations: { sent: 0 } });
    const retried = await cli(['invitations', 'send', '--failed']);
    expect(retried.json()).toMatchObject({ ok: true, invitations: { sent: 4, failed: 0 } });
    expect(received()).toEqual(['person0@example.com', 'person1@example.com', 'person2@example.com', 'q@example.com']);
  });

  it('a server that is down at the start stops the run before anything is written (the preflight); up again, the run goes through', async () => {
    const r = await cli(['import-csv', '-'], csv(2), 'smtp://127.0.0.1:1');
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'smtp-unreachable' } });
    expect(Object.keys((await readStore(dir)).customers)).toHaveLength(0);
    const later = await cli(['import-csv', '-'], csv(2));
    expect(later.json()).toMatchObject({ totals: { created: 2 }, invitations: { sent: 2 } });
  });
});

describe('a sender is needed only when something is sent', () => {
  it('--smtp (from the environment, say) without --mail-from: no invitation to send (--no-invite, or the setting on) is no error', async () => {
    const env = { JSM_SMTP_URL: sink.url };
    const noInvite = await runCli(['add-customer', '--project', 'ITH', '--email', 'quiet@example.com', '--name', 'Quiet', '--no-invite', '--json'], { cwd: dir, env });
    expect(noInvite.code).toBe(0);
    await runCli(['project', 'set-notifications', '--project', 'ITH', '--no-verification'], { cwd: dir });
    const settingOn = await runCli(['add-customer', '--project', 'ITH', '--email', 'held@example.com', '--name', 'Held', '--json'], { cwd: dir, env });
    expect(settingOn.code).toBe(0);
    expect(settingOn.json()).toMatchObject({ ok: true, invitations: { sent: 0, suppressed: 1, suppressedBy: 'project-setting' } });
    // A run that sends still needs it, before anything is written.
    await runCli(['project', 'set-notifications', '--project', 'ITH', '--verification'], { cwd: dir });
    const sends = await runCli(['add-customer', '--project', 'ITH', '--email', 'loud@example.com', '--name', 'Loud', '--json'], { cwd: dir, env });
    expect(sends.code).toBe(2);
    expect(sends.json()).toMatchObject({ error: { code: 'missing-mail-from' } });
    expect(sink.messages).toEqual([]);
  });
});

describe('invitations send --email: one person', () => {
  it('sends one deferred invitation and leaves the others pending; a sent one goes again only with --again, under a new Message-ID', async () => {
    expect((await cli(['import-csv', '-', '--defer-invites'], csv(3))).code).toBe(0);
    const one = await cli(['invitations', 'send', '--email', 'Person1@example.com']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json()).toMatchObject({ ok: true, command: 'invitations send', email: 'person1@example.com', invitation: { before: 'pending', status: 'sent' }, invitations: { sent: 1, pending: 0 } });
    expect(received()).toEqual(['person1@example.com']);

    const twice = await cli(['invitations', 'send', '--email', 'person1@example.com']);
    expect(twice.code).toBe(2);
    expect(twice.json()).toMatchObject({ ok: false, error: { code: 'already-sent', hint: 'to send it once more (under a new Message-ID), add --again' } });
    expect(received()).toEqual(['person1@example.com']);

    const again = await cli(['invitations', 'send', '--email', 'person1@example.com', '--again']);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ invitation: { before: 'sent', status: 'sent' } });
    const ids = sink.accepted().map((m) => m.raw.match(/^Message-ID: (.+)$/im)?.[1]?.trim());
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect((await readStore(dir)).invitations.ITH?.['person0@example.com']?.status).toBe('pending');

    const unknown = await cli(['invitations', 'send', '--email', 'nobody@example.com']);
    expect(unknown.code).toBe(2);
    expect(unknown.json()).toMatchObject({ error: { code: 'no-invitation' } });
    const bulk = await cli(['invitations', 'send', '--again']);
    expect(bulk.json()).toMatchObject({ error: { code: 'conflicting-options' } });
    expect(bulk.code).toBe(2);
  });
});

describe('customers show --email', () => {
  it('shows the name, email, organizations and the invitation with its date and Message-ID, in words and --json; an unknown address is exit 1', async () => {
    const imported = await cli(['import-csv', '-'], 'email,name,organization\nmaria@example.com,Maria Silva,Legal;Finance\n');
    expect(imported.code).toBe(0);
    const messageId = sink.accepted()[0]?.raw.match(/^Message-ID: (.+)$/im)?.[1]?.trim();
    expect(messageId).toMatch(/^<[0-9a-f]{32}@example\.com>$/);

    const show = (email: string) => runCli(['customers', 'show', '--project', 'ITH', '--email', email, '--json'], { cwd: dir });
    const json = await show('MARIA@example.com');
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({
      ok: true,
      command: 'customers show',
      target: 'local',
      project: 'ITH',
      customer: { email: 'maria@example.com', fullName: 'Maria Silva', inProject: true, projects: ['ITH'], organizations: ['Finance', 'Legal'], passwordSet: false },
      invitation: { status: 'sent', kind: 'welcome', messageId, updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });

    const words = await runCli(['customers', 'show', '--project', 'ITH', '--email', 'maria@example.com'], { cwd: dir });
    expect(words.code).toBe(0);
    expect(words.stdout).toMatch(/^name +Maria Silva$/m);
    expect(words.stdout).toMatch(/^organizations +Finance, Legal$/m);
    expect(words.stdout).toMatch(/^invitation +welcome invitation, sent \d{4}-\d\d-\d\dT/m);
    expect(words.stdout).toContain(`Message-ID     ${messageId}`);

    const unknown = await show('nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.json()).toMatchObject({ ok: false, command: 'customers show', error: { code: 'unknown-customer', message: expect.stringContaining('nobody@example.com is not a customer') } });
  });
});
