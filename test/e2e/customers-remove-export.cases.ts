/**
 * `customers export` and `customers remove` through the built CLI on the local store: the export is
 * the import format and reads back as nothing new; removals leave the project and the project's
 * organizations only, keep the account, stop at the guard, and survive a kill -9 at their write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';
import { readStore } from '../support/store.js';
import { watch } from '../faults/helpers.js';

const projectDir = useProjectDir();
let dir: string;
beforeEach(() => {
  dir = projectDir();
});
const cli = (args: string[]) => runCli(args, { cwd: dir });

const INPUT = [
  'email,full name,organization,language',
  'ann@acme.example,Ann Archer,Acme;Globex,de',
  'bob@acme.example,"Baker, Bob",Acme,',
  'cid@example.com,=Cid,,pt-BR',
  'dee@example.com,Dee Dunn,,',
].join('\n');

/** ITH with four customers, Acme and Globex on ITH; Ann is also a customer of OPS and in Initech (on OPS only). */
async function seed(): Promise<void> {
  await writeFile(join(dir, 'in.csv'), `${INPUT}\n`);
  expect((await cli(['import-csv', 'in.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
  expect((await cli(['project', 'create', 'OPS', '--name', 'Operations', '--quiet'])).code).toBe(0);
  await writeFile(join(dir, 'ops.csv'), 'email,full name,organization\nann@acme.example,Ann Archer,Initech\n');
  expect((await cli(['import-csv', 'ops.csv', '--project', 'OPS', '--no-invite', '--quiet'])).code).toBe(0);
}

describe('customers export', () => {
  it('writes the import format to stdout (formula cells neutralised), and importing it into the same project makes nothing new', async () => {
    await seed();
    const r = await cli(['customers', 'export', '--project', 'ITH']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'email,full name,organization,language',
        'ann@acme.example,Ann Archer,Acme;Globex,de',
        'bob@acme.example,"Baker, Bob",Acme,',
        "cid@example.com,'=Cid,,pt-BR",
        'dee@example.com,Dee Dunn,,',
        '',
      ].join('\r\n'),
    );
    await writeFile(join(dir, 'export.csv'), r.stdout);
    const before = await readStore(dir);
    const again = await runCli(['import-csv', 'export.csv', '--project', 'ITH', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ totals: { rows: 4, created: 0, existing: 4 }, organizations: { created: 0, addedToProject: 0, memberships: 0 }, invitations: { sent: 0 } });
    expect((await readStore(dir)).customers).toEqual(before.customers);
  });

  it('--output writes the file; an existing one is refused (exit 2) unless --force; --json needs --output', async () => {
    await seed();
    const first = await runCli(['customers', 'export', '--project', 'ITH', '--output', 'out.csv', '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.json()).toEqual({ ok: true, command: 'customers export', target: 'local', project: 'ITH', count: 4, hidden: 0, output: join(dir, 'out.csv') });
    expect((await readFile(join(dir, 'out.csv'), 'utf8')).split('\r\n')[1]).toBe('ann@acme.example,Ann Archer,Acme;Globex,de');

    await writeFile(join(dir, 'out.csv'), 'keep me\n');
    const refused = await runCli(['customers', 'export', '--project', 'ITH', '--output', 'out.csv', '--json'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.json()).toMatchObject({ ok: false, command: 'customers export', error: { code: 'output-exists' } });
    expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('keep me\n');

    const forced = await cli(['customers', 'export', '--project', 'ITH', '--output', 'out.csv', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`4 customers of ITH written to ${join(dir, 'out.csv')}\n`);
    expect(await readFile(join(dir, 'out.csv'), 'utf8')).toContain('dee@example.com,Dee Dunn,,');

    const noOutput = await cli(['customers', 'export', '--project', 'ITH', '--json']);
    expect(noOutput.code).toBe(2);
    expect(noOutput.json()).toMatchObject({ ok: false, error: { code: 'conflicting-options' } });
    expect(noOutput.stdout).not.toContain('email,full name');
  });
});

describe('customers remove', () => {
  it('a dry run writes nothing; the run takes Ann out of ITH and its organizations only, keeps her account and OPS; a result per email', async () => {
    await seed();
    const before = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const args = ['customers', 'remove', '--project', 'ITH', '--email', 'ANN@acme.example', '--email', 'nobody@example.com', '--email', 'not-an-email', '--email', 'ann@acme.example', '--json'];
    const dry = await cli([...args, '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.json()).toMatchObject({ dryRun: true, totals: { emails: 4, removed: 1, notACustomer: 1, invalid: 1, duplicate: 1, failed: 0 }, organizations: { left: 2 } });
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(before);

    const r = await cli(args);
    expect(r.code).toBe(1);
    const json = r.json<{ results: unknown[]; problems: { line: string; status: string }[] }>();
    expect(json).toMatchObject({ ok: false, command: 'customers remove', target: 'local', project: 'ITH', dryRun: false, totals: { removed: 1 }, organizations: { left: 2 } });
    expect(json.results).toEqual([
      { line: '--email #1', email: 'ann@acme.example', status: 'removed', organizations: ['Acme', 'Globex'], reason: null },
      { line: '--email #2', email: 'nobody@example.com', status: 'not-a-customer', organizations: [], reason: 'not a customer of ITH: nothing to do' },
      expect.objectContaining({ line: '--email #3', status: 'invalid' }),
      expect.objectContaining({ line: '--email #4', status: 'duplicate' }),
    ]);
    expect(json.problems.map((p) => p.status)).toEqual(['invalid', 'duplicate']);
    const store = await readStore(dir);
    expect(store.customers['ann@acme.example']?.projects).toEqual(['OPS']);
    const orgs = JSON.parse(await readFile(join(dir, 'jsm-store.json'), 'utf8')).organizations as Record<string, { members: Record<string, string> }>;
    expect(Object.keys(orgs.acme?.members ?? {})).toEqual(['bob@acme.example']);
    expect(Object.keys(orgs.globex?.members ?? {})).toEqual([]);
    expect(Object.keys(orgs.initech?.members ?? {})).toEqual(['ann@acme.example']);
    const list = await runCli(['customers', 'list', '--project', 'ITH', '--json'], { cwd: dir });
    expect(list.json()).toMatchObject({ count: 3 });
  });

  it('the guard: more than max(5, 10%) removals are refused before any write (exit 2), naming the count and --max-removals; --file reads an export', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `c${i}@example.com,Customer ${i}`);
    await writeFile(join(dir, 'many.csv'), `email,full name\n${rows.join('\n')}\n`);
    expect((await cli(['import-csv', 'many.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
    await writeFile(join(dir, 'leavers.csv'), `email,full name\n${rows.slice(0, 6).join('\n')}\n`);
    const before = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const refused = await cli(['customers', 'remove', '--project', 'ITH', '--file', 'leavers.csv', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('6 of the 12 customers of ITH would be removed: more than 5');
    expect(refused.stderr).toContain('--max-removals 6');
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(before);

    const allowed = await runCli(['customers', 'remove', '--project', 'ITH', '--file', 'leavers.csv', '--max-removals', '6', '--json'], { cwd: dir });
    expect(allowed.code).toBe(0);
    expect(allowed.json()).toMatchObject({ ok: true, totals: { emails: 6, removed: 6 }, organizations: { left: 0 } });
    expect((allowed.json() as { results: { line: string }[] }).results[0]?.line).toBe('leavers.csv:2');
    expect(Object.values((await readStore(dir)).customers).filter((c) => c.projects.includes('ITH'))).toHaveLength(6);
  });

  it('a kill -9 at the removal\'s write loses nothing: the store is as before, and the same command then finishes it', async () => {
    await seed();
    const before = await readStore(dir);
    const args = ['customers', 'remove', '--project', 'ITH', '--email', 'ann@acme.example'];
    const run = watch(args, { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: 'before-rename' } });
    await run.stderrMatches(/jsm-provision-test-hook: before-rename/);
    run.kill('SIGKILL');
    expect((await run.done).code).toBe(137);
    expect((await readStore(dir)).customers).toEqual(before.customers);
    const again = await cli(args);
    expect(again.code).toBe(0);
    expect((await readStore(dir)).customers['ann@acme.example']?.projects).toEqual(['OPS']);
  });
});
