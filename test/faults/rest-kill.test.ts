/**
 * kill -9 of a REST import at an observable point (the double has received N creates), then the
 * same command again: every row is a customer exactly once, every new customer is invited at most
 * once and is delivered, pending or listed in doubt; none is lost, and nobody who existed before
 * is invited. The intent to invite is durable before each create, so the re-run finds the
 * customers the killed run created and owes them their invitations.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path, { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli, startCli } from '../support/cli.js';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import { useTempDirs } from '../support/tmp.js';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();

// New people: enough that a kill after 37 creates lands in the middle of them (at most 8 are in
// flight, so the killed run has made at most 45; asserted: fewer than NEW), and that the invitations
// are claimed in several batches (24 a claim). 60 does both (it was 80: 20 more creates and sends a run).
const NEW = 60;
const BEFORE = 10;

describe('kill -9 during a REST import, then the re-run', () => {
  const points = [
    { what: 'create', at: 1 },
    { what: 'create', at: 37 },
    { what: 'invitation', at: 20 },
  ] as const;
  for (const { what, at: killAt } of points) {
    it(`killed after ${killAt} ${what}(s) arrived: no row and no invitation lost, none sent twice`, async () => {
      const before = Array.from({ length: BEFORE }, (_, i) => ({ name: `ldap${i}`, emailAddress: `Person${i}@Corp.Example`, displayName: `Person ${i}` }));
      let killed: (() => void) | undefined;
      const run = await start({
        existingUsers: before,
        latencyMs: 1,
        onCreate: (count) => {
          if (what === 'create' && count === killAt) killed?.();
        },
      });
      const emails = [...before.map((u) => u.emailAddress.toLowerCase()), ...Array.from({ length: NEW }, (_, i) => `n${i}@example.com`)];
      // Interleave the people who exist with the new ones, as a real export would.
      emails.sort((a, b) => (a.replace(/\D/g, '') + a).localeCompare(b.replace(/\D/g, '') + b));
      await writeFile(join(run.dir, 'in.csv'), `email,full name\n${emails.map((e, i) => `${e},Name ${i}`).join('\n')}\n`);
      const args = ['import-csv', 'in.csv', '--project', 'ITH', '--json', ...smtp.mail()];
      const env = { JSM_TARGET: run.jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(run.dir, 'state') };

      const first = startCli(args, { cwd: run.dir, env });
      killed = () => first.child.kill('SIGKILL');
      // The sink offers no event: its message list is watched until the count is reached.
      const watch = what === 'invitation'
        ? setInterval(() => {
            if (smtp.sink.messages.length >= killAt) killed?.();
          }, 2)
        : undefined;
      const cut = await first.done;
      clearInterval(watch);
      expect(cut.code).toBe(137);
      const createdBeforeKill = run.jsm.creates.length;
      if (what === 'create') {
        expect(createdBeforeKill).toBeGreaterThanOrEqual(killAt);
        expect(createdBeforeKill).toBeLessThan(NEW);
      } else {
        expect(smtp.sink.messages.length).toBeGreaterThanOrEqual(killAt);
      }
      const sentBeforeKill = smtp.sink.accepted().length;

      const rerunStarted = Date.now();
      const again = await run.cli(args);
      expect(again.stderr).not.toMatch(/at .*\.js:\d+/);
      const summary = again.json<{ totals: Record<string, number>; invitations: Record<string, number> }>();
      expect(summary.totals).toMatchObject({ rows: NEW + BEFORE, failed: 0, invalid: 0, duplicate: 0 });
      // `created` counts only what this process created (a create the killed run had already sent may land after the kill).
      expect(run.jsm.creates).toHaveLength(NEW);
      expect(summary.totals.created).toBe(run.jsm.creates.filter((c) => (c.connectedAt ?? c.time) >= rerunStarted).length);
      expect(summary.totals.existing).toBe(BEFORE + NEW - (summary.totals.created ?? 0));

      // Every row a customer exactly once: one account per email, everyone on the desk.
      expect(createdTwice(run.jsm)).toEqual([]);
      const byEmail = new Map<string, number>();
      for (const u of run.jsm.users.values()) byEmail.set(u.emailAddress.toLowerCase(), (byEmail.get(u.emailAddress.toLowerCase()) ?? 0) + 1);
      expect([...byEmail.values()].every((n) => n === 1)).toBe(true);
      expect(run.jsm.desks[60]?.customers.size).toBe(NEW + BEFORE);

      // Invitations: at most once each, only new customers, and every new one accounted for.
      const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((a) => a.toLowerCase()));
      expect(new Set(invited).size).toBe(invited.length);
      expect(invited.filter((a) => a.endsWith('@corp.example'))).toEqual([]);
      const list = await run.cli(['invitations', 'list', '--project', 'ITH', '--json']);
      const records = list.json<{ invitations: { email: string; status: string }[] }>().invitations;
      const state = new Map(records.map((r) => [r.email.toLowerCase(), r.status]));
      const lost = emails.filter((e) => e.endsWith('@example.com')).filter((e) => !invited.includes(e) && state.get(e) !== 'pending' && state.get(e) !== 'in-doubt');
      expect(lost).toEqual([]);
      // Nothing was left pending: the killed run's customers were invited by the re-run, except those
      // whose message was being sent at the kill (in doubt: maybe delivered, never sent again by
      // itself), and those whose create was under way (in doubt: maybe made by another run).
      expect(records.filter((r) => r.status === 'pending')).toEqual([]);
      const inDoubt = records.filter((r) => r.status === 'in-doubt').map((r) => r.email.toLowerCase());
      expect(new Set([...invited, ...inDoubt]).size).toBe(NEW);
      // Killed while creating: in doubt only accounts the killed run created and never heard back about
      // (nothing proves its create made them: another run of the same rows might have).
      const madeByKilled = new Set(run.jsm.creates.filter((c) => (c.connectedAt ?? c.time) < rerunStarted).map((c) => c.username));
      if (what === 'create') expect(inDoubt.filter((e) => !madeByKilled.has(e))).toEqual([]);
      expect(sentBeforeKill).toBeLessThanOrEqual(invited.length);
      // The killed run's intents were resolved, and the re-run's own removed once its ledger was written.
      const ledger = (await run.ledgerFiles())[0] ?? '';
      expect(await readdir(join(run.dir, 'state', `${ledger}.intents`)).catch(() => [])).toEqual([]);
    });
  }
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './store-faults.cases.js';
import '../e2e/customers-remove-export.cases.js';

describe('kill -9 during a JSM Cloud import, then the re-run', () => {
  const tempDir = useTempDirs();
  it('a run killed (SIGKILL) in the middle of its creates, run again: every account made by either run is invited exactly once, nobody twice', async () => {
    let kill: (() => void) | undefined;
    // 80 people, killed at the 40th create: in the middle of them (asserted), and the re-run sends in
    // more than one claim batch (it was 120: 40 more creates and sends for nothing).
    const PEOPLE = 80;
    const jsm = await startJsmCloudDouble({ onCreate: (count) => { if (count === 40) kill?.(); } });
    const double = jsm;
    onTestFinished(() => jsm.close());
    const dir = await tempDir();
    const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: path.join(dir, 'state') };
    await writeFile(path.join(dir, 'people.csv'), `email,full name\n${Array.from({ length: PEOPLE }, (_, i) => `k${i}@example.com,Person ${i}`).join('\n')}\n`);
    const args = ['import-csv', 'people.csv', '--target', double.url, '--project', 'ITH', '--json', ...smtp.mail()];
    const first = startCli(args, { cwd: dir, env });
    kill = () => first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBe(137);
    expect(double.creates.length).toBeGreaterThanOrEqual(40);
    expect(double.creates.length).toBeLessThan(PEOPLE);
    const again = await runCli(args, { cwd: dir, env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    // Every account exists once; each was invited once (by the first run, or owed and sent by the second).
    expect(double.creates.map((c) => c.email).sort()).toEqual(Array.from({ length: PEOPLE }, (_, i) => `k${i}@example.com`).sort());
    const to = smtp.sink.messages.flatMap((m) => m.rcptTo.map((r) => r.toLowerCase()));
    expect(new Set(to).size).toBe(to.length);
    const inDoubt = again.json<{ invitations: { inDoubt: number } }>().invitations.inDoubt;
    expect(to.length + inDoubt).toBe(PEOPLE);
  }, 120_000);
});
