/**
 * `apply` as an admin and a CI job use it, beyond the happy path: two applies of the same plan at
 * once, and a plan edited by hand.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli, startInProcess } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';

const projectDir = useProjectDir();
const smtp = useSmtpSink();
let dir: string;
beforeEach(() => {
  dir = projectDir();
});
const cli = (args: string[]) => runCli(args, { cwd: dir });

async function seed(): Promise<void> {
  const rows = ['email,full name,organization'];
  for (const n of [0, 1, 2, 3, 4]) rows.push(`a${n}@acme.example,Acme ${n},Acme`);
  for (const n of [0, 1, 2, 3, 4]) rows.push(`g${n}@globex.example,Globex ${n},Globex`);
  await writeFile(join(dir, 'seed.csv'), `${rows.join('\n')}\n`);
  expect((await cli(['import-csv', 'seed.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
  // Keeps 8 (g3 and g4 go), adds n1 into Acme.
  const wanted = ['email,full name,organization', ...[0, 1, 2, 3, 4].map((n) => `a${n}@acme.example,Acme ${n},Acme`), ...[0, 1, 2].map((n) => `g${n}@globex.example,Globex ${n},Globex`), 'n1@new.example,New One,Acme'];
  await writeFile(join(dir, 'wanted.csv'), `${wanted.join('\n')}\n`);
  expect((await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--quiet'])).code).toBe(0);
}

describe('apply, reviewed', () => {
  it('two applies of the same plan at once: one does it, the other waits and is refused as applied already (exit 4)', async () => {
    await seed();
    const [one, two] = await Promise.all([cli(['apply', 'plan.json', '--outbox', 'outbox', '--json']), cli(['apply', 'plan.json', '--outbox', 'outbox', '--json'])]);
    const codes = [one.code, two.code].sort();
    expect(codes).toEqual([0, 4]);
    const [done, refused] = one.code === 0 ? [one, two] : [two, one];
    expect(done.json()).toMatchObject({ ok: true, totals: { created: 1, removed: 2 }, organizations: { left: 2 }, invitations: { sent: 1 } });
    expect(refused.json()).toMatchObject({ ok: false, error: { code: 'stale-plan' } });
    expect((refused.json() as { error: { message: string } }).error.message).toMatch(/applied already/);
    expect(await readdir(join(dir, 'outbox'))).toHaveLength(1);
  });

  it('a plan edited by hand is refused (exit 4) without blaming the target', async () => {
    await seed();
    const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as { actions: { action: string; email: string }[]; counts: { remove: number } };
    plan.actions = plan.actions.filter((a) => a.action !== 'remove');
    plan.actions.push({ action: 'remove', email: 'a0@acme.example' });
    // Its counts edited to match: the actions themselves are checked against the target.
    plan.counts.remove = 1;
    await writeFile(join(dir, 'plan.json'), JSON.stringify(plan));
    const before = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const applied = await cli(['apply', 'plan.json', '--json']);
    expect(applied.code).toBe(4);
    const message = (applied.json() as { error: { message: string } }).error.message;
    expect(message).toContain('remove a0@acme.example');
    expect(message).toMatch(/or the plan was edited/);
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(before);
  });

  it('a plan whose counts do not match its actions (counts edited, or actions edited without them) is refused as edited (exit 4) before any write, dry run too', async () => {
    await seed();
    const text = await readFile(join(dir, 'plan.json'), 'utf8');
    const plan = JSON.parse(text) as { counts: Record<string, number>; actions: { action: string; email: string }[] };
    expect(plan.counts).toMatchObject({ create: 1, remove: 2, leave: 2, join: 1, invite: 1 });
    const before = await readdir(dir);
    const store = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    // What a reviewer reads says nobody goes; the actions still remove two.
    await writeFile(join(dir, 'plan.json'), JSON.stringify({ ...plan, counts: { ...plan.counts, remove: 0 } }));
    for (const args of [['apply', 'plan.json', '--outbox', 'outbox', '--json'], ['apply', 'plan.json', '--outbox', 'outbox', '--dry-run', '--json']]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(4);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'stale-plan' } });
      const message = (r.json() as { error: { message: string } }).error.message;
      expect(message).toContain('its counts do not match its actions (the plan was edited)');
      expect(message).toContain('counts.remove is 0, and its actions give 2');
    }
    // An action taken out, its count left: refused the same way.
    await writeFile(join(dir, 'plan.json'), JSON.stringify({ ...plan, actions: plan.actions.filter((a) => a.action !== 'join') }));
    const dropped = await cli(['apply', 'plan.json', '--outbox', 'outbox', '--json']);
    expect(dropped.code).toBe(4);
    expect((dropped.json() as { error: { message: string } }).error.message).toContain('counts.join is 1, and its actions give 0');
    expect(await readdir(dir)).toEqual(before);
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(store);
  });

  it('a plan applied with another --target is refused before anything is made beside that store', async () => {
    await seed();
    await mkdir(join(dir, 'other'));
    await copyFile(join(dir, 'jsm-store.json'), join(dir, 'other', 'jsm-store.json'));
    const applied = await cli(['apply', 'plan.json', '--target', 'other/jsm-store.json', '--json']);
    expect(applied.code).toBe(2);
    expect(applied.json()).toMatchObject({ ok: false, error: { code: 'plan-target-mismatch' } });
    expect(await readdir(join(dir, 'other'))).toEqual(['jsm-store.json']);
    const missing = await cli(['apply', 'plan.json', '--target', 'nowhere/jsm-store.json', '--json']);
    expect(missing.json()).toMatchObject({ ok: false, error: { code: 'no-store' } });
    expect(await readdir(dir)).not.toContain('nowhere');
  });

  it('apply --dry-run checks the plan as apply would and shows it; writes nothing; a stale plan: exit 4', async () => {
    await seed();
    const before = await readdir(dir);
    const store = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const checked = await cli(['apply', 'plan.json', '--dry-run', '--json']);
    expect(checked.code).toBe(0);
    expect(checked.json()).toMatchObject({ ok: true, command: 'apply', dryRun: true, counts: { create: 1, remove: 2, join: 1, leave: 2, invite: 1 } });
    const words = await cli(['apply', 'plan.json', '--dry-run']);
    expect(words.stdout).toContain('  - remove g3@globex.example');
    expect(words.stdout).toContain('Nothing was written and nothing was sent.');
    expect(await readdir(dir)).toEqual(before);
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(store);
    expect((await cli(['add-customer', '--project', 'ITH', '--email', 'late@x.example', '--name', 'Late Comer', '--no-invite', '--quiet'])).code).toBe(0);
    const stale = await cli(['apply', 'plan.json', '--dry-run', '--json']);
    expect(stale.code).toBe(4);
    expect(stale.json()).toMatchObject({ ok: false, error: { code: 'stale-plan' } });
  });

  it('Ctrl-C during an apply, then the same apply: all of the plan done, each invited once, nothing removed twice', async () => {
    await seed();
    const many = ['email,full name,organization', ...[0, 1, 2, 3, 4].map((n) => `a${n}@acme.example,Acme ${n},Acme`), ...[0, 1, 2].map((n) => `g${n}@globex.example,Globex ${n},Globex`)];
    for (let i = 0; i < 60; i++) many.push(`new${i}@new.example,New ${i},Acme`);
    await writeFile(join(dir, 'many.csv'), `${many.join('\n')}\n`);
    expect((await cli(['import-csv', 'many.csv', '--project', 'ITH', '--sync', '--plan', 'many.json', '--quiet'])).code).toBe(0);
    const run = startInProcess(['apply', 'many.json', '--json', '--concurrency', '1', ...smtp.mail()], { cwd: dir });
    await smtp.sink.whenAccepted(3);
    run.interrupt();
    const cut = await run.done;
    expect(cut.code, cut.stderr).toBe(130);
    const again = await cli(['apply', 'many.json', '--json', ...smtp.mail()]);
    expect(again.code, again.stderr).toBe(0);
    const rcpt = smtp.sink.messages.map((m) => m.rcptTo[0]);
    expect(new Set(rcpt).size).toBe(rcpt.length);
    expect(rcpt).toHaveLength(60);
    const exported = await cli(['customers', 'export', '--project', 'ITH']);
    const lines = exported.stdout.split('\r\n').filter(Boolean).slice(1);
    expect(lines).toHaveLength(68);
    expect(lines.some((l) => l.startsWith('g3@'))).toBe(false);
    expect((await cli(['apply', 'many.json', '--json'])).code).toBe(4);
  });
});

