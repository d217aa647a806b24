/** Organizations on the local store, in process: plan, dry run, apply, a second run, the checks of names. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOrganizations, splitOrganizations } from '../../src/core/organizations.js';
import { runImport } from '../../src/core/run.js';
import type { OrganizationInfo, OrganizationMember } from '../../src/core/types.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';
import { messageIdFor } from '../../src/mail/message-id.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';
import { ORG_ROWS, quiet, runOrgs, source } from '../support/organizations.js';

/** The local target, except that joining refuses `refused` (as JSM may, for a membership call that keeps failing). */
class RefusingJoin extends LocalTarget {
  refused = new Set<string>();
  static async at(path: string, refused: string[]): Promise<RefusingJoin> {
    const target = new RefusingJoin(await LocalStore.open(path));
    target.refused = new Set(refused);
    return target;
  }
  override async joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>> {
    const refused = new Map(members.filter((m) => this.refused.has(m.key)).map((m) => [m.key, 'JSM answered 500 Internal Server Error'] as [string, string]));
    const result = await super.joinOrganization(org, members.filter((m) => !this.refused.has(m.key)));
    return new Map([...result, ...refused]);
  }
}

const tempDir = useTempDirs();

/** A store with ITH, the customer cara and the organization Globex (not on ITH), as an earlier run left them. */
async function storeWithGlobex(): Promise<string> {
  const path = join(await tempDir(), 'jsm-store.json');
  const target = await LocalTarget.open(path);
  await target.createProject('ITH', 'IT Help');
  await target.createProject('OPS', 'Operations');
  await target.flush();
  const ops = await target.getProject('OPS');
  const globex = await target.createOrganization('Globex');
  await target.addOrganizationToProject(ops, globex);
  await target.provision(ops, [{ email: 'cara.cole@globex.example', key: 'cara.cole@globex.example', fullName: 'Cara Cole', exists: null }]);
  await target.close();
  return path;
}

const memberships = (target: LocalTarget) =>
  target.listOrganizations().then((list) => Object.fromEntries(list.map((o) => [o.name, o.members])));

describe('organizations on the local store', () => {
  it('a dry run counts what would be created, added and joined, and writes nothing', async () => {
    const path = await storeWithGlobex();
    const before = await readFile(path, 'utf8');
    const target = await LocalTarget.open(path);
    const dry = await runOrgs(target, { dryRun: true });
    expect(dry.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 6 });
    expect(dry.summary.totals).toMatchObject({ created: 4, existing: 1, invalid: 0 });
    await target.close();
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('creates each missing one once in its first spelling, adds each to the project once, joins; a second run does nothing new', async () => {
    const path = await storeWithGlobex();
    const target = await LocalTarget.open(path);
    const first = await runOrgs(target);
    expect(first.summary.ok).toBe(true);
    expect(first.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 6 });
    expect(first.rows.map((r) => [r.email, r.status, r.organizations])).toEqual([
      ['ann.archer@acme.example', 'created', ['Acme Corp']],
      ['bob.baker@acme.example', 'created', ['Acme Corp', 'Support Partners']],
      ['Cara.Cole@globex.example', 'existing', ['Globex']],
      ['dan.dole@globex.example', 'created', ['Globex', 'Support Partners']],
      ['erin.east@initech.example', 'created', undefined],
    ]);
    await target.close();

    const again = await LocalTarget.open(path);
    const ith = await again.getProject('ITH');
    expect(await again.listOrganizations(ith)).toEqual([
      { name: 'Acme Corp', members: 2 },
      { name: 'Globex', members: 2 },
      { name: 'Support Partners', members: 2 },
    ]);
    const stored = JSON.parse(await readFile(path, 'utf8')) as { format: number; organizations: Record<string, { projects: string[]; members: Record<string, string> }> };
    expect(stored.format).toBe(2);
    expect(Object.keys(stored.organizations).sort()).toEqual(['acme corp', 'globex', 'support partners']);
    expect(stored.organizations.globex?.projects).toEqual(['OPS', 'ITH']);
    expect(Object.keys(stored.organizations.globex?.members ?? {}).sort()).toEqual(['cara.cole@globex.example', 'dan.dole@globex.example']);

    const second = await runOrgs(again);
    expect(second.summary.organizations).toEqual({ created: 0, addedToProject: 0, memberships: 0 });
    expect(second.summary.totals).toMatchObject({ existing: 5, created: 0 });
    expect(await memberships(again)).toEqual({ 'Acme Corp': 2, Globex: 2, 'Support Partners': 2 });
    await again.close();
  });

  it('a name is matched with white space folded on both sides: "Acme Corp" joins an existing "Acme  Corp"', async () => {
    const path = join(await tempDir(), 'jsm-store.json');
    const target = await LocalTarget.open(path);
    await target.createProject('ITH', 'IT Help');
    // As an earlier version (or JSM itself) left it: two spaces.
    await target.createOrganization('Acme  Corp');
    await target.flush();
    const run = await runOrgs(target, { rows: [{ line: 2, email: 'q1@x.org', fullName: 'Q One', organizations: ['Acme Corp'] }] });
    expect(run.summary.organizations).toMatchObject({ created: 0, memberships: 1 });
    expect(await memberships(target)).toEqual({ 'Acme  Corp': 1 });
    await target.close();
  });

  it('--no-create-organizations: a row naming an unknown organization is invalid, naming it; the others go on', async () => {
    const path = await storeWithGlobex();
    const target = await LocalTarget.open(path);
    const run = await runOrgs(target, { createOrganizations: false });
    expect(run.summary.organizations).toEqual({ created: 0, addedToProject: 1, memberships: 1 });
    expect(run.rows.map((r) => [r.email, r.status])).toEqual([
      ['ann.archer@acme.example', 'invalid'],
      ['bob.baker@acme.example', 'invalid'],
      ['Cara.Cole@globex.example', 'existing'],
      ['dan.dole@globex.example', 'invalid'],
      ['erin.east@initech.example', 'created'],
    ]);
    expect(run.rows[1]?.reason).toBe(
      `the organizations 'ACME corp', 'Support Partners' do not exist in ${path}, and --no-create-organizations was given: create them first, correct the name, or leave out --no-create-organizations`,
    );
    expect(run.rows[3]?.reason).toContain("the organization 'support partners' does not exist");
    expect((await target.listOrganizations()).map((o) => o.name)).toEqual(['Globex']);
    await target.close();
  });

  it('a name with a control character, a bidirectional override or over 255 characters makes its row invalid, shown as U+XXXX', async () => {
    const path = await storeWithGlobex();
    const target = await LocalTarget.open(path);
    const rows = [
      { line: 2, email: 'a@example.com', fullName: 'A', organizations: ['Evil\u001b[2JCorp'] },
      { line: 3, email: 'b@example.com', fullName: 'B', organizations: ['Nice\u202eCorp'] },
      { line: 4, email: 'c@example.com', fullName: 'C', organizations: ['x'.repeat(256)] },
      { line: 5, email: 'd@example.com', fullName: 'D', organizations: ['Fine Corp'] },
    ];
    const run = await runOrgs(target, { rows });
    expect(run.rows.map((r) => r.status)).toEqual(['invalid', 'invalid', 'invalid', 'created']);
    expect(run.rows[0]?.reason).toBe("the organization name 'EvilU+001B[2JCorp' contains U+001B (control or invisible characters); remove them");
    expect(run.rows[1]?.reason).toContain('U+202E');
    expect(run.rows[2]?.reason).toContain('longer than 255 characters');
    expect((await target.listOrganizations()).map((o) => o.name)).toEqual(['Fine Corp', 'Globex']);
    await target.close();
  });
});

describe('a membership that fails, with invitations on', () => {
  it('fails its row with the reason and keeps a new customer\'s invitation owed; the re-run joins and invites; joining invites nobody', async () => {
    const path = await storeWithGlobex();
    const outbox = join(path, '..', 'outbox');
    const run = async (target: LocalTarget) => {
      const project = await target.getProject('ITH');
      const outcome = await runImport(source(), { command: 'import-csv', project, kind: 'welcome', invitations: 'send', dryRun: false }, {
        target, mailer: async () => createOutboxMailer({ dir: outbox, from: 'help@example.com' }), outbox, messageId: messageIdFor, reporter: quiet, runId: `run-${Math.random()}`,
      });
      await target.close();
      return outcome;
    };
    const first = await run(await RefusingJoin.at(path, ['dan.dole@globex.example', 'cara.cole@globex.example']));
    expect(first.rows.map((r) => [r.email, r.status, r.invitation])).toEqual([
      ['ann.archer@acme.example', 'created', 'sent'],
      ['bob.baker@acme.example', 'created', 'sent'],
      ['Cara.Cole@globex.example', 'failed', 'none'],
      ['dan.dole@globex.example', 'failed', 'pending'],
      ['erin.east@initech.example', 'created', 'sent'],
    ]);
    expect(first.rows[3]?.reason).toBe("the customer was created, but it could not join the organization 'Globex' (JSM answered 500 Internal Server Error): run the same command again to finish");
    const second = await run(await LocalTarget.open(path));
    expect(second.summary.ok).toBe(true);
    // cara: Globex; dan: Globex and Support Partners.
    expect(second.summary.organizations).toEqual({ created: 0, addedToProject: 0, memberships: 3 });
    // Dan's owed invitation goes now; cara, an existing customer who only joined, is invited by neither run.
    expect(second.rows.map((r) => [r.email, r.status, r.invitation])).toEqual([
      ['ann.archer@acme.example', 'existing', 'none'],
      ['bob.baker@acme.example', 'existing', 'none'],
      ['Cara.Cole@globex.example', 'existing', 'none'],
      ['dan.dole@globex.example', 'existing', 'sent'],
      ['erin.east@initech.example', 'existing', 'none'],
    ]);
    const check = await LocalTarget.open(path);
    expect(await check.listOrganizations(await check.getProject('ITH'))).toEqual([
      { name: 'Acme Corp', members: 2 },
      { name: 'Globex', members: 2 },
      { name: 'Support Partners', members: 2 },
    ]);
    expect(check.ledger.get('ITH', 'cara.cole@globex.example')).toBeUndefined();
    await check.close();
  });
});

describe('organization names', () => {
  it('a cell is split at ";", names trimmed, empty ones dropped; a row names each once, first spelling kept', () => {
    expect(splitOrganizations(' Acme ;; globex ;')).toEqual(['Acme', 'globex']);
    expect(checkOrganizations(['Acme', 'ACME', ' acme ', 'Globex'])).toEqual({ ok: true, names: ['Acme', 'Globex'] });
    expect(checkOrganizations(ORG_ROWS[3]?.organizations)).toEqual({ ok: true, names: ['globex', 'support partners'] });
    // White space inside a name is folded, as in customers' names: one organization, not two.
    expect(checkOrganizations(['Acme Corp', 'acme  corp', 'Acme\tCorp '])).toEqual({ ok: true, names: ['Acme Corp'] });
  });
});
