/**
 * The organizations contract through the built CLI, on the local store: the shipped sample with
 * mixed-case names and several per cell, a dry run, the real run, the same command again,
 * `organizations list --json`, and --organization with --no-create-organizations. One spawn per behaviour.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const SAMPLE = fileURLToPath(new URL('../../fixtures/customers-organizations.csv', import.meta.url));
const projectDir = useProjectDir();
let dir: string;
beforeEach(() => {
  dir = projectDir();
});
const cli = (args: string[]) => runCli([...args, '--json'], { cwd: dir });
const importSample = (extra: string[] = []) => cli(['import-csv', SAMPLE, '--project', 'ITH', '--no-invite', ...extra]);

describe('organizations from the CLI', () => {
  it('a CSV of email,organization: existing customers join without names; a new address is invalid with the way to a name; the note says so once', async () => {
    const { writeFile } = await import('node:fs/promises');
    expect((await importSample()).code).toBe(0);
    await writeFile(join(dir, 'join.csv'), 'email,organization\nbob.baker@acme.example,Legal\nnobody@example.com,Legal\n');
    const r = await runCli(['import-csv', 'join.csv', '--project', 'ITH', '--no-invite', '--report', 'join-report.csv'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('join.csv has no name column: customers who exist are added (a name is needed only to create someone); rows of new customers are refused. Add a name column.');
    const report = (await readFile(join(dir, 'join-report.csv'), 'utf8')).split('\r\n');
    expect(report[1]).toBe('2,bob.baker@acme.example,,existing,none,,Legal');
    expect(report[2]).toMatch(/^3,nobody@example\.com,,invalid,none,"has no full name, which creating this customer needs/);
    const orgs = await cli(['organizations', 'list', '--project', 'ITH']);
    expect(JSON.stringify(orgs.json())).toContain('"name":"Legal","members":1');
  });

  it('dry run counts and writes nothing; the run creates, adds and joins; the same command again does nothing new', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const dry = await importSample(['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.json().organizations).toEqual({ created: 3, addedToProject: 3, memberships: 7 });
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(before);

    const first = await importSample(['--report', 'result.csv']);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ totals: { rows: 6, created: 6 }, organizations: { created: 3, addedToProject: 3, memberships: 7 } });
    const report = (await readFile(join(dir, 'result.csv'), 'utf8')).split('\r\n');
    expect(report[0]).toBe('\ufeffline,email,fullName,status,invitation,reason,organizations');
    expect(report[2]).toBe("3,bob.baker@acme.example,Bob Baker,created,suppressed,the run was given --no-invite,Acme Corp; Support Partners");

    const second = await importSample();
    expect(second.json()).toMatchObject({ totals: { rows: 6, existing: 6 }, organizations: { created: 0, addedToProject: 0, memberships: 0 } });

    const list = await cli(['organizations', 'list', '--project', 'ITH']);
    expect(list.code).toBe(0);
    expect(list.json()).toEqual({
      ok: true,
      command: 'organizations list',
      target: 'local',
      project: 'ITH',
      count: 3,
      organizations: [
        { name: 'Acme Corp', members: 3 },
        { name: 'Globex', members: 2 },
        { name: 'Support Partners', members: 2 },
      ],
    });
  });

  it('--organization adds every row; with --no-create-organizations an unknown one makes rows invalid, naming it', async () => {
    const r = await importSample(['--organization', 'All Customers', '--no-create-organizations']);
    expect(r.code).toBe(1);
    const summary = r.json<{ totals: { invalid: number }; problems: { line: number; reason: string }[] }>();
    expect(summary.totals.invalid).toBe(6);
    expect(summary.problems[0]?.reason).toContain("'All Customers'");
    expect(summary.problems[0]?.reason).toContain('--no-create-organizations');
  });

  it('a bad --organization is a usage error before anything is read or written', async () => {
    const before = await readFile(join(dir, 'jsm-store.json'), 'utf8');
    const r = await cli(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', '--organization', 'Bad\u0007Name']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'bad-organization', message: "--organization: the organization name 'BadU+0007Name' contains U+0007 (control or invisible characters); remove them" } });
    // An empty one (`--organization "$ORG"` with ORG unset) is said, not dropped.
    const empty = await cli(['add-customer', '--project', 'ITH', '--email', 'a@example.com', '--name', 'A', '--organization', ' ']);
    expect(empty.code).toBe(2);
    expect(empty.json()).toMatchObject({ ok: false, error: { code: 'bad-organization', message: '--organization is empty' } });
    expect(await readFile(join(dir, 'jsm-store.json'), 'utf8')).toBe(before);
  });
});

describe('organizations on a REST target, through the CLI', () => {
  const start = useRestCli();

  it('the sample: Globex exists; each missing one is created once, each added once; the re-run does nothing new; organizations list', async () => {
    const run = await start({ desks: 3, organizations: [{ name: 'Globex', members: [] }] });
    const first = await run.cli(['import-csv', SAMPLE, '--project', 'ITH', '--no-invite', '--json']);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ target: 'rest', totals: { created: 6 }, organizations: { created: 2, addedToProject: 3, memberships: 7 } });
    expect(run.jsm.organizationCreates).toEqual(['Acme Corp', 'Support Partners']);
    const second = await run.cli(['import-csv', SAMPLE, '--project', 'ITH', '--no-invite', '--json']);
    expect(second.json()).toMatchObject({ totals: { existing: 6 }, organizations: { created: 0, addedToProject: 0, memberships: 0 } });
    const list = await run.cli(['organizations', 'list', '--project', 'ITH', '--json']);
    expect(list.json()).toMatchObject({ target: 'rest', organizations: [{ name: 'Acme Corp', members: 3 }, { name: 'Globex', members: 2 }, { name: 'Support Partners', members: 2 }] });
  });

  it('a dry run says what the real run then does: memberships to make (a directory member already in one not counted), none failed, nothing written', async () => {
    // dana is the directory account ccole, already a member of Globex; bob exists under his email.
    const run = await start({
      desks: 3,
      existingUsers: [{ name: 'ccole', emailAddress: 'dana.diaz@globex.example', displayName: 'Dana Diaz' }, { name: 'bob.baker@acme.example', emailAddress: 'bob.baker@acme.example', displayName: 'Bob Baker' }],
      organizations: [{ name: 'Globex', members: ['ccole'] }],
    });
    const dry = await run.cli(['import-csv', SAMPLE, '--project', 'ITH', '--no-invite', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const expected = { totals: { rows: 6, created: 4, existing: 2, failed: 0 }, organizations: { created: 2, addedToProject: 3, memberships: 6 }, problems: [] };
    expect(dry.json()).toMatchObject({ dryRun: true, ...expected });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    const real = await run.cli(['import-csv', SAMPLE, '--project', 'ITH', '--no-invite', '--json']);
    expect(real.json()).toMatchObject({ dryRun: false, ...expected });
  });
});
