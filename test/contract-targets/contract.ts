/**
 * The target contract: the same cases run against every `Target` (src/core/target.ts), so that what
 * one target does, every target does, and where a target truly differs the case says so by name.
 *
 * HOW TO ADD A TARGET (the Cloud target, say): write a `MakeWorld` for it in worlds.ts (open the
 * target on a fresh world holding the seed: its double started with the accounts and organizations,
 * project ITH "IT Help" on it, the ledger in a temp folder; `another` opens a second target on the
 * same world, as a second process would), declare its `Traits`, and add one line to
 * targets.test.ts:
 *
 *   targetContract('JSM Cloud over REST (double)', cloudWorld, CLOUD_TRAITS);
 *
 * A case that fails on a real target is a finding: fix the target, or say why the contract is wrong.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProvisionRequest, Target } from '../../src/core/target.js';
import type { InvitationRecord, OrganizationInfo, ProjectInfo } from '../../src/core/types.js';
import { ORG_ROWS, runOrgs } from '../support/organizations.js';

/** An account that exists before the run (username: the email unless given). */
export interface SeedAccount {
  email: string;
  fullName: string;
  username?: string;
  /** A customer of project ITH already. */
  customer?: boolean;
  /** false: the account cannot log in (only where `Traits.inactiveAccounts`). */
  active?: boolean;
}

/** An organization that exists before the run; `members` are emails of seeded accounts. */
export interface SeedOrganization {
  name: string;
  onProject?: boolean;
  members?: string[];
}

export interface WorldSeed {
  accounts?: SeedAccount[];
  organizations?: SeedOrganization[];
}

/** One target on a fresh world: project ITH ("IT Help", invitations on) and the seed. */
export interface World {
  target: Target;
  project: ProjectInfo;
  /** A second target on the same world (the same store, instance or ledger), as another process opens it. */
  another(): Promise<Target>;
  /** How many accounts hold this email (any case), as the world itself says (not the target under test). */
  accountsWith(email: string): Promise<number>;
  /** A run id that the ledgers see as a run alive right now (its `sending` records are not in doubt). */
  liveRunId(): string;
  /** Makes the next create of a customer (or an organization) happen and its answer be lost (only where `Traits.answersCanBeLost`). */
  loseNextCreateAnswer?(what?: 'customer' | 'organization'): void;
  close(): Promise<void>;
}

export type MakeWorld = (seed: WorldSeed) => Promise<World>;

/** Where targets truly differ: each case that meets a difference names it. */
export interface Traits {
  /** `lookupIsCheap`: the planner looks accounts up before the run (local), or the target learns existence from its own look-up in the create (REST). */
  lookupIsCheap: boolean;
  /** A look-up sees inactive accounts (Jira Data Center); a store's customer always can log in, and Cloud's user search shows active accounts only. */
  inactiveAccounts: boolean;
  /** Two accounts can hold one email (Jira does not keep emails unique); a store keys accounts by email. */
  sharedEmails: boolean;
  /** provision records a created row's invitation with the customer in one write (local), or leaves it to the caller after making it durable as an intent (REST). */
  recordsInvitations: boolean;
  /** A create's answer can be lost after the write (over a network), marking the row `unproven`. */
  answersCanBeLost: boolean;
  /** createProject makes a project (the local store); a JSM target refuses (`unsupported`): projects are made in JSM. */
  createsProjects: boolean;
}

const row = (email: string, fullName: string, extra: Partial<ProvisionRequest> = {}): ProvisionRequest => ({ email, key: email.toLowerCase(), fullName, exists: null, ...extra });

const record = (key: string, extra: Partial<InvitationRecord> = {}): InvitationRecord => ({
  project: 'ITH',
  key,
  email: key,
  fullName: `Name of ${key}`,
  kind: 'welcome',
  status: 'pending',
  deferred: false,
  mustChangePassword: false,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

async function customerEmails(target: Target, project: ProjectInfo): Promise<string[]> {
  const emails: string[] = [];
  for await (const c of target.listCustomers(project)) emails.push(c.email.toLowerCase());
  return emails.sort();
}

const byName = (orgs: OrganizationInfo[], name: string): OrganizationInfo => {
  const found = orgs.find((o) => o.name === name);
  expect(found, `organization ${name}`).toBeDefined();
  return found as OrganizationInfo;
};

export function targetContract(name: string, makeWorld: MakeWorld, traits: Traits): void {
  describe(`target contract: ${name}`, () => {
    const worlds: World[] = [];
    afterEach(async () => {
      await Promise.all(worlds.splice(0).map((w) => w.close()));
    });
    const open = async (seed: WorldSeed = {}): Promise<World> => {
      const world = await makeWorld(seed);
      worlds.push(world);
      return world;
    };

    it(`says whether a look-up before the run is cheap (${traits.lookupIsCheap ? 'yes: the planner asks first' : 'no: it learns existence from its own look-up in the create'})`, async () => {
      const w = await open();
      expect(w.target.lookupIsCheap).toBe(traits.lookupIsCheap);
      expect(w.project).toMatchObject({ key: 'ITH', name: 'IT Help', sendVerificationEmails: true });
    });

    describe('projects', () => {
      it('getProject by its key in any case; an unknown key is unknown-project; listProjects has it', async () => {
        const w = await open();
        expect(await w.target.getProject('ith')).toMatchObject({ key: 'ITH', name: 'IT Help' });
        await expect(w.target.getProject('NOPE')).rejects.toMatchObject({ code: 'unknown-project', exitCode: 3 });
        expect((await w.target.listProjects()).map((p) => p.key)).toContain('ITH');
      });

      it('the notification setting: set, said as it was before, read back by this target and another', async () => {
        const w = await open();
        const off = await w.target.setSendVerificationEmails('ITH', false);
        expect(off).toMatchObject({ previous: true, project: { key: 'ITH', sendVerificationEmails: false } });
        expect(await w.target.getProject('ITH')).toMatchObject({ sendVerificationEmails: false });
        const other = await w.another();
        expect(await other.getProject('ITH')).toMatchObject({ sendVerificationEmails: false });
        expect(await w.target.setSendVerificationEmails('ITH', true)).toMatchObject({ previous: false, project: { sendVerificationEmails: true } });
      });

      it(`createProject: ${traits.createsProjects ? 'made, and one that exists is refused (project-exists, exit 2)' : 'refused (unsupported, exit 3): projects are made in JSM'}`, async () => {
        const w = await open();
        if (traits.createsProjects) {
          expect(await w.target.createProject('NEW', 'New Desk')).toMatchObject({ key: 'NEW', name: 'New Desk', sendVerificationEmails: true });
          await expect(w.target.createProject('ITH', 'Again')).rejects.toMatchObject({ code: 'project-exists', exitCode: 2 });
        } else {
          await expect(w.target.createProject('NEW', 'New Desk')).rejects.toMatchObject({ code: 'unsupported', exitCode: 3 });
        }
      });
    });

    describe('customers', () => {
      it('create: a new customer is created once, is a customer of the project, is found, and looks existing afterwards', async () => {
        const w = await open();
        expect(await w.target.lookup([{ key: 'new@example.com', email: 'new@example.com' }])).toEqual(['absent']);
        let done = 0;
        const outcomes = await w.target.provision(w.project, [row('new@example.com', 'New One')], () => done++);
        expect(outcomes).toEqual([{ status: 'created' }]);
        expect(done).toBe(1);
        await w.target.flush();
        expect(await w.accountsWith('new@example.com')).toBe(1);
        expect(await customerEmails(w.target, w.project)).toEqual(['new@example.com']);
        expect(await w.target.findCustomer(w.project, 'new@example.com')).toMatchObject({ email: 'new@example.com', fullName: 'New One' });
        expect(await w.target.lookup([{ key: 'new@example.com', email: 'new@example.com' }])).toEqual(['existing']);
      });

      it('many rows in one call: one outcome per row, in order (new and existing mixed), progress once per row', async () => {
        const w = await open({ accounts: [{ email: 'm10@example.com', fullName: 'M 10' }, { email: 'm55@example.com', fullName: 'M 55', customer: true }] });
        const rows = Array.from({ length: 60 }, (_, i) => row(`m${i}@example.com`, `M ${i}`));
        let done = 0;
        const outcomes = await w.target.provision(w.project, rows, () => done++);
        expect(done).toBe(60);
        expect(outcomes.map((o) => o.status)).toEqual(rows.map((r) => (r.key === 'm10@example.com' || r.key === 'm55@example.com' ? 'existing' : 'created')));
        await w.target.flush();
        expect(await customerEmails(w.target, w.project)).toHaveLength(60);
        expect(await w.target.findCustomer(w.project, 'nobody@example.com')).toBeUndefined();
      });

      it(`a created row's invitation: ${traits.recordsInvitations ? 'recorded with the customer, in the same write' : 'left to the caller (the target made it durable as an intent before the create)'}`, async () => {
        const w = await open();
        const owed = record('invited@example.com', { fullName: 'Invited One' });
        expect(await w.target.provision(w.project, [row('invited@example.com', 'Invited One', { invitation: owed })])).toEqual([{ status: 'created' }]);
        await w.target.flush();
        if (traits.recordsInvitations) expect(w.target.ledger.get('ITH', 'invited@example.com')).toMatchObject({ status: 'pending', email: 'invited@example.com' });
        else expect(w.target.ledger.get('ITH', 'invited@example.com')).toBeUndefined();
      });

      it('existing account, not a customer of the project: found by the look-up, used as it is (no second account, its name kept), made a customer', async () => {
        const w = await open({ accounts: [{ email: 'Old.Timer@example.com', fullName: 'Old Timer' }] });
        expect(await customerEmails(w.target, w.project)).toEqual([]);
        expect(await w.target.lookup([{ key: 'old.timer@example.com', email: 'old.timer@example.com' }])).toEqual(['existing']);
        // exists: null, as the planner leaves it where look-ups are not cheap: the target finds out itself.
        const outcomes = await w.target.provision(w.project, [row('old.timer@example.com', 'Another Name')]);
        expect(outcomes).toHaveLength(1);
        expect(outcomes[0]).toMatchObject({ status: 'existing', fullName: 'Old Timer' });
        await w.target.flush();
        expect(await w.accountsWith('old.timer@example.com')).toBe(1);
        expect(await customerEmails(w.target, w.project)).toEqual(['old.timer@example.com']);
        expect(await w.target.findCustomer(w.project, 'old.timer@example.com')).toMatchObject({ fullName: 'Old Timer' });
      });

      it('existing account that is a customer already: existing, listed once, no second account', async () => {
        const w = await open({ accounts: [{ email: 'kept@example.com', fullName: 'Kept Customer', customer: true }] });
        expect(await customerEmails(w.target, w.project)).toEqual(['kept@example.com']);
        const outcomes = await w.target.provision(w.project, [row('KEPT@example.com', 'Kept Customer')]);
        expect(outcomes[0]).toMatchObject({ status: 'existing' });
        await w.target.flush();
        expect(await w.accountsWith('kept@example.com')).toBe(1);
        expect(await customerEmails(w.target, w.project)).toEqual(['kept@example.com']);
      });

      it('one email in another case is the same account: existing, never a second account', async () => {
        const w = await open();
        await w.target.provision(w.project, [row('Mixed.Case@Example.com', 'Mixed Case')]);
        const again = await w.target.provision(w.project, [row('mixed.case@example.com', 'Mixed Case')]);
        expect(again[0]).toMatchObject({ status: 'existing' });
        await w.target.flush();
        expect(await w.accountsWith('mixed.case@example.com')).toBe(1);
      });

      it.runIf(traits.inactiveAccounts)('inactive account: the row fails naming it (look-up and create alike), nothing is created, not made a customer', async () => {
        const w = await open({ accounts: [{ email: 'gone@example.com', fullName: 'Gone Away', username: 'gaway', active: false }] });
        const [looked] = await w.target.lookup([{ key: 'gone@example.com', email: 'gone@example.com' }]);
        expect(looked).toEqual({ failed: expect.stringContaining('inactive') });
        const [outcome] = await w.target.provision(w.project, [row('gone@example.com', 'Gone Away')]);
        // Named by its username where accounts have one (Data Center), else by its email.
        expect(outcome).toEqual({ status: 'failed', reason: expect.stringMatching(/gaway|gone@example\.com/) });
        expect((outcome as { reason: string }).reason).toContain('inactive');
        await w.target.flush();
        expect(await w.accountsWith('gone@example.com')).toBe(1);
        expect(await customerEmails(w.target, w.project)).toEqual([]);
      });
      it.runIf(!traits.inactiveAccounts)('inactive account: none on this target (its accounts have no active flag); a stored customer is found and used', async () => {
        const w = await open({ accounts: [{ email: 'here@example.com', fullName: 'Here Still' }] });
        const found = await w.target.findCustomer(w.project, 'here@example.com');
        // No active flag (a store), or (JSM Cloud, whose look-ups see active accounts only) true.
        expect(found?.active).not.toBe(false);
        expect((await w.target.provision(w.project, [row('here@example.com', 'Here Still')]))[0]).toMatchObject({ status: 'existing' });
      });

      it.runIf(traits.sharedEmails)('two accounts with one email: the row fails naming both (look-up and create alike), no third account, not made a customer', async () => {
        const w = await open({
          accounts: [
            { email: 'twice@example.com', fullName: 'Twice One', username: 'tone' },
            { email: 'TWICE@example.com', fullName: 'Twice Two', username: 'ttwo' },
          ],
        });
        const [looked] = await w.target.lookup([{ key: 'twice@example.com', email: 'twice@example.com' }]);
        expect(looked).toEqual({ failed: expect.stringMatching(/tone.*ttwo|ttwo.*tone/) });
        const [outcome] = await w.target.provision(w.project, [row('twice@example.com', 'Twice')]);
        expect(outcome).toEqual({ status: 'failed', reason: expect.stringMatching(/tone.*ttwo|ttwo.*tone/) });
        await w.target.flush();
        expect(await w.accountsWith('twice@example.com')).toBe(2);
        expect(await customerEmails(w.target, w.project)).toEqual([]);
        await expect(w.target.findCustomer(w.project, 'twice@example.com')).rejects.toMatchObject({ code: 'ambiguous-account' });
      });
      it.runIf(!traits.sharedEmails)('two accounts with one email: cannot exist on this target (accounts are keyed by their lower-cased email); the second row is the first account', async () => {
        const w = await open({ accounts: [{ email: 'twice@example.com', fullName: 'Twice One' }] });
        const outcomes = await w.target.provision(w.project, [row('TWICE@example.com', 'Twice Two')]);
        expect(outcomes[0]).toMatchObject({ status: 'existing' });
        await w.target.flush();
        expect(await w.accountsWith('twice@example.com')).toBe(1);
      });

      it.runIf(traits.sharedEmails)('two accounts with one email, removed by email alone: refused for that key, naming both; nobody is taken out', async () => {
        const w = await open({
          accounts: [
            { email: 'twice@example.com', fullName: 'Twice One', username: 'tone', customer: true },
            { email: 'twice@example.com', fullName: 'Twice Two', username: 'ttwo', customer: true },
          ],
        });
        const refused = await w.target.removeFromProject(w.project, [{ key: 'twice@example.com', email: 'twice@example.com' }]);
        expect([...refused.keys()]).toEqual(['twice@example.com']);
        expect(refused.get('twice@example.com')).toMatch(/tone.*ttwo|ttwo.*tone/);
        expect(await customerEmails(w.target, w.project)).toEqual(['twice@example.com', 'twice@example.com']);
      });

      it('listing customers: exactly the customers of the project, each once (seeded and created; not the accounts that are not customers)', async () => {
        const w = await open({
          accounts: [
            { email: 'seeded@example.com', fullName: 'Seeded Customer', customer: true },
            { email: 'outsider@example.com', fullName: 'Not A Customer' },
          ],
        });
        await w.target.provision(w.project, [row('made1@example.com', 'Made One'), row('made2@example.com', 'Made Two'), row('seeded@example.com', 'Seeded Customer')]);
        await w.target.flush();
        expect(await customerEmails(w.target, w.project)).toEqual(['made1@example.com', 'made2@example.com', 'seeded@example.com']);
        const views = [];
        for await (const c of w.target.listCustomers(w.project)) views.push(c);
        expect(views.find((c) => c.email === 'made1@example.com')).toMatchObject({ fullName: 'Made One', passwordSet: false, mustChangePassword: false });
      });

      it('removeFromProject: the customer leaves the project, the account stays; one who is not a customer is left as is, without a refusal', async () => {
        const w = await open({ accounts: [{ email: 'outsider@example.com', fullName: 'Not A Customer' }] });
        await w.target.provision(w.project, [row('leaving@example.com', 'Leaving Soon'), row('staying@example.com', 'Staying On')]);
        await w.target.flush();
        const refused = await w.target.removeFromProject(w.project, [
          { key: 'leaving@example.com', email: 'leaving@example.com' },
          { key: 'outsider@example.com', email: 'outsider@example.com' },
        ]);
        expect(refused).toEqual(new Map());
        await w.target.flush();
        expect(await customerEmails(w.target, w.project)).toEqual(['staying@example.com']);
        expect(await w.accountsWith('leaving@example.com')).toBe(1);
        expect(await w.target.findCustomer(w.project, 'leaving@example.com')).toMatchObject({ email: 'leaving@example.com' });
        // Provisioned again, the account is found (existing), not made twice.
        expect((await w.target.provision(w.project, [row('leaving@example.com', 'Leaving Soon')]))[0]).toMatchObject({ status: 'existing' });
        await w.target.flush();
        expect(await customerEmails(w.target, w.project)).toEqual(['leaving@example.com', 'staying@example.com']);
      });

      it('a customer whose account name is not their email (a directory account): listed with it, leaves an organization and the project by it', async () => {
        const w = await open({
          accounts: [
            { email: 'Cara.Cole@globex.example', fullName: 'Cara Cole', username: 'ccole', customer: true },
            { email: 'dan@globex.example', fullName: 'Dan Dole', customer: true },
          ],
          organizations: [{ name: 'Globex', onProject: true, members: ['Cara.Cole@globex.example', 'dan@globex.example'] }],
        });
        const views = [];
        for await (const c of w.target.listCustomers(w.project)) views.push(c);
        const cara = views.find((c) => c.email.toLowerCase() === 'cara.cole@globex.example');
        expect(cara).toBeDefined();
        // As the core names members: the email's key, and the account the target listed (where it has one).
        const member = { key: 'cara.cole@globex.example', email: cara?.email ?? '', ...(cara?.account !== undefined ? { account: cara.account } : {}) };
        const globex = byName(await w.target.organizations(w.project), 'Globex');
        expect(await w.target.organizationMembers(globex)).toContain('cara.cole@globex.example');
        expect(await w.target.leaveOrganization(globex, [member])).toEqual(new Map());
        expect(await w.target.removeFromProject(w.project, [member])).toEqual(new Map());
        await w.target.flush();
        expect(await w.target.organizationMembers(globex)).not.toContain('cara.cole@globex.example');
        expect(await w.target.organizationMembers(globex)).toContain('dan@globex.example');
        expect(await customerEmails(w.target, w.project)).toEqual(['dan@globex.example']);
        expect(await w.accountsWith('cara.cole@globex.example')).toBe(1);
      });

      it('removeFromProject by email alone (no account name given): the target finds the account, or says it could not', async () => {
        const w = await open({ accounts: [{ email: 'Cara.Cole@globex.example', fullName: 'Cara Cole', username: 'ccole', customer: true }] });
        const refused = await w.target.removeFromProject(w.project, [{ key: 'cara.cole@globex.example', email: 'Cara.Cole@globex.example' }]);
        await w.target.flush();
        const still = await customerEmails(w.target, w.project);
        // Never a silent success: either she left, or the reason is given for her key.
        if (refused.size === 0) expect(still).toEqual([]);
        else expect([...refused.keys()]).toEqual(['cara.cole@globex.example']);
      });

      it('leaveOrganization by email alone (no account name given, members not read first): the member leaves, or the reason is given', async () => {
        const w = await open({
          accounts: [{ email: 'Cara.Cole@globex.example', fullName: 'Cara Cole', username: 'ccole', customer: true }],
          organizations: [{ name: 'Globex', onProject: true, members: ['Cara.Cole@globex.example'] }],
        });
        const globex = byName(await w.target.organizations(w.project), 'Globex');
        const refused = await w.target.leaveOrganization(globex, [{ key: 'cara.cole@globex.example', email: 'Cara.Cole@globex.example' }]);
        await w.target.flush();
        const other = await w.another();
        const members = await other.organizationMembers(byName(await other.organizations(await other.getProject('ITH')), 'Globex'));
        if (refused.size === 0) expect(members).not.toContain('cara.cole@globex.example');
        else expect([...refused.keys()]).toEqual(['cara.cole@globex.example']);
      });

      it(`a lost answer: ${traits.answersCanBeLost ? 'the create happened and its answer was cut' : 'no answer can be lost in process, so the caller drops the outcome'}; the re-run makes no second account`, async () => {
        const w = await open();
        w.loseNextCreateAnswer?.();
        const [first] = await w.target.provision(w.project, [row('lost@example.com', 'Lost Answer')]);
        // Created, and (over a network) not proven made by this run: its invitation would be in doubt.
        expect(first).toEqual(traits.answersCanBeLost ? { status: 'created', unproven: true } : { status: 'created' });
        await w.target.flush();
        expect(await w.accountsWith('lost@example.com')).toBe(1);
        const rerun = await w.another();
        const project = await rerun.getProject('ITH');
        expect(await rerun.provision(project, [row('lost@example.com', 'Lost Answer')])).toEqual([expect.objectContaining({ status: 'existing' })]);
        await rerun.flush();
        expect(await w.accountsWith('lost@example.com')).toBe(1);
        expect(await customerEmails(rerun, project)).toEqual(['lost@example.com']);
      });
    });

    describe('organizations', () => {
      it('lists what exists (on the project or not); creates one; puts it on the project (twice is once); members join and leave', async () => {
        const w = await open({
          accounts: [{ email: 'member@example.com', fullName: 'Member One', customer: true }],
          organizations: [{ name: 'Globex' }, { name: 'Initech', onProject: true, members: ['member@example.com'] }],
        });
        const before = await w.target.organizations(w.project);
        expect(before.map((o) => [o.name, o.inProject]).sort()).toEqual([['Globex', false], ['Initech', true]]);
        expect(await w.target.organizationMembers(byName(before, 'Initech'))).toContain('member@example.com');

        const acme = await w.target.createOrganization('Acme Corp');
        expect(acme).toMatchObject({ name: 'Acme Corp', inProject: false });
        await w.target.addOrganizationToProject(w.project, acme);
        await w.target.addOrganizationToProject(w.project, acme);
        expect(byName(await w.target.organizations(w.project), 'Acme Corp')).toMatchObject({ id: acme.id, inProject: true });

        await w.target.provision(w.project, [row('joiner@example.com', 'Joiner One')]);
        const refused = await w.target.joinOrganization(acme, [
          { key: 'joiner@example.com', email: 'joiner@example.com' },
          { key: 'member@example.com', email: 'member@example.com' },
        ]);
        expect(refused).toEqual(new Map());
        await w.target.flush();
        const members = await w.target.organizationMembers(acme);
        expect(members).toContain('joiner@example.com');
        expect(members).toContain('member@example.com');
        expect(await w.target.listOrganizations(w.project)).toEqual([
          { name: 'Acme Corp', members: 2 },
          { name: 'Initech', members: 1 },
        ]);
        expect((await w.target.listOrganizations()).map((o) => o.name)).toEqual(['Acme Corp', 'Globex', 'Initech']);

        expect(await w.target.leaveOrganization(acme, [{ key: 'joiner@example.com', email: 'joiner@example.com' }])).toEqual(new Map());
        await w.target.flush();
        expect(await w.target.organizationMembers(acme)).not.toContain('joiner@example.com');
        expect(await w.target.organizationMembers(acme)).toContain('member@example.com');
        // Leaving is not leaving the project.
        expect(await customerEmails(w.target, w.project)).toEqual(['joiner@example.com', 'member@example.com']);
      });

      it(`an organization create whose answer ${traits.answersCanBeLost ? 'is lost after the write' : 'cannot be lost (in process)'}: the organization is there once, and creating it again finds it`, async () => {
        const w = await open();
        w.loseNextCreateAnswer?.('organization');
        const made = await w.target.createOrganization('Lost Answer Ltd');
        expect(made).toMatchObject({ name: 'Lost Answer Ltd', inProject: false });
        await w.target.flush();
        const other = await w.another();
        expect((await other.listOrganizations()).filter((o) => o.name === 'Lost Answer Ltd')).toHaveLength(1);
        const named = byName(await other.organizations(await other.getProject('ITH')), 'Lost Answer Ltd');
        expect(named.id).toBe(made.id);
      });

      it('someone without an account cannot join: the reason is given for that key, the others join', async () => {
        const w = await open({ accounts: [{ email: 'real@example.com', fullName: 'Real One', customer: true }], organizations: [{ name: 'Acme Corp', onProject: true }] });
        const acme = byName(await w.target.organizations(w.project), 'Acme Corp');
        const refused = await w.target.joinOrganization(acme, [
          { key: 'ghost@example.com', email: 'ghost@example.com' },
          { key: 'real@example.com', email: 'real@example.com' },
        ]);
        expect([...refused.keys()]).toEqual(['ghost@example.com']);
        expect(refused.get('ghost@example.com')).toContain('ghost@example.com');
        await w.target.flush();
        expect(await w.target.organizationMembers(acme)).toContain('real@example.com');
      });

      it('through a run: each missing organization created once (first spelling), an existing name used, each put on the project once; the second run does nothing', async () => {
        const w = await open({ accounts: [{ email: 'cara.cole@globex.example', fullName: 'Cara Cole', username: 'ccole' }], organizations: [{ name: 'Globex' }] });
        const first = await runOrgs(w.target);
        expect(first.summary.ok).toBe(true);
        expect(first.summary.organizations).toEqual({ created: 2, addedToProject: 3, memberships: 6 });
        expect(await w.target.listOrganizations(w.project)).toEqual([
          { name: 'Acme Corp', members: 2 },
          { name: 'Globex', members: 2 },
          { name: 'Support Partners', members: 2 },
        ]);
        const rerun = await w.another();
        const second = await runOrgs(rerun);
        expect(second.summary.organizations).toEqual({ created: 0, addedToProject: 0, memberships: 0 });
        expect((await rerun.listOrganizations()).map((o) => o.name)).toEqual(['Acme Corp', 'Globex', 'Support Partners']);
        expect(await customerEmails(rerun, await rerun.getProject('ITH'))).toEqual(ORG_ROWS.map((r) => r.email.toLowerCase()).sort());
      });
    });

    describe('the invitation ledger', () => {
      it('add keeps the record it has; get, list and count read it; committed, another target sees it', async () => {
        const w = await open();
        const ledger = w.target.ledger;
        ledger.add([record('a@example.com'), record('b@example.com', { status: 'suppressed', suppressedBy: 'flag' })]);
        ledger.add([record('a@example.com', { status: 'sent', fullName: 'Not This One' })]);
        expect(ledger.get('ITH', 'a@example.com')).toMatchObject({ status: 'pending', fullName: 'Name of a@example.com' });
        expect(ledger.list('ITH').map((r) => r.key).sort()).toEqual(['a@example.com', 'b@example.com']);
        expect(ledger.count('ITH', 'pending')).toBe(1);
        expect(ledger.count('ITH', 'suppressed')).toBe(1);
        expect(ledger.get('OTHER', 'a@example.com')).toBeUndefined();
        await ledger.commit();
        const other = await w.another();
        expect(other.ledger.get('ITH', 'a@example.com')).toMatchObject({ status: 'pending' });
        expect(other.ledger.count('ITH', 'suppressed')).toBe(1);
      });

      it('a claim is durable before it returns (another target sees it `sending` at once); an outcome recorded by update is durable at the commit', async () => {
        const w = await open();
        w.target.ledger.add([record('c@example.com')]);
        await w.target.ledger.commit();
        const [claimed] = await w.target.ledger.claimForSending('ITH', ['c@example.com'], 'run-a');
        expect(claimed).toMatchObject({ status: 'sending', runId: 'run-a' });
        expect((await w.another()).ledger.get('ITH', 'c@example.com')).toMatchObject({ status: 'sending', runId: 'run-a' });
        w.target.ledger.update({ ...(claimed as InvitationRecord), status: 'sent', messageId: '<c@example.com>' });
        expect(w.target.ledger.get('ITH', 'c@example.com')).toMatchObject({ status: 'sent' });
        await w.target.ledger.commit();
        expect((await w.another()).ledger.get('ITH', 'c@example.com')).toMatchObject({ status: 'sent', messageId: '<c@example.com>' });
        expect(w.target.ledger.count('ITH', 'sending')).toBe(0);
      });

      it('claimForSending is at most once across two claimers at the same moment: disjoint, together everything; nothing is claimed twice', async () => {
        const w = await open();
        const keys = Array.from({ length: 12 }, (_, i) => `p${i}@example.com`);
        w.target.ledger.add(keys.map((k) => record(k)));
        await w.target.ledger.commit();
        const other = await w.another();
        const [a, b] = await Promise.all([w.target.ledger.claimForSending('ITH', keys, 'run-a'), other.ledger.claimForSending('ITH', [...keys].reverse(), 'run-b')]);
        const aKeys = a.map((r) => r.key);
        const bKeys = b.map((r) => r.key);
        expect(aKeys.filter((k) => bKeys.includes(k))).toEqual([]);
        expect([...aKeys, ...bKeys].sort()).toEqual([...keys].sort());
        for (const r of a) expect(r).toMatchObject({ status: 'sending', runId: 'run-a' });
        for (const r of b) expect(r).toMatchObject({ status: 'sending', runId: 'run-b' });
        // Claimed already: a third claim gets nothing, on either target.
        expect(await w.target.ledger.claimForSending('ITH', keys, 'run-c')).toEqual([]);
        expect(await other.ledger.claimForSending('ITH', keys, 'run-c')).toEqual([]);
      });

      it('claimForSending with `expected` (a resend): compare-and-swap, so two resends of the same failed record claim it once', async () => {
        const w = await open();
        w.target.ledger.add([record('f@example.com', { status: 'failed', reason: 'refused', runId: 'old-run', updatedAt: '2026-01-02T00:00:00.000Z' })]);
        await w.target.ledger.commit();
        const other = await w.another();
        const seen = w.target.ledger.get('ITH', 'f@example.com') as InvitationRecord;
        const expected = new Map([[seen.key, seen]]);
        // Without `expected` a failed record is not claimable at all.
        expect(await w.target.ledger.claimForSending('ITH', [seen.key], 'run-x')).toEqual([]);
        const [a, b] = await Promise.all([
          w.target.ledger.claimForSending('ITH', [seen.key], 'run-a', expected),
          other.ledger.claimForSending('ITH', [seen.key], 'run-b', expected),
        ]);
        expect(a.length + b.length).toBe(1);
      });

      it('suppress: pending records become suppressed (by whom), durably; one claimed meanwhile is left as it is', async () => {
        const w = await open();
        w.target.ledger.add([record('s1@example.com'), record('s2@example.com')]);
        await w.target.ledger.commit();
        await w.target.ledger.claimForSending('ITH', ['s2@example.com'], 'run-a');
        await w.target.ledger.suppress('ITH', ['s1@example.com', 's2@example.com', 'nobody@example.com'], 'project-setting');
        expect(w.target.ledger.get('ITH', 's1@example.com')).toMatchObject({ status: 'suppressed', suppressedBy: 'project-setting' });
        expect(w.target.ledger.get('ITH', 's2@example.com')).toMatchObject({ status: 'sending', runId: 'run-a' });
        expect(w.target.ledger.get('ITH', 'nobody@example.com')).toBeUndefined();
        const other = await w.another();
        expect(other.ledger.get('ITH', 's1@example.com')).toMatchObject({ status: 'suppressed', suppressedBy: 'project-setting' });
      });

      it("inDoubt: `sending` of a run that is gone, or of the caller's own run; not of another run alive now", async () => {
        const w = await open();
        const live = w.liveRunId();
        // The caller's own run is alive too (it is the caller): its `sending` records are in doubt to it.
        const own = w.liveRunId();
        w.target.ledger.add([record('gone@example.com'), record('busy@example.com'), record('mine@example.com'), record('waiting@example.com')]);
        await w.target.ledger.commit();
        await w.target.ledger.claimForSending('ITH', ['gone@example.com'], 'a-run-that-ended');
        await w.target.ledger.claimForSending('ITH', ['busy@example.com'], live);
        await w.target.ledger.claimForSending('ITH', ['mine@example.com'], own);
        expect(w.target.ledger.count('ITH', 'sending')).toBe(3);
        expect(w.target.ledger.count('ITH', 'pending')).toBe(1);
        expect(w.target.ledger.inDoubt('ITH')).toBe(1);
        expect(w.target.ledger.inDoubt('ITH', own)).toBe(2);
        expect(w.target.ledger.inDoubt('ITH', live)).toBe(2);
        // A resend of in-doubt invitations never takes the one a live run is sending.
        const seen = new Map(w.target.ledger.list('ITH').map((r) => [r.key, r]));
        const resent = await w.target.ledger.claimForSending('ITH', ['gone@example.com', 'busy@example.com'], 'resend', seen);
        expect(resent.map((r) => r.key)).toEqual(['gone@example.com']);
      });
    });
  });
}
