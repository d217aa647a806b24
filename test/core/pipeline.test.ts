/**
 * The core's bulk pipeline (plan -> apply -> send) and the invitation ledger's at-most-once rules,
 * in process against the in-memory target: what the e2e suite used to prove by spawning the CLI for
 * every step. The CLI's contract (exit codes, output shapes, files) stays covered by spawns in
 * test/e2e and test/contract.
 */
import { describe, expect, it } from 'vitest';
import { runImport, type RunContext } from '../../src/core/run.js';
import { sendRecords } from '../../src/core/send.js';
import type { RunSettings } from '../../src/core/results.js';
import type { CandidateRow, InvitationRecord, Mailer } from '../../src/core/types.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { Secret } from '../../src/core/secret.js';
import { MemoryTarget } from '../support/memory-target.js';
import { RecordingMailer, RecordingReporter } from '../support/recording-reporter.js';
import { PASSWORD_IGNORED } from '../../src/core/apply.js';

type Row = string | { email: string; name?: string; password?: string; language?: string; error?: string };

async function* source(rows: readonly Row[]): AsyncIterable<CandidateRow> {
  let line = 2;
  for (const r of rows) {
    const row = typeof r === 'string' ? { email: r } : r;
    const candidate: CandidateRow = { line: line++, email: row.email, fullName: row.name ?? (row.email.split('@')[0] ?? '') };
    if (row.password !== undefined) candidate.password = new Secret(row.password);
    if (row.language !== undefined) candidate.language = row.language;
    if (row.error !== undefined) candidate.error = row.error;
    yield candidate;
  }
}

let runs = 0;

interface Harness {
  target: MemoryTarget;
  mailer: RecordingMailer;
  reporter: RecordingReporter;
  run(rows: readonly Row[], flags?: Partial<Pick<RunSettings, 'invitations' | 'dryRun'>>, extra?: Partial<RunContext>): ReturnType<typeof runImport>;
  resend(statuses: InvitationRecord['status'][], runId?: string): Promise<Map<string, { outcome: string; reason?: string }>>;
}

function harness(target = MemoryTarget.withProject()): Harness {
  const mailer = new RecordingMailer();
  const reporter = new RecordingReporter();
  const mailerOnce = async (): Promise<Mailer> => mailer;
  return {
    target,
    mailer,
    reporter,
    async run(rows, flags = {}, extra = {}) {
      const project = await target.getProject('ITH');
      const settings: RunSettings = { command: 'import-csv', project, kind: 'welcome', invitations: 'send', dryRun: false, ...flags };
      return runImport(source(rows), settings, {
        target,
        mailer: mailerOnce,
        outbox: null,
        messageId: messageIdFor,
        reporter,
        runId: `run-${++runs}`,
        ...extra,
      });
    },
    // `invitations send [--failed] [--in-doubt]`: the records as listed, claimed only if unchanged.
    async resend(statuses, runId = `resend-${++runs}`) {
      const project = await target.getProject('ITH');
      const listed = target.ledger.list('ITH').filter((r) => statuses.includes(r.status));
      const expected = new Map(listed.map((r) => [r.key, { ...r }]));
      const { outcomes, stopped } = await sendRecords(project, listed.map((r) => r.key), { target, mailer: mailerOnce, messageId: messageIdFor, runId }, expected);
      if (stopped !== undefined) throw stopped;
      return outcomes;
    },
  };
}

/** Whether a Secret, or the text of the test's password, is anywhere inside a value. */
function holdsSecret(value: unknown): boolean {
  if (value instanceof Secret) return true;
  if (typeof value === 'string') return value.includes('Secret-123456');
  if (value && typeof value === 'object') return Object.values(value).some(holdsSecret);
  return false;
}

const statuses = (rows: { email: string; status: string; invitation: string }[]) => rows.map((r) => [r.email, r.status, r.invitation]);

describe('plan and dry run', () => {
  it('counts what would happen, writes nothing and sends nothing', async () => {
    const h = harness();
    h.target.addCustomer('old@example.com', 'Old One', ['ITH']);
    const out = await h.run(['new@example.com', 'old@example.com', 'not-an-email', 'NEW@example.com'], { dryRun: true });
    expect(out.plan.counts).toMatchObject({ create: 1, existing: 1, invalid: 1, duplicate: 1, invite: 1 });
    expect(statuses(out.rows)).toEqual([
      ['new@example.com', 'created', 'sent'],
      ['old@example.com', 'existing', 'none'],
      ['not-an-email', 'invalid', 'none'],
      ['NEW@example.com', 'duplicate', 'none'],
    ]);
    expect(out.rows[3]?.reason).toContain('same email as line 2');
    expect(out.summary).toMatchObject({ ok: false, dryRun: true, totals: { rows: 4, created: 1, existing: 1, invalid: 1, duplicate: 1, failed: 0 } });
    expect(h.target.provisionCalls).toEqual([]);
    expect(h.target.customers.size).toBe(1);
    expect(h.target.ledger.list('ITH')).toEqual([]);
    expect(h.mailer.attempts).toEqual([]);
  });

  it('a dry run with counts only keeps no rows', async () => {
    const h = harness();
    const out = await h.run(['a@example.com', 'b@example.com'], { dryRun: true }, { keepRows: false });
    expect(out.rows).toEqual([]);
    expect(out.summary.totals).toMatchObject({ rows: 2, created: 2 });
    expect(out.summary.invitations.sent).toBe(2);
  });

  it('a row the source marked bad is invalid with its reason, and its neighbours are kept', async () => {
    const h = harness();
    const out = await h.run(['a@example.com', { email: '', error: 'line 3 has 4 cells; expected 2 (email, name)' }, 'b@example.com']);
    expect(statuses(out.rows)).toEqual([
      ['a@example.com', 'created', 'sent'],
      ['', 'invalid', 'none'],
      ['b@example.com', 'created', 'sent'],
    ]);
    expect(out.summary.problems).toEqual([{ line: 3, email: '', status: 'invalid', reason: 'line 3 has 4 cells; expected 2 (email, name)' }]);
  });
});

describe('apply: every input row ends once, in input order', () => {
  it('creates the new, keeps the existing, invites only the new, once each', async () => {
    const h = harness();
    h.target.addCustomer('old@example.com', 'Old One');
    const out = await h.run(['ann@example.com', 'old@example.com', 'Ann@Example.com', 'bob@example.com']);
    expect(statuses(out.rows)).toEqual([
      ['ann@example.com', 'created', 'sent'],
      ['old@example.com', 'existing', 'none'],
      ['Ann@Example.com', 'duplicate', 'none'],
      ['bob@example.com', 'created', 'sent'],
    ]);
    expect(h.mailer.recipients()).toEqual(['ann@example.com', 'bob@example.com']);
    expect(h.target.customers.get('old@example.com')?.projects).toEqual(['ITH']); // joined the project
    expect(h.target.ledger.list('ITH').map((r) => [r.key, r.status])).toEqual([
      ['ann@example.com', 'sent'],
      ['bob@example.com', 'sent'],
    ]);
    expect(out.summary).toMatchObject({ ok: false, totals: { rows: 4, created: 2, existing: 1, duplicate: 1 }, invitations: { sent: 2, inDoubt: 0, suppressedBy: null } });

    // The same input again: nothing new, nobody invited twice.
    const again = await h.run(['ann@example.com', 'old@example.com', 'bob@example.com']);
    expect(statuses(again.rows).map((r) => r[1])).toEqual(['existing', 'existing', 'existing']);
    expect(again.summary).toMatchObject({ ok: true, invitations: { sent: 0 } });
    expect(h.mailer.recipients()).toEqual(['ann@example.com', 'bob@example.com']);
  });

  it('a row with a password: the invitation says to change it; the message never carries it', async () => {
    const h = harness();
    await h.run([{ email: 'pw@example.com', name: 'Pat W', password: 'Secret-123456' }, 'nopw@example.com']);
    expect(h.mailer.sent.map((m) => [m.to.email, m.mustChangePassword])).toEqual([
      ['pw@example.com', true],
      ['nopw@example.com', false],
    ]);
    // Not even as a redacted Secret object: the message and the ledger carry no password at all.
    expect(holdsSecret(h.mailer.sent)).toBe(false);
    expect(holdsSecret(h.target.ledger.list('ITH'))).toBe(false);
    expect(h.target.customers.get('pw@example.com')).toMatchObject({ passwordSet: true, mustChangePassword: true });
  });

  it('the language of a row chooses its message and is kept in the ledger', async () => {
    const h = harness();
    await h.run([{ email: 'ana@example.com', language: 'pt-br' }, 'bob@example.com']);
    expect(h.mailer.sent.map((m) => [m.to.email, m.language])).toEqual([
      ['ana@example.com', 'pt-BR'],
      ['bob@example.com', undefined],
    ]);
    expect(h.target.ledger.get('ITH', 'ana@example.com')?.language).toBe('pt-BR');
  });

  it('a row the target fails is failed with its reason and is not invited; the others go on', async () => {
    const h = harness();
    h.target.faults.set('bad@example.com', { kind: 'fail', reason: 'JSM said 500' });
    const out = await h.run(['a@example.com', 'bad@example.com', 'c@example.com']);
    expect(statuses(out.rows)).toEqual([
      ['a@example.com', 'created', 'sent'],
      ['bad@example.com', 'failed', 'none'],
      ['c@example.com', 'created', 'sent'],
    ]);
    expect(out.rows[1]?.reason).toBe('JSM said 500');
    expect(out.summary.ok).toBe(false);
    expect(h.mailer.recipients()).toEqual(['a@example.com', 'c@example.com']);
    // The same command again finishes it.
    const again = await h.run(['a@example.com', 'bad@example.com', 'c@example.com']);
    expect(statuses(again.rows)).toEqual([
      ['a@example.com', 'existing', 'none'],
      ['bad@example.com', 'created', 'sent'],
      ['c@example.com', 'existing', 'none'],
    ]);
    expect(h.mailer.recipients()).toEqual(['a@example.com', 'c@example.com', 'bad@example.com']);
  });

  it('an account made by this run whose row could not be finished owes its invitation: the re-run sends it', async () => {
    const h = harness();
    h.target.faults.set('bob@example.com', { kind: 'half-done', reason: 'the account was created, but it could not be made a customer' });
    const first = await h.run(['ann@example.com', 'bob@example.com']);
    expect(statuses(first.rows)).toEqual([
      ['ann@example.com', 'created', 'sent'],
      ['bob@example.com', 'failed', 'pending'],
    ]);
    expect(h.mailer.recipients()).toEqual(['ann@example.com']);
    const second = await h.run(['ann@example.com', 'bob@example.com']);
    expect(statuses(second.rows)).toEqual([
      ['ann@example.com', 'existing', 'none'],
      ['bob@example.com', 'existing', 'sent'],
    ]);
    expect(h.mailer.recipients()).toEqual(['ann@example.com', 'bob@example.com']);
  });

  it('reports progress up to the total, then sending progress up to the invitations due', async () => {
    const h = harness();
    const emails = Array.from({ length: 25 }, (_, i) => `p${i}@example.com`);
    await h.run(emails, {}, { chunkSize: 10 });
    const progress = h.reporter.of('progress');
    expect(progress[0]).toEqual({ type: 'progress', done: 0, total: 25 });
    expect(progress.at(-1)).toEqual({ type: 'progress', done: 25, total: 25 });
    expect(progress.every((p, i) => i === 0 || p.done >= (progress[i - 1]?.done ?? 0))).toBe(true);
    expect(h.reporter.of('sending').at(-1)).toEqual({ type: 'sending', done: 25, total: 25 });
    expect(h.target.provisionCalls.map((c) => c.length)).toEqual([10, 10, 5]);
  });
});

describe('the invitation policy, applied', () => {
  it('the project setting off: new customers are created, nothing is sent, suppressed by the project', async () => {
    const h = harness(MemoryTarget.withProject('ITH', 'IT Help', false));
    const out = await h.run(['a@example.com'], { invitations: 'none' });
    expect(statuses(out.rows)).toEqual([['a@example.com', 'created', 'suppressed']]);
    expect(out.rows[0]?.reason).toContain('Do not send account verification emails');
    expect(out.summary.invitations).toMatchObject({ suppressed: 1, sent: 0, suppressedBy: 'project-setting' });
    expect(h.target.ledger.get('ITH', 'a@example.com')).toMatchObject({ status: 'suppressed', suppressedBy: 'project-setting' });
    expect(h.mailer.attempts).toEqual([]);
  });

  it('--no-invite: suppressed by the flag, recorded so no later run sends it', async () => {
    const h = harness();
    const out = await h.run(['a@example.com'], { invitations: 'none' });
    expect(out.summary.invitations).toMatchObject({ suppressed: 1, suppressedBy: 'flag' });
    expect(h.target.ledger.get('ITH', 'a@example.com')).toMatchObject({ status: 'suppressed', suppressedBy: 'flag' });
    const later = await h.resend(['pending']);
    expect(later.size).toBe(0);
    expect(h.mailer.attempts).toEqual([]);
  });

  it('a password given for a customer who exists is ignored, and the row says so (any target)', async () => {
    const h = harness();
    h.target.addCustomer('old@example.com', 'Old One', ['ITH']);
    const out = await h.run([{ email: 'old@example.com', name: 'Old One', password: 'Pw-new-123456' }, 'plain@example.com']);
    expect(statuses(out.rows)).toEqual([
      ['old@example.com', 'existing', 'none'],
      ['plain@example.com', 'created', 'sent'],
    ]);
    expect(out.rows[0]?.reason).toBe(PASSWORD_IGNORED);
    expect(out.rows[1]?.reason).toBeUndefined();
  });

  it('--defer-invites: pending and deferred; a re-run does not send it; `invitations send` sends it once', async () => {
    const h = harness();
    const out = await h.run(['a@example.com', 'b@example.com'], { invitations: 'defer' });
    expect(statuses(out.rows).map((r) => r[2])).toEqual(['pending', 'pending']);
    expect(out.summary.invitations).toMatchObject({ pending: 2, sent: 0 });
    expect(h.target.ledger.get('ITH', 'a@example.com')).toMatchObject({ status: 'pending', deferred: true });
    await h.run(['a@example.com', 'b@example.com']);
    expect(h.mailer.attempts).toEqual([]);
    const sent = await h.resend(['pending']);
    expect([...sent.values()].map((s) => s.outcome)).toEqual(['sent', 'sent']);
    expect(await h.resend(['pending'])).toEqual(new Map());
    expect(h.mailer.recipients()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('an invitation a cut-off run decided to send is still owed: the re-run finding the customer sends it', async () => {
    const h = harness();
    h.target.addCustomer('cut@example.com', 'Cut Off', ['ITH']);
    h.target.ledger.add([{ project: 'ITH', key: 'cut@example.com', email: 'cut@example.com', fullName: 'Cut Off', kind: 'welcome', status: 'pending', deferred: false, mustChangePassword: false, updatedAt: new Date().toISOString() }]);
    const out = await h.run(['cut@example.com']);
    expect(statuses(out.rows)).toEqual([['cut@example.com', 'existing', 'sent']]);
    expect(h.mailer.recipients()).toEqual(['cut@example.com']);
  });
});

describe('at most once: claims, failures, in doubt, resends', () => {
  it('each new customer and its owed invitation are durable before the first message leaves', async () => {
    const h = harness();
    const durableAtFirstSend: (InvitationRecord | undefined)[] = [];
    h.mailer.onSend = (_m, n) => {
      if (n === 1) for (const key of ['a@example.com', 'b@example.com']) durableAtFirstSend.push(h.target.ledger.durableRecord('ITH', key));
    };
    await h.run(['a@example.com', 'b@example.com']);
    // Both were claimed (sending, durable) before any message went out: a kill now leaves them in doubt, never resent.
    expect(durableAtFirstSend.map((r) => r?.status)).toEqual(['sending', 'sending']);
    expect(h.target.ledger.durableRecord('ITH', 'a@example.com')?.status).toBe('sent');
  });

  it('a refused message is failed; `--failed` resends it once; a second resend finds nothing', async () => {
    const h = harness();
    h.mailer.faults.set('no@example.com', 'refuse');
    const out = await h.run(['ok@example.com', 'no@example.com']);
    expect(statuses(out.rows)).toEqual([
      ['ok@example.com', 'created', 'sent'],
      ['no@example.com', 'created', 'failed'],
    ]);
    expect(out.rows[1]?.reason).toContain('invitations send --failed');
    expect(out.summary).toMatchObject({ ok: false, invitations: { sent: 1, failed: 1 } });
    expect(h.target.ledger.get('ITH', 'no@example.com')?.status).toBe('failed');
    // A plain re-run never retries a failure by itself.
    await h.run(['ok@example.com', 'no@example.com']);
    expect(h.mailer.attempts).toEqual(['ok@example.com', 'no@example.com']);

    h.mailer.faults.clear();
    expect([...(await h.resend(['failed'])).entries()]).toEqual([['no@example.com', { outcome: 'sent' }]]);
    expect(await h.resend(['failed'])).toEqual(new Map());
    expect(h.mailer.recipients()).toEqual(['ok@example.com', 'no@example.com']);
  });

  it('an answer lost after the data went out: in doubt, never sent again by a run; `--in-doubt` resends it once', async () => {
    const h = harness();
    h.mailer.faults.set('lost@example.com', 'in-doubt');
    const out = await h.run(['lost@example.com']);
    expect(statuses(out.rows)).toEqual([['lost@example.com', 'created', 'in-doubt']]);
    expect(out.summary).toMatchObject({ ok: false, invitations: { inDoubt: 1 } });
    expect(h.target.ledger.get('ITH', 'lost@example.com')?.status).toBe('sending');
    await h.run(['lost@example.com']);
    expect(await h.resend(['pending'])).toEqual(new Map());
    expect(await h.resend(['failed'])).toEqual(new Map());
    expect(h.mailer.attempts).toEqual(['lost@example.com']);

    h.mailer.faults.clear();
    expect([...(await h.resend(['sending'])).values()]).toEqual([{ outcome: 'sent' }]);
    expect(await h.resend(['sending'])).toEqual(new Map());
    expect(h.mailer.recipients()).toEqual(['lost@example.com']);
  });

  it('two resends at once that listed the same failed records: each record is claimed by one of them', async () => {
    const h = harness();
    const emails = Array.from({ length: 40 }, (_, i) => `f${i}@example.com`);
    for (const e of emails) h.mailer.faults.set(e, 'refuse');
    await h.run(emails);
    h.mailer.faults.clear();
    const [a, b] = await Promise.all([h.resend(['failed']), h.resend(['failed'])]);
    expect(a.size + b.size).toBe(40);
    expect(new Set([...a.keys(), ...b.keys()]).size).toBe(40);
    expect(h.mailer.recipients().sort()).toEqual([...emails].sort());
  });

  it('a `sending` record of a run that is still alive is not in doubt: a resend leaves it alone', async () => {
    const h = harness();
    h.mailer.faults.set('busy@example.com', 'in-doubt');
    await h.run(['busy@example.com']);
    const record = h.target.ledger.get('ITH', 'busy@example.com');
    h.target.ledger.liveRuns.add(record?.runId ?? '');
    h.mailer.faults.clear();
    expect(await h.resend(['sending'])).toEqual(new Map());
    h.target.ledger.liveRuns.clear();
    expect((await h.resend(['sending'])).size).toBe(1);
    expect(h.mailer.recipients()).toEqual(['busy@example.com']);
  });

  it('a record changed since it was listed is not claimed (compare and swap)', async () => {
    const h = harness();
    h.mailer.faults.set('x@example.com', 'refuse');
    await h.run(['x@example.com']);
    const listed = h.target.ledger.get('ITH', 'x@example.com') as InvitationRecord;
    h.target.ledger.update({ ...listed, updatedAt: new Date(Date.parse(listed.updatedAt) + 1).toISOString() });
    const claimed = await h.target.ledger.claimForSending('ITH', ['x@example.com'], 'other', new Map([['x@example.com', listed]]));
    expect(claimed).toEqual([]);
  });
});

describe('interrupts', () => {
  it('an interrupt between chunks: the rest is "not processed", nothing is sent, and the re-run finishes everyone once', async () => {
    const h = harness();
    const emails = Array.from({ length: 30 }, (_, i) => `i${i}@example.com`);
    const controller = new AbortController();
    const reporter = new RecordingReporter();
    reporter.progress = (done, total) => {
      if (done === 10) controller.abort();
      RecordingReporter.prototype.progress.call(reporter, done, total);
    };
    const out = await h.run(emails, {}, { chunkSize: 10, signal: controller.signal, reporter });
    expect(out.interrupted).toBe(true);
    expect(out.summary.ok).toBe(false);
    expect(out.summary.totals).toMatchObject({ rows: 30, created: 10, failed: 20 });
    expect(out.rows[10]?.reason).toContain('run the same command again');
    expect(out.rows.slice(0, 10).every((r) => r.invitation === 'pending')).toBe(true);
    expect(h.mailer.attempts).toEqual([]);
    expect(h.target.customers.size).toBe(10);

    const again = await h.run(emails);
    expect(again.summary).toMatchObject({ ok: true, totals: { created: 20, existing: 10 }, invitations: { sent: 30 } });
    expect(new Set(h.mailer.recipients()).size).toBe(30);
    expect(h.mailer.recipients()).toHaveLength(30);
  });

  it('an interrupt while invitations go out: the claimed batch finishes, the rest stay pending, the re-run sends them once', async () => {
    const h = harness();
    const emails = Array.from({ length: 100 }, (_, i) => `s${i}@example.com`);
    const controller = new AbortController();
    h.mailer.onSend = (_m, n) => {
      if (n === 5) controller.abort();
    };
    const out = await h.run(emails, {}, { signal: controller.signal });
    expect(out.interrupted).toBe(true);
    const sent = out.summary.invitations.sent;
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(sent).toBeLessThan(100);
    expect(out.summary.invitations).toMatchObject({ inDoubt: 0, pending: 100 - sent });
    const again = await h.run(emails);
    expect(again.summary.invitations).toMatchObject({ sent: 100 - sent, inDoubt: 0 });
    expect(new Set(h.mailer.recipients()).size).toBe(100);
    expect(h.mailer.recipients()).toHaveLength(100);
  });
});

describe('a target that learns existence from the create (REST)', () => {
  it('plans the rows as unknown, then counts and invites by what the create said', async () => {
    const h = harness(MemoryTarget.withProject('ITH', 'IT Help', true, { kind: 'rest' }));
    h.target.addCustomer('dir@example.com', 'In Directory');
    const out = await h.run(['dir@example.com', 'new@example.com']);
    expect(out.plan.counts).toMatchObject({ unknown: 2, create: 0, existing: 0 });
    expect(h.target.lookups).toEqual([]);
    expect(statuses(out.rows)).toEqual([
      ['dir@example.com', 'existing', 'none'],
      ['new@example.com', 'created', 'sent'],
    ]);
    expect(out.summary.totals).toMatchObject({ created: 1, existing: 1 });
    expect(h.mailer.recipients()).toEqual(['new@example.com']);
    // A dry run asks who exists, and writes nothing.
    const dry = await h.run(['dir@example.com', 'other@example.com'], { dryRun: true });
    expect(dry.plan.counts).toMatchObject({ create: 1, existing: 1, unknown: 0 });
    expect(h.target.customers.has('other@example.com')).toBe(false);
  });
});
