/**
 * The worlds the target contract (contract.ts) runs in: one per target, each a fresh project ITH
 * ("IT Help") holding the seed. A new target adds its `MakeWorld` and `Traits` here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../../src/core/target.js';
import { runIdFor } from '../../src/store/lock.js';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { openRestTarget } from '../../src/targets/rest/index.js';
import { openCloudTarget } from '../../src/targets/cloud/index.js';
import { checkBaseUrl } from '../../src/targets/http/deployment.js';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import { mulberry32, startJsmDouble, type JsmDoubleOptions } from '../support/jsm-double.js';
import { MemoryTarget } from '../support/memory-target.js';
import type { MakeWorld, Traits, World, WorldSeed } from './contract.js';

/** The in-memory target of the core's tests (test/support/memory-target.ts): it must keep the contract too. */
export const MEMORY_TRAITS: Traits = { lookupIsCheap: true, inactiveAccounts: false, sharedEmails: false, recordsInvitations: true, answersCanBeLost: false, createsProjects: true };

export const memoryWorld: MakeWorld = async (seed) => {
  const target = MemoryTarget.withProject('ITH', 'IT Help');
  for (const a of seed.accounts ?? []) target.addCustomer(a.email, a.fullName, a.customer ? ['ITH'] : []);
  for (const o of seed.organizations ?? []) {
    const org = await target.createOrganization(o.name);
    if (o.onProject) target.orgs.get(org.id)?.projects.add('ITH');
    for (const m of o.members ?? []) target.orgs.get(org.id)?.members.add(m.toLowerCase());
  }
  const opened: Target[] = [target];
  return {
    target,
    project: await target.getProject('ITH'),
    another: async () => {
      const other = target.another();
      opened.push(other);
      return other;
    },
    accountsWith: async (email) => (target.customers.has(email.toLowerCase()) ? 1 : 0),
    liveRunId: () => {
      const id = `live-${randomUUID()}`;
      target.ledger.liveRuns.add(id);
      return id;
    },
    close: async () => {
      await Promise.all(opened.map((t) => t.close()));
    },
  };
};

/** The local JSON store (src/targets/local over src/store), in a temp folder. */
export const LOCAL_TRAITS: Traits = { lookupIsCheap: true, inactiveAccounts: false, sharedEmails: false, recordsInvitations: true, answersCanBeLost: false, createsProjects: true };

export const localWorld: MakeWorld = async (seed) => {
  const dir = await mkdtemp(join(tmpdir(), 'jsm-contract-local-'));
  const path = join(dir, 'jsm-store.json');
  const open = (): Promise<LocalTarget> => LocalTarget.open(path, {}, { commitEveryMs: 0 });
  const target = await open();
  const opened: Target[] = [target];
  const project = await target.createProject('ITH', 'IT Help');
  await seedThrough(target, seed);
  return {
    target,
    project,
    another: async () => {
      const other = await open();
      opened.push(other);
      return other;
    },
    // What the store on disk holds (the test flushes first).
    accountsWith: async (email) => ((await LocalStore.open(path)).data.customers.has(email.toLowerCase()) ? 1 : 0),
    liveRunId: () => runIdFor(randomUUID()),
    close: async () => {
      await Promise.all(opened.map((t) => t.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
};

/** The seed, written through the target itself (the store has no other way in): non-customers are customers of another project. */
async function seedThrough(target: Target, seed: WorldSeed): Promise<void> {
  const accounts = seed.accounts ?? [];
  // A username of its own is not kept here (accounts are keyed by email): the contract gives one only where another target needs it.
  if (accounts.some((a) => a.active === false)) throw new Error('this target has no inactive accounts (Traits.inactiveAccounts)');
  const customers = accounts.filter((a) => a.customer);
  const others = accounts.filter((a) => !a.customer);
  const ith = await target.getProject('ITH');
  const asRow = (a: { email: string; fullName: string }) => ({ email: a.email, key: a.email.toLowerCase(), fullName: a.fullName, exists: null });
  if (customers.length > 0) await target.provision(ith, customers.map(asRow));
  if (others.length > 0) await target.provision(await target.createProject('SEED', 'Seed Desk'), others.map(asRow));
  for (const o of seed.organizations ?? []) {
    const org = await target.createOrganization(o.name);
    if (o.onProject) await target.addOrganizationToProject(ith, org);
    const members = (o.members ?? []).map((m) => ({ key: m.toLowerCase(), email: m }));
    if (members.length > 0) await target.joinOrganization(org, members);
  }
  await target.flush();
}

/** JSM Data Center over REST (src/targets/rest) against the double over real HTTP on 127.0.0.1. */
export const DATA_CENTER_TRAITS: Traits = { lookupIsCheap: false, inactiveAccounts: true, sharedEmails: true, recordsInvitations: false, answersCanBeLost: true, createsProjects: false };

/** The Data Center world on a double configured otherwise (a context path, its language, how it answers a duplicate). */
export function dataCenterWorldWith(options: JsmDoubleOptions): MakeWorld {
  return (seed) => openDataCenterWorld(seed, options);
}

export const dataCenterWorld: MakeWorld = (seed) => openDataCenterWorld(seed, {});

async function openDataCenterWorld(seed: WorldSeed, options: JsmDoubleOptions): Promise<World> {
  const username = (email: string): string => (seed.accounts ?? []).find((a) => a.email.toLowerCase() === email.toLowerCase())?.username ?? email;
  const jsm = await startJsmDouble({
    ...options,
    desks: 3,
    projects: [{ key: 'ITH', name: 'IT Help', customers: (seed.accounts ?? []).filter((a) => a.customer).map((a) => a.username ?? a.email) }],
    existingUsers: (seed.accounts ?? []).map((a) => ({ name: a.username ?? a.email, emailAddress: a.email, displayName: a.fullName, active: a.active ?? true })),
    organizations: (seed.organizations ?? []).map((o) => ({ name: o.name, members: (o.members ?? []).map(username), projects: o.onProject ? ['ITH'] : [] })),
  });
  const dir = await mkdtemp(join(tmpdir(), 'jsm-contract-rest-'));
  const open = () => openRestTarget(jsm.url, { backoffMs: 5, random: mulberry32(7), env: { JSM_TOKEN: 'test-token', JSM_STATE_DIR: dir } });
  return jsmWorld(dir, open, {
    accountsWith: (email) => [...jsm.users.values()].filter((u) => u.emailAddress.toLowerCase() === email.toLowerCase()).length,
    loseNextCreate: (path) => jsm.setFaults({ failNext: [{ method: 'POST', path, kind: 'cut-after-write' }] }),
    close: () => jsm.close(),
  });
}

/**
 * A world of a JSM target against its double over HTTP (Data Center or Cloud): targets opened on
 * one state folder, the double's accounts counted, the next create's answer lost on request.
 */
async function jsmWorld(
  dir: string,
  open: () => Promise<Target>,
  double: { accountsWith: (email: string) => number; loseNextCreate: (path: string) => void; close: () => Promise<void> },
): Promise<World> {
  const target = await open();
  const opened: Target[] = [target];
  return {
    target,
    project: await target.getProject('ITH'),
    another: async () => {
      const other = await open();
      opened.push(other);
      return other;
    },
    accountsWith: async (email) => double.accountsWith(email),
    liveRunId: () => runIdFor(randomUUID()),
    loseNextCreateAnswer: (what = 'customer') => double.loseNextCreate(what === 'customer' ? '/rest/servicedeskapi/customer' : '/rest/servicedeskapi/organization'),
    close: async () => {
      await Promise.all(opened.map((t) => t.close().catch(() => undefined)));
      await double.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * JSM Cloud over REST (src/targets/cloud) against the Cloud double over real HTTP on 127.0.0.1.
 * Cloud keeps one account per email and has no usernames (a seed's username is not kept: accounts
 * are named by accountId). Its accounts can be deactivated, but its user search shows active
 * accounts only, so a look-up cannot tell one from none: `inactiveAccounts` is false here, and the
 * Cloud target's own tests (test/cloud/target.test.ts) check that the create's 409 fails such a row.
 */
export const CLOUD_TRAITS: Traits = { lookupIsCheap: false, inactiveAccounts: false, sharedEmails: false, recordsInvitations: false, answersCanBeLost: true, createsProjects: false };

export const cloudWorld: MakeWorld = async (seed) => {
  const jsm = await startJsmCloudDouble({
    desks: 3,
    projects: [{ key: 'ITH', name: 'IT Help', customers: (seed.accounts ?? []).filter((a) => a.customer).map((a) => a.email) }],
    existingAccounts: (seed.accounts ?? []).map((a) => ({ email: a.email, displayName: a.fullName, active: a.active ?? true })),
    organizations: (seed.organizations ?? []).map((o) => ({ name: o.name, members: o.members ?? [], projects: o.onProject ? ['ITH'] : [] })),
  });
  const dir = await mkdtemp(join(tmpdir(), 'jsm-contract-cloud-'));
  const open = () => openCloudTarget(checkBaseUrl(jsm.url), { backoffMs: 5, random: mulberry32(7), env: { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: dir } });
  return jsmWorld(dir, open, {
    accountsWith: (email) => [...jsm.accounts.values()].filter((a) => a.emailAddress.toLowerCase() === email.toLowerCase()).length,
    loseNextCreate: (path) => jsm.setFailNext([{ method: 'POST', path, kind: 'cut-after-write' }]),
    close: () => jsm.close(),
  });
};
