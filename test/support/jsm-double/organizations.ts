/**
 * Customer organizations of the JSM double (docs/jsm-api.md "Organizations"): the organization list,
 * create, members, and the organizations of a desk. All need `X-ExperimentalApi: opt-in`. Writes
 * meet the same faults as every write (503, cut-after-write, 429), in server.ts.
 */
import { seesAllOrganizations, view, type Ctx, type State } from './routes.js';
import type { Organization, User } from './types.js';
import { experimental, EXPERIMENTAL_REFUSED, jsmError, jsmUser, page, type Reply } from './wire.js';

type Handler = (ctx: Ctx, m: RegExpMatchArray) => Reply;
const SD = '/rest/servicedeskapi';

const ORG_NOT_FOUND = (): Reply => jsmError(404, 'The organization does not exist.', 'sd.organization.error.not.found');

function orgJson(base: string, o: Organization): unknown {
  // Ids are strings in answers (a number in the desk request).
  return { id: o.id, name: o.name, _links: { self: `${base}${SD}/organization/${o.id}` } };
}

function body(ctx: Ctx): Record<string, unknown> {
  const b = ctx.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? b as Record<string, unknown> : {};
}

function optIn(handler: Handler): Handler {
  return (ctx, m) => (experimental(ctx) ? handler(ctx, m) : EXPERIMENTAL_REFUSED());
}

export function newOrganization(s: State, name: string, members: Iterable<string> = []): Organization {
  const org: Organization = { id: String(s.nextOrganizationId++), name, members: new Set([...members].map((m) => m.toLowerCase())) };
  s.organizations.push(org);
  return org;
}

export const organizationRoutes: { method: string; pattern: RegExp; handler: Handler }[] = [
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization$/, handler: optIn((ctx) =>
    page(ctx.state.organizations
      // A non-agent sees only the organizations it belongs to.
      .filter((o) => seesAllOrganizations(ctx.state) || (ctx.user !== null && o.members.has(ctx.user.toLowerCase())))
      .map((o) => orgJson(ctx.base, o)), ctx.query, ctx.base, `${SD}/organization`)) },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/organization$/, handler: optIn((ctx) => {
    const name = typeof body(ctx).name === 'string' ? (body(ctx).name as string).trim() : '';
    if (name === '') return jsmError(400, 'You must provide a name for the organization.', 'sd.organization.name.required');
    // Unconfirmed on real instances; the double refuses a second organization of the same name.
    if (ctx.state.organizations.some((o) => o.name.toLowerCase() === name.toLowerCase())) {
      return jsmError(400, 'An organization with that name already exists.', 'sd.organization.name.exists');
    }
    ctx.state.organizationCreates.push(name);
    return { status: 201, json: orgJson(ctx.base, newOrganization(ctx.state, name)) };
  }) },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)$/, handler: optIn((ctx, m) => {
    const org = ctx.state.organizations.find((o) => o.id === m[1]);
    return org ? { status: 200, json: orgJson(ctx.base, org) } : ORG_NOT_FOUND();
  }) },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: optIn((ctx, m) => {
    const org = ctx.state.organizations.find((o) => o.id === m[1]);
    if (!org) return ORG_NOT_FOUND();
    const users = [...org.members].map((n) => ctx.state.users.get(n)).filter((u): u is User => u !== undefined);
    return page(users.map((u) => jsmUser(ctx.base, view(ctx.state, u))), ctx.query, ctx.base, `${SD}/organization/${org.id}/user`);
  }) },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: optIn((ctx, m) => {
    const org = ctx.state.organizations.find((o) => o.id === m[1]);
    if (!org) return ORG_NOT_FOUND();
    const names = body(ctx).usernames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      return jsmError(400, 'You must provide the usernames of the users to add.', 'sd.organization.usernames.required');
    }
    const missing = (names as string[]).filter((n) => !ctx.state.users.has(n.toLowerCase()));
    // All or nothing, as the desk's customers.
    if (missing.length > 0) return jsmError(400, `The following users do not exist: ${missing.join(', ')}`, 'sd.organization.users.not.found');
    for (const n of names as string[]) org.members.add(n.toLowerCase());
    ctx.state.organizationJoins.push(...(names as string[]).map((n) => `${org.id}/${n.toLowerCase()}`));
    return { status: 204 };
  }) },
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/organization\/([^/]+)\/user$/, handler: optIn((ctx, m) => {
    const org = ctx.state.organizations.find((o) => o.id === m[1]);
    if (!org) return ORG_NOT_FOUND();
    const names = body(ctx).usernames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      return jsmError(400, 'You must provide the usernames of the users to remove.', 'sd.organization.usernames.required');
    }
    // A user who is not a member is no error: nothing changes (204, no body).
    for (const n of names as string[]) {
      if (org.members.delete(n.toLowerCase())) ctx.state.organizationLeaves.push(`${org.id}/${n.toLowerCase()}`);
    }
    return { status: 204 };
  }) },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/organization$/, handler: optIn((ctx, m) => {
    const desk = ctx.state.desks.find((d) => d.id === m[1]);
    if (!desk) return jsmError(404, 'The service project you are trying to view does not exist.', 'sd.servicedesk.error.not.found');
    const orgs = ctx.state.organizations.filter((o) => desk.organizations.has(o.id));
    return page(orgs.map((o) => orgJson(ctx.base, o)), ctx.query, ctx.base, `${SD}/servicedesk/${desk.id}/organization`);
  }) },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/organization$/, handler: optIn((ctx, m) => {
    const desk = ctx.state.desks.find((d) => d.id === m[1]);
    if (!desk) return jsmError(404, 'The service project you are trying to view does not exist.', 'sd.servicedesk.error.not.found');
    const id = body(ctx).organizationId;
    // A number in the request, although answers give ids as strings.
    if (typeof id !== 'number' || !Number.isInteger(id)) return jsmError(400, 'The organizationId must be a number.', 'sd.organization.id.invalid');
    const org = ctx.state.organizations.find((o) => o.id === String(id));
    if (!org) return ORG_NOT_FOUND();
    if (!desk.organizations.has(org.id)) ctx.state.deskOrganizationAdds.push(`${desk.id}/${org.id}`);
    desk.organizations.add(org.id);
    return { status: 204 };
  }) },
];
