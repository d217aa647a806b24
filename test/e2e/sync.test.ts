/**
 * Desired state through the built CLI on the local store (the scenario): a sync of a
 * 10-customer project (5 in Acme, 5 in Globex) to a file that keeps 8, adds 2 (one into Acme) and
 * moves 2 out of Acme; its plan, its apply (2 invitations by real SMTP), the stale plans (exit 4),
 * the guard, and an export that plans nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { readStore } from '../support/store.js';

const projectDir = useProjectDir();
const smtp = useSmtpSink();
let dir: string;
beforeEach(() => {
  dir = projectDir();
});
const cli = (args: string[]) => runCli(args, { cwd: dir });

const a = (n: number) => `a${n}@acme.example`;
const g = (n: number) => `g${n}@globex.example`;

async function seed(): Promise<void> {
  const rows = ['email,full name,organization'];
  for (const n of [0, 1, 2, 3, 4]) rows.push(`${a(n)},Acme ${n},Acme`);
  for (const n of [0, 1, 2, 3, 4]) rows.push(`${g(n)},Globex ${n},Globex`);
  await writeFile(join(dir, 'seed.csv'), `${rows.join('\n')}\n`);
  expect((await cli(['import-csv', 'seed.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
}

/** Keeps 8 (drops g3 and g4), adds n1 into Acme and n2, moves a3 and a4 out of Acme. */
const WANTED = [
  'email,full name,organization',
  `${a(0)},Acme 0,Acme`,
  `${a(1)},Acme 1,Acme`,
  `${a(2)},Acme 2,Acme`,
  `${a(3)},Acme 3,`,
  `${a(4)},Acme 4,`,
  `${g(0)},Globex 0,Globex`,
  `${g(1)},Globex 1,Globex`,
  `${g(2)},Globex 2,Globex`,
  'n1@new.example,New One,Acme',
  'n2@new.example,New Two,',
].join('\n');

async function files(): Promise<Record<string, string>> {
  const store = await readFile(join(dir, 'jsm-store.json'), 'utf8');
  const journal = await readFile(join(dir, 'jsm-store.json.journal'), 'utf8').catch(() => '');
  return { store, journal };
}

describe('import-csv --sync --plan, then apply', () => {
  it('plans exactly create 2 / remove 2 / join 1 / leave 4 / invite 2 and writes and sends nothing; apply makes the project the file and sends 2; again: exit 4', async () => {
    await seed();
    await writeFile(join(dir, 'wanted.csv'), `${WANTED}\n`);
    const before = await files();
    const planned = await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json', ...smtp.mail()]);
    expect(planned.code).toBe(0);
    expect(planned.json()).toMatchObject({ ok: true, command: 'import-csv', dryRun: true, sync: true, plan: 'plan.json', counts: { create: 2, existing: 8, remove: 2, join: 1, leave: 4, invite: 2 } });
    expect(await files()).toEqual(before);
    expect(smtp.sink.messages).toHaveLength(0);
    const text = await readFile(join(dir, 'plan.json'), 'utf8');
    const plan = JSON.parse(text) as Record<string, unknown>;
    expect(plan).toMatchObject({
      format: 'jsm-provision-plan',
      version: 1,
      target: { kind: 'local', location: join(dir, 'jsm-store.json'), project: 'ITH' },
      input: { path: 'wanted.csv' },
      invitations: { decision: 'send' },
      counts: { create: 2, existing: 8, remove: 2, join: 1, leave: 4, invite: 2 },
    });
    expect((plan.input as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.actions).toHaveLength(9);
    expect(plan.actions).toEqual(expect.arrayContaining([{ action: 'remove', email: g(3) }, { action: 'leave', email: a(3), organization: 'Acme' }, { action: 'join', email: 'n1@new.example', organization: 'Acme' }]));

    const words = await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--dry-run']);
    expect(words.code).toBe(0);
    expect(words.stdout).toContain(`  - remove ${g(3)}`);
    expect(words.stdout).toContain('  + create n1@new.example (invited)');
    expect(words.stdout).toContain(`  ~ leave  ${a(4)} <- Acme`);
    expect(words.stdout).toContain('Plan: 2 to create, 8 existing, 2 to remove, 1 to join, 4 to leave, 2 invitations to send.');

    const applied = await cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.json()).toMatchObject({ ok: true, command: 'apply', totals: { rows: 10, created: 2, existing: 8, removed: 2 }, organizations: { left: 4, memberships: 1 }, invitations: { sent: 2 } });
    expect(smtp.sink.messages.map((m) => m.rcptTo).sort()).toEqual([['n1@new.example'], ['n2@new.example']]);

    const exported = await cli(['customers', 'export', '--project', 'ITH']);
    expect(exported.stdout.split('\r\n').filter(Boolean).slice(1)).toEqual(
      [`${a(0)},Acme 0,Acme,`, `${a(1)},Acme 1,Acme,`, `${a(2)},Acme 2,Acme,`, `${a(3)},Acme 3,,`, `${a(4)},Acme 4,,`, `${g(0)},Globex 0,Globex,`, `${g(1)},Globex 1,Globex,`, `${g(2)},Globex 2,Globex,`, 'n1@new.example,New One,Acme,', 'n2@new.example,New Two,,'],
    );
    // The accounts of the two removed stay.
    expect(Object.keys((await readStore(dir)).customers)).toContain(g(3));

    const afterApply = await files();
    const again = await cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(again.code).toBe(4);
    expect(again.json()).toMatchObject({ ok: false, command: 'apply', error: { code: 'stale-plan' } });
    expect((again.json() as { error: { message: string } }).error.message).toMatch(/applied already/);
    expect(await files()).toEqual(afterApply);
    expect(smtp.sink.messages).toHaveLength(2);

    // An export's sync plans nothing.
    await writeFile(join(dir, 'export.csv'), exported.stdout);
    const none = await cli(['import-csv', 'export.csv', '--project', 'ITH', '--sync', '--plan', 'none.json', '--json']);
    expect(none.json()).toMatchObject({ counts: { create: 0, existing: 10, remove: 0, join: 0, leave: 0, invite: 0 } });
  });

  it('a plan whose target changed, or whose input changed, is refused with exit 4 and nothing written', async () => {
    await seed();
    await writeFile(join(dir, 'wanted.csv'), `${WANTED}\n`);
    expect((await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--quiet'])).code).toBe(0);
    // The target: a customer joins the project after the plan.
    await writeFile(join(dir, 'late.csv'), 'email,name\nlate@x.example,Late Comer\n');
    expect((await cli(['import-csv', 'late.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
    let before = await files();
    const moved = await cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(moved.code).toBe(4);
    expect(moved.json()).toMatchObject({ error: { code: 'stale-plan' } });
    expect((moved.json() as { error: { message: string } }).error.message).toContain('remove late@x.example: to do now, and not in the plan');
    expect(await files()).toEqual(before);

    // The input: one byte changed.
    expect((await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan2.json', '--max-removals', '3', '--quiet'])).code).toBe(0);
    await writeFile(join(dir, 'wanted.csv'), `${WANTED.replace('New Two', 'New 2')}\n`);
    before = await files();
    const edited = await cli(['apply', 'plan2.json', '--json', ...smtp.mail()]);
    expect(edited.code).toBe(4);
    expect((edited.json() as { error: { message: string } }).error.message).toMatch(/the input wanted\.csv changed since the plan was made/);
    expect(await files()).toEqual(before);
    expect(smtp.sink.messages).toHaveLength(0);
  });

  it('a file cut to one row is refused by the guard (exit 2), naming the count and --max-removals; nothing written', async () => {
    await seed();
    await writeFile(join(dir, 'cut.csv'), `${WANTED.split('\n').slice(0, 2).join('\n')}\n`);
    const before = await files();
    const r = await cli(['import-csv', 'cut.csv', '--project', 'ITH', '--sync', '--json', ...smtp.mail()]);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'too-many-removals', message: expect.stringMatching(/^9 of the 10 customers of ITH would be removed/), hint: expect.stringContaining('--max-removals 9') } });
    expect(await files()).toEqual(before);
  });

  it('--sync alone does it at once: the project becomes the file', async () => {
    await seed();
    await writeFile(join(dir, 'wanted.csv'), `${WANTED}\n`);
    const r = await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--json', ...smtp.mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, command: 'import-csv', totals: { created: 2, existing: 8, removed: 2 }, organizations: { left: 4 }, invitations: { sent: 2 } });
    const listed = await cli(['customers', 'list', '--project', 'ITH', '--json']);
    expect(listed.stdout).not.toContain(g(3));
  });

  it('a plan with an invalid row: apply exits 1 for that row, and a second apply is refused as applied already; --sync needs a file; --max-removals needs --sync', async () => {
    await seed();
    await writeFile(join(dir, 'wanted.csv'), `${WANTED}\nbad-address,Nobody,\n`);
    const planned = await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json']);
    expect(planned.code).toBe(1);
    expect(planned.json()).toMatchObject({ ok: false, rows: { total: 11, invalid: 1 }, problems: [{ line: 12, email: 'bad-address', status: 'invalid' }] });
    const applied = await cli(['apply', 'plan.json', '--no-invite', '--json']);
    // --no-invite is the plan's to say, not apply's.
    expect(applied.code).toBe(2);
    const first = await cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(first.code).toBe(1);
    expect(first.json()).toMatchObject({ totals: { created: 2, invalid: 1, removed: 2 } });
    const second = await cli(['apply', 'plan.json', '--json', ...smtp.mail()]);
    expect(second.code).toBe(4);
    expect((second.json() as { error: { message: string } }).error.message).toMatch(/applied already/);

    const piped = await runCli(['import-csv', '-', '--project', 'ITH', '--sync', '--json'], { cwd: dir, input: `${WANTED}\n` });
    expect(piped.code).toBe(2);
    expect(piped.json()).toMatchObject({ error: { code: 'bad-input' } });
    const alone = await cli(['import-csv', 'wanted.csv', '--project', 'ITH', '--max-removals', '3', '--json']);
    expect(alone.code).toBe(2);
    expect(alone.json()).toMatchObject({ error: { code: 'conflicting-options' } });
  });

  it('a plan made with --map and ; is applied reading the input the same way', async () => {
    await seed();
    await writeFile(join(dir, 'crm.csv'), `${WANTED.replace('email,full name,organization', 'Customer E-mail;Name;Company').replaceAll(',', ';')}\n`);
    const planned = await cli(['import-csv', 'crm.csv', '--project', 'ITH', '--sync', '--map', 'email=Customer E-mail', '--map', 'organization=Company', '--delimiter', ';', '--plan', 'p.json', '--json']);
    expect(planned.json()).toMatchObject({ counts: { create: 2, existing: 8, remove: 2, join: 1, leave: 4 } });
    expect(JSON.parse(await readFile(join(dir, 'p.json'), 'utf8'))).toMatchObject({ input: { map: { email: 'Customer E-mail', organization: 'Company' }, delimiter: ';' } });
    const applied = await cli(['apply', 'p.json', '--json', '--outbox', 'out']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json()).toMatchObject({ totals: { created: 2, existing: 8, removed: 2 }, organizations: { left: 4 } });
  });
});
