/**
 * Customer organizations of the Cloud double (docs/jsm-api.md "Jira Cloud"): list in pages, create
 * (an existing name answers with the existing organization), members by accountId, and the
 * organizations of a desk. Not experimental on Cloud: no opt-in header needed.
 */
import { accountIdsOf, DESK_NOT_FOUND, findDesk, obj, unknownIds, type Ctx, type Route, type State } from './routes.js';
import type { CloudAccount, CloudOrganization } from './types.js';
import { jsmError, jsmUser, page, SD, type Reply } from './wire.js';

const ORG_NOT_FOUND = (): Reply => jsmError(404, 'The organization does not exist.', 'sd.organization.error.not.found');

function orgJson(base: string, o: CloudOrganization): unknown {
  return { id: o.id, name: o.name, scimManaged: false, _links: { self: `${base}${SD}/organization/${o.id}` } };
}

export function newOrganization(s: State, name: string, members: Iterable<string> = []): CloudOrganization {
  const org: CloudOrganization = { id: String(s.nextOrganizationId++), name, members: new Set(members) };
  s.organizations.push(org);
  return org;
}

function findOrg(ctx: Ctx, id: string | undefined): CloudOrganization | undefined {
  return ctx.state.organizations.find((o) => o.id === id);
}

export const organizationRoutes: Route[] = [
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization$/, handler: (ctx) => {
    // `accountId`: only the organizations that account belongs to.
    const who = ctx.query.accountId;
    const orgs = ctx.state.organizations.filter((o) => who === undefined || o.members.has(who));
    return page(orgs.map((o) => orgJson(ctx.base, o)), ctx.query, ctx.base, `${SD}/organization`);
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/organization$/, handler: (ctx) => {
    const raw = obj(ctx.body).name;
    const name = typeof raw === 'string' ? raw.trim() : '';
    if (name === '' || name.length > 200) {
      return jsmError(400, 'The organization name must have between 1 and 200 characters.', 'sd.organization.name.invalid');
    }
    // The reference: "Returns the created organization or the existing organization if name already exists."
    const existing = ctx.state.organizations.find((o) => o.name.toLowerCase() === name.toLowerCase());
    if (existing) return { status: 201, json: orgJson(ctx.base, existing) };
    ctx.state.organizationCreates.push(name);
    return { status: 201, json: orgJson(ctx.base, newOrganization(ctx.state, name)) };
  } },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)$/, handler: (ctx, m) => {
    const org = findOrg(ctx, m[1]);
    return org ? { status: 200, json: orgJson(ctx.base, org) } : ORG_NOT_FOUND();
  } },
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)$/, handler: (ctx, m) => {
    const org = findOrg(ctx, m[1]);
    if (!org) return ORG_NOT_FOUND();
    // Deleted whatever its associations (desks included).
    ctx.state.organizations.splice(ctx.state.organizations.indexOf(org), 1);
    for (const d of ctx.state.desks) d.organizations.delete(org.id);
    return { status: 204 };
  } },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: (ctx, m) => {
    const org = findOrg(ctx, m[1]);
    if (!org) return ORG_NOT_FOUND();
    const users = [...org.members].map((id) => ctx.state.accounts.get(id)).filter((a): a is CloudAccount => a !== undefined);
    return page(users.map((a) => jsmUser(ctx.base, a)), ctx.query, ctx.base, `${SD}/organization/${org.id}/user`);
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: (ctx, m) => {
    const org = findOrg(ctx, m[1]);
    if (!org) return ORG_NOT_FOUND();
    const ids = accountIdsOf(ctx, 'users to add');
    if (!Array.isArray(ids)) return ids;
    const refused = unknownIds(ctx.state, ids);
    if (refused) return refused;
    for (const id of ids) {
      if (!org.members.has(id)) ctx.state.organizationJoins.push(`${org.id}/${id}`);
      org.members.add(id);
    }
    return { status: 204 };
  } },
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: (ctx, m) => {
    const org = findOrg(ctx, m[1]);
    if (!org) return ORG_NOT_FOUND();
    const ids = accountIdsOf(ctx, 'users to remove');
    if (!Array.isArray(ids)) return ids;
    for (const id of ids) org.members.delete(id);
    return { status: 204 };
  } },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/organization$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const orgs = ctx.state.organizations.filter((o) => desk.organizations.has(o.id));
    return page(orgs.map((o) => orgJson(ctx.base, o)), ctx.query, ctx.base, `${SD}/servicedesk/${desk.id}/organization`);
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/organization$/, handler: (ctx, m) => deskOrganization(ctx, m, 'add') },
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/organization$/, handler: (ctx, m) => deskOrganization(ctx, m, 'remove') },
];

/** `{"organizationId": <number>}`; already on (or not on) the desk is no error: 204, nothing changes. */
function deskOrganization(ctx: Ctx, m: RegExpMatchArray, what: 'add' | 'remove'): Reply {
  const desk = findDesk(ctx.state, m[1]);
  if (!desk) return DESK_NOT_FOUND();
  const id = obj(ctx.body).organizationId;
  if (typeof id !== 'number' || !Number.isInteger(id)) return jsmError(400, 'The organizationId must be a number.', 'sd.organization.id.invalid');
  const org = ctx.state.organizations.find((o) => o.id === String(id));
  if (what === 'remove') {
    desk.organizations.delete(String(id));
    return { status: 204 };
  }
  if (!org) return ORG_NOT_FOUND();
  if (!desk.organizations.has(org.id)) ctx.state.deskOrganizationAdds.push(`${desk.id}/${org.id}`);
  desk.organizations.add(org.id);
  return { status: 204 };
}
