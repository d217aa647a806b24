/** The desired-state plan on the local store, in process: the scenario counts, the guard, staleness. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRemovals, planDesired, type DesiredSettings } from '../../src/core/desired.js';
import { UsageError } from '../../src/core/errors.js';
import { planFile, staleness } from '../../src/core/plan-file.js';
import type { CandidateRow, ProjectInfo } from '../../src/core/types.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

const acme = (n: number) => `a${n}@acme.example`;
const globex = (n: number) => `g${n}@globex.example`;

/** ITH with 10 customers: a0..a4 in Acme, g0..g4 in Globex (both on ITH). */
async function store(): Promise<string> {
  const path = join(await tempDir(), 'jsm-store.json');
  const target = await LocalTarget.open(path);
  const ith = await target.createProject('ITH', 'IT Help');
  for (const [name, email] of [['Acme', acme], ['Globex', globex]] as const) {
    const org = await target.createOrganization(name);
    await target.addOrganizationToProject(ith, org);
    const people = [0, 1, 2, 3, 4].map((n) => ({ email: email(n), key: email(n), fullName: `${name} ${n}`, exists: null }));
    await target.provision(ith, people);
    await target.joinOrganization(org, people);
  }
  await target.close();
  return path;
}

/** Keeps 8 (drops g3, g4), adds 2 (n1 into Acme, n2 alone), moves a3 and a4 out of Acme. */
function file(): CandidateRow[] {
  const rows: CandidateRow[] = [];
  let line = 2;
  for (const n of [0, 1, 2]) rows.push({ line: line++, email: acme(n), fullName: `Acme ${n}`, organizations: ['Acme'] });
  for (const n of [3, 4]) rows.push({ line: line++, email: acme(n), fullName: `Acme ${n}`, organizations: [] });
  for (const n of [0, 1, 2]) rows.push({ line: line++, email: globex(n), fullName: `Globex ${n}`, organizations: ['Globex'] });
  rows.push({ line: line++, email: 'n1@new.example', fullName: 'New One', organizations: ['acme'] });
  rows.push({ line: line++, email: 'n2@new.example', fullName: 'New Two', organizations: [] });
  return rows;
}

async function* source(rows: CandidateRow[]) {
  yield rows;
}

function settings(project: ProjectInfo, more: Partial<DesiredSettings> = {}): DesiredSettings {
  return { command: 'import-csv', project, kind: 'welcome', invitations: 'send', dryRun: true, sync: true, ...more };
}

describe('the desired-state plan', () => {
  it('plans create 2 / existing 8 / remove 2 / join 1 / leave 4 / invite 2, and changes nothing', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const ith = await target.getProject('ITH');
    const plan = await planDesired(source(file()), target, settings(ith));
    expect(plan.counts).toEqual({ create: 2, existing: 8, remove: 2, join: 1, leave: 4, invite: 2 });
    expect(plan.actions).toEqual(
      expect.arrayContaining([
        { action: 'create', email: 'n1@new.example', invite: true },
        { action: 'create', email: 'n2@new.example', invite: true },
        { action: 'join', email: 'n1@new.example', organization: 'Acme' },
        { action: 'leave', email: acme(3), organization: 'Acme' },
        { action: 'leave', email: acme(4), organization: 'Acme' },
        { action: 'leave', email: globex(3), organization: 'Globex' },
        { action: 'leave', email: globex(4), organization: 'Globex' },
        { action: 'remove', email: globex(3) },
        { action: 'remove', email: globex(4) },
      ]),
    );
    expect(plan.actions).toHaveLength(9);
    const customers: string[] = [];
    for await (const c of target.listCustomers(ith)) customers.push(c.email);
    expect(customers).toHaveLength(10);
    await target.close();
  });

  it('without --sync nothing is removed and nobody leaves', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const plan = await planDesired(source(file()), target, settings(await target.getProject('ITH'), { sync: false }));
    expect(plan.counts).toEqual({ create: 2, existing: 8, remove: 0, join: 1, leave: 0, invite: 2 });
    await target.close();
  });

  it('a file cut to one row is refused by the guard, naming the count and --max-removals; --max-removals lets it through', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const ith = await target.getProject('ITH');
    const one = file().slice(0, 1);
    const refused = await planDesired(source(one), target, settings(ith)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused).toMatchObject({ code: 'too-many-removals', exitCode: 2 });
    expect((refused as UsageError).message).toMatch(/^9 of the 10 customers of ITH would be removed: more than 5/);
    expect((refused as UsageError).hint).toMatch(/--max-removals 9/);
    const allowed = await planDesired(source(one), target, settings(ith, { maxRemovals: 9 }));
    expect(allowed.counts.remove).toBe(9);
    await target.close();
  });

  it('an invalid row keeps its customer: not removed, leaves nothing', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const rows = file();
    rows[8] = { line: 10, email: globex(3), fullName: 'Bad\u0007Name', organizations: [] };
    const plan = await planDesired(source(rows), target, settings(await target.getProject('ITH')));
    expect(plan.actions.filter((a) => a.email === globex(3))).toEqual([]);
    expect(plan.rows.invalid).toBe(1);
    await target.close();
  });

  it('staleness: the same target plans the same actions; one customer added since is named; a cut-off apply may have done part', async () => {
    const path = await store();
    const target = await LocalTarget.open(path);
    const ith = await target.getProject('ITH');
    const plan = await planDesired(source(file()), target, settings(ith));
    const saved = planFile(plan, {
      id: 'plan-0001',
      createdAt: '2026-01-01T00:00:00Z',
      target: { kind: 'local', location: path, project: 'ITH' },
      input: { path: 'in.csv', sha256: '0'.repeat(64), map: {}, delimiter: null, encoding: null },
      options: { sync: true, maxRemovals: null, noInvite: false, defer: false, organization: [], createOrganizations: true, matchAccounts: null },
    });
    expect(staleness(saved, await planDesired(source(file()), target, settings(ith)), false)).toEqual([]);
    // The removals done: what is left is part of the plan when resuming, a change otherwise.
    await applyRemovals(target, plan, ith);
    const after = await planDesired(source(file()), target, settings(ith));
    expect(staleness(saved, after, true)).toEqual([]);
    expect(staleness(saved, after, false)).toContain('remove g3@globex.example: in the plan, and not to do now');
    await target.provision(ith, [{ email: 'late@x.example', key: 'late@x.example', fullName: 'Late', exists: null }]);
    expect(staleness(saved, await planDesired(source(file()), target, settings(ith)), true)).toEqual(['remove late@x.example: to do now, and not in the plan']);
    await target.close();
  });
});

describe('parsePlanFile', () => {
  it('refuses what is not a plan, naming what is wrong (bad-plan, exit 2)', async () => {
    const { parsePlanFile } = await import('../../src/core/plan-file.js');
    const refused = (text: string) => {
      try {
        parsePlanFile(text, 'p.json');
      } catch (error) {
        return error as UsageError;
      }
      throw new Error('accepted');
    };
    expect(refused('{')).toMatchObject({ code: 'bad-plan', exitCode: 2, message: expect.stringMatching(/^p\.json is not a plan jsm-provision can apply: it is not JSON/) });
    expect(refused('{"format":"other"}').message).toContain('its "format" is not "jsm-provision-plan"');
    // Saved again by an editor that adds a byte order mark: still read as JSON.
    expect(refused('\uFEFF{"format":"other"}').message).toContain('its "format" is not "jsm-provision-plan"');
    expect(refused('{"format":"jsm-provision-plan","version":2}').message).toContain('its version 2 is not 1');
  });
});
