/**
 * Organizations in the local store: by lower-cased name, each with the projects it is on and its
 * members (lower-cased emails). Every change is a store operation, so it is replayed on a fresher
 * copy when another process wrote the store meanwhile, and made durable by the same commit as the
 * customers of the chunk.
 */
import type { OrganizationInfo, OrganizationMember, OrganizationView, ProjectInfo } from '../../core/types.js';
import type { StoredOrganization } from '../../store/format.js';
import type { LocalStore } from '../../store/store.js';

export function organizationsOf(store: LocalStore, project: ProjectInfo): OrganizationInfo[] {
  return Object.entries(store.data.organizations).map(([id, org]) => ({ id, name: org.name, inProject: org.projects.includes(project.key) }));
}

export function membersOf(store: LocalStore, org: OrganizationInfo): Set<string> {
  return new Set(Object.keys(store.data.organizations[org.id]?.members ?? {}));
}

export function createOrganization(store: LocalStore, name: string): OrganizationInfo {
  const id = name.toLowerCase();
  const fresh: StoredOrganization = { name, createdAt: new Date().toISOString(), projects: [], members: {} };
  // `??=`: replayed on a copy where another process created it first, theirs stays.
  store.mutate((data) => {
    data.organizations[id] ??= { ...fresh, projects: [], members: {} };
  });
  const org = store.data.organizations[id] ?? fresh;
  return { id, name: org.name, inProject: false };
}

export function addToProject(store: LocalStore, project: ProjectInfo, org: OrganizationInfo): void {
  store.mutate((data) => {
    const stored = data.organizations[org.id];
    if (stored && !stored.projects.includes(project.key)) stored.projects.push(project.key);
  });
}

export function join(store: LocalStore, org: OrganizationInfo, members: readonly OrganizationMember[]): Map<string, string> {
  const now = new Date().toISOString();
  const refused = new Map<string, string>();
  store.mutate((data) => {
    const stored = data.organizations[org.id];
    if (!stored) return;
    for (const m of members) if (data.customers.has(m.key)) stored.members[m.key] ??= now;
  });
  const stored = store.data.organizations[org.id];
  for (const m of members) {
    if (!stored) refused.set(m.key, `the organization ${org.id} is not in the store`);
    else if (!store.data.customers.has(m.key)) refused.set(m.key, `${m.email} is not a customer in the store`);
  }
  return refused;
}

/** Members leave the organization: a store operation (the next commit rewrites the snapshot atomically). */
export function leave(store: LocalStore, org: OrganizationInfo, members: readonly OrganizationMember[]): Map<string, string> {
  store.mutate((data) => {
    const stored = data.organizations[org.id];
    if (!stored) return;
    for (const m of members) delete stored.members[m.key];
  });
  return new Map();
}

/** Customers leave the project; their accounts (and other projects) stay. Logged as changed customers. */
export function removeFromProject(store: LocalStore, project: ProjectInfo, members: readonly OrganizationMember[]): Map<string, string> {
  store.mutate((data) => {
    const customers: string[] = [];
    for (const m of members) {
      const found = data.customers.get(m.key);
      if (!found || !found.projects.includes(project.key)) continue;
      // A new array, never a splice: customers read from the store share their project lists.
      found.projects = found.projects.filter((p) => p !== project.key);
      customers.push(m.key);
    }
    return { customers, replaced: customers.length };
  });
  return new Map();
}

export function listOrganizations(store: LocalStore, project?: ProjectInfo): OrganizationView[] {
  return Object.values(store.data.organizations)
    .filter((org) => project === undefined || org.projects.includes(project.key))
    .map((org) => ({ name: org.name, members: Object.keys(org.members).length }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
