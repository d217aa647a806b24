/**
 * The JSM Cloud resources the double serves, after authentication, the burst limit and faults:
 * the platform API (/rest/api/3, and /2 where Cloud serves the same), customers and service desks.
 * Organizations are in organizations.ts. Handlers are synchronous.
 */
import { randomUUID } from 'node:crypto';
import type { CloudAccount, CloudCaller, CloudCreateRecord, CloudDesk, CloudOrganization } from './types.js';
import { isEmail, jsmError, jsmUser, page, platformError, platformUser, SD, type Reply } from './wire.js';

export interface State {
  accounts: Map<string, CloudAccount>;
  desks: CloudDesk[];
  organizations: CloudOrganization[];
  nextOrganizationId: number;
  properties: Map<string, unknown>;
  creates: CloudCreateRecord[];
  organizationCreates: string[];
  organizationJoins: string[];
  deskOrganizationAdds: string[];
  caller: CloudCaller;
  hiddenEmailSearch: 'matches' | 'not-matched';
  userSearchFindsCustomers: boolean;
  onCreate?: (count: number, account: CloudAccount) => void;
}

export interface Ctx {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  base: string;
  state: State;
  /** accountId of the caller (null on anonymous resources). */
  accountId: string | null;
}

export type Handler = (ctx: Ctx, m: RegExpMatchArray) => Reply;
export interface Route { method: string; pattern: RegExp; handler: Handler }

export function obj(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
}

/** Lower-cased email -> accountId, rebuilt when the accounts changed size behind its back (benchmarks create thousands). */
const emailIndex = new WeakMap<Map<string, CloudAccount>, { size: number; ids: Map<string, string> }>();
export function byEmail(s: State, email: string): CloudAccount | undefined {
  const e = email.trim().toLowerCase();
  let index = emailIndex.get(s.accounts);
  if (!index || index.size !== s.accounts.size) {
    index = { size: s.accounts.size, ids: new Map([...s.accounts.values()].map((a) => [a.emailAddress.toLowerCase(), a.accountId])) };
    emailIndex.set(s.accounts, index);
  }
  const hit = s.accounts.get(index.ids.get(e) ?? '');
  return hit && hit.emailAddress.toLowerCase() === e ? hit : undefined;
}

/** A desk by its id, or by a project identifier (id or key): the reference accepts either. */
export function findDesk(s: State, idOrKey: string | undefined): CloudDesk | undefined {
  const k = decodeURIComponent(idOrKey ?? '');
  return s.desks.find((d) => d.id === k) ?? s.desks.find((d) => d.projectId === k || d.projectKey.toUpperCase() === k.toUpperCase());
}
function findProject(s: State, keyOrId: string | undefined): CloudDesk | undefined {
  const k = decodeURIComponent(keyOrId ?? '').toUpperCase();
  return s.desks.find((d) => d.projectKey.toUpperCase() === k || d.projectId === k);
}
export const DESK_NOT_FOUND = (): Reply =>
  jsmError(404, 'The service project you are trying to view does not exist.', 'sd.servicedesk.error.not.found');
const PROJECT_NOT_FOUND = (key: string | undefined): Reply =>
  platformError(404, [`No project could be found with key '${decodeURIComponent(key ?? '')}'.`]);

/** A portal-only customer's accountId: `qm:<uuid>:<uuid>`, the shape of the reference's example. */
export function customerAccountId(): string {
  return `qm:${randomUUID()}:${randomUUID().replace(/-/g, '').slice(0, 23)}`;
}

/**
 * `accountIds` of a body: a non-empty array of strings. `usernames` is refused: the reference says
 * the property "is no longer available" on Cloud.
 */
export function accountIdsOf(ctx: Ctx, what: string): string[] | Reply {
  const b = obj(ctx.body);
  if (b.usernames !== undefined) {
    return jsmError(400, `usernames is no longer available: use accountIds to name the ${what}.`, 'sd.api.usernames.not.supported');
  }
  const ids = b.accountIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((n) => typeof n === 'string')) {
    return jsmError(400, `You must provide the accountIds of the ${what}.`, 'sd.api.accountids.required');
  }
  return ids as string[];
}

/** accountIds the double does not know: all or nothing (nobody is added when one is unknown). */
export function unknownIds(s: State, ids: string[]): Reply | undefined {
  const missing = ids.filter((id) => !s.accounts.has(id));
  return missing.length === 0 ? undefined
    : jsmError(400, `The following accounts do not exist: ${missing.join(', ')}`, 'sd.api.accounts.not.found');
}

/** The desk customer listing's `query`: the start of any word of the display name, or of the email. */
function listingMatches(s: State, a: CloudAccount, q: string): boolean {
  const n = q.toLowerCase();
  const words = a.displayName.toLowerCase().split(/\s+/);
  if (a.displayName.toLowerCase().startsWith(n) || words.some((w) => w.startsWith(n))) return true;
  const emailVisible = !a.hideEmail || s.hiddenEmailSearch === 'matches';
  return emailVisible && a.emailAddress.toLowerCase().startsWith(n);
}

/**
 * `user/search?query=`: the start of the display name (or of a word of it) or of the email. A
 * query shaped like an email is matched against emails only (an observation on Cloud, see
 * docs/jsm-api.md). Active accounts only.
 */
function searchMatches(s: State, a: CloudAccount, q: string): boolean {
  const n = q.toLowerCase();
  const emailVisible = !a.hideEmail || s.hiddenEmailSearch === 'matches';
  const emailHit = emailVisible && a.emailAddress.toLowerCase().startsWith(n);
  if (isEmail(q)) return emailHit;
  const name = a.displayName.toLowerCase();
  return emailHit || name.startsWith(n) || name.split(/\s+/).some((w) => w.startsWith(n));
}

export function callerAccount(s: State): CloudAccount {
  return s.accounts.get(s.caller.accountId) ?? {
    accountId: s.caller.accountId, accountType: 'atlassian', emailAddress: s.caller.email,
    displayName: s.caller.displayName, active: true, hideEmail: false, createdVia: 'seed',
  };
}

function serverInfo(ctx: Ctx): Reply {
  return { status: 200, json: {
    baseUrl: ctx.base, displayUrl: ctx.base, displayUrlServicedeskHelpCenter: ctx.base,
    version: '1001.0.0-SNAPSHOT', versionNumbers: [1001, 0, 0], deploymentType: 'Cloud',
    buildNumber: 100290, buildDate: '2026-11-30T00:00:00.000+0000', serverTime: new Date().toISOString().replace('Z', '+0000'),
    scmInfo: 'a1b2c3d4e5f6', serverTitle: 'Jira', defaultLocale: { locale: 'en_US' }, serverTimeZone: 'Etc/UTC',
  } };
}

function deskJson(base: string, d: CloudDesk): unknown {
  return { id: d.id, projectId: d.projectId, projectName: d.projectName, projectKey: d.projectKey,
    _links: { self: `${base}${SD}/servicedesk/${d.id}` } };
}
function projectJson(base: string, d: CloudDesk, v: string): Record<string, unknown> {
  return { expand: 'description,lead,issueTypes,url,projectKeys,permissions,insight', self: `${base}/rest/api/${v}/project/${d.projectId}`,
    id: d.projectId, key: d.projectKey, name: d.projectName, projectTypeKey: 'service_desk', simplified: false,
    style: 'classic', isPrivate: false, properties: {} };
}

function createCustomer(ctx: Ctx): Reply {
  const s = ctx.state;
  if (!s.caller.admin) return jsmError(403, 'You do not have permission to create customers.', 'sd.customer.create.forbidden');
  const b = obj(ctx.body);
  const email = typeof b.email === 'string' ? b.email.trim() : '';
  // fullName is deprecated in favour of displayName; it still names the customer when displayName is absent.
  const name = typeof b.displayName === 'string' ? b.displayName.trim() : typeof b.fullName === 'string' ? b.fullName.trim() : '';
  if (!isEmail(email)) return jsmError(400, 'You must provide a valid email address.', 'sd.customer.create.email.invalid');
  if (name === '') return jsmError(400, 'You must provide a display name.', 'sd.customer.create.displayname.required');
  if (byEmail(s, email)) {
    const status = ctx.query.strictConflictStatusCode === 'true' ? 409 : 400;
    return jsmError(status, 'An account already exists for this email.', 'sd.customer.create.email.exists');
  }
  const account: CloudAccount = {
    accountId: customerAccountId(), accountType: 'customer', emailAddress: email, displayName: name,
    active: true, hideEmail: false, createdVia: 'customer',
  };
  s.accounts.set(account.accountId, account);
  const index = emailIndex.get(s.accounts);
  if (index) {
    index.ids.set(email.toLowerCase(), account.accountId);
    index.size = s.accounts.size;
  }
  s.creates.push({ accountId: account.accountId, email: email.toLowerCase(), time: Date.now(), answered: true });
  s.onCreate?.(s.creates.length, account);
  return { status: 201, json: jsmUser(ctx.base, account) };
}

const V = '(2|3)';
export const routes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/serverInfo$`), handler: serverInfo },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/info$/, handler: (ctx) => ({ status: 200, json: {
    version: '10.3.0-SNAPSHOT', platformVersion: '1001.0.0-SNAPSHOT', buildDate: { iso8601: '2026-11-30T00:00:00+0000', epochMillis: 1795996800000 },
    buildChangeSet: 'a1b2c3d4e5f6', isLicensedForUse: true, _links: { self: `${ctx.base}${SD}/info` },
  } }) },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/myself$`), handler: (ctx, m) => ({ status: 200, json: {
    ...platformUser(ctx.base, callerAccount(ctx.state), m[1] === '2' ? '2' : '3'),
    groups: { size: 0, items: [] }, applicationRoles: { size: 1, items: [] }, expand: 'groups,applicationRoles',
  } }) },
  // `permissions` is required on Cloud (since February 2019); keys the double does not know are left out.
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/mypermissions$`), handler: (ctx) => {
    const asked = (ctx.query.permissions ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    if (asked.length === 0) return platformError(400, ['The permissions query parameter is required.']);
    const key = ctx.query.projectKey;
    if (key !== undefined && !findProject(ctx.state, key)) return PROJECT_NOT_FOUND(key);
    const c = ctx.state.caller;
    const known: Record<string, [string, string, boolean]> = {
      USER_PICKER: ['27', 'GLOBAL', c.browseUsers], ADMINISTER: ['0', 'GLOBAL', c.admin],
      ADMINISTER_PROJECTS: ['23', 'PROJECT', c.admin], BROWSE_PROJECTS: ['10', 'PROJECT', true],
    };
    const permissions = Object.fromEntries(asked.filter((k) => known[k]).map((k) => {
      const [id, type, have] = known[k]!;
      return [k, { id, key: k, name: k, type, description: '', havePermission: have }];
    }));
    return { status: 200, json: { permissions } };
  } },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/user$`), handler: (ctx, m) => {
    const id = ctx.query.accountId;
    if (id === undefined || id === '') return platformError(400, ['The accountId query parameter needs to be provided.']);
    const a = id === ctx.state.caller.accountId ? callerAccount(ctx.state) : ctx.state.accounts.get(id);
    return a ? { status: 200, json: platformUser(ctx.base, a, m[1] === '2' ? '2' : '3') }
      : platformError(404, [`Specified user does not exist or you do not have required permissions`]);
  } },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/user/search$`), handler: (ctx, m) => {
    const { query, accountId } = ctx.query;
    if (ctx.query.username !== undefined) {
      return platformError(400, ["The query parameter 'username' is not supported in GDPR strict mode."]);
    }
    if ((query === undefined || query === '') && (accountId === undefined || accountId === '')) {
      return platformError(400, ['One of the query or accountId parameters must be provided.']);
    }
    const s = ctx.state;
    // Without Browse users and groups the search answers an empty list, not 403.
    if (!s.caller.browseUsers) return { status: 200, json: [] };
    const startAt = Math.max(0, Number.parseInt(ctx.query.startAt ?? '0', 10) || 0);
    const max = Math.min(1000, Math.max(0, Number.parseInt(ctx.query.maxResults ?? '50', 10) || 50));
    const all = [callerAccount(s), ...[...s.accounts.values()].filter((a) => a.accountId !== s.caller.accountId)];
    const found = all.filter((a) => a.active && (s.userSearchFindsCustomers || a.accountType !== 'customer')
      && (accountId ? a.accountId === accountId : searchMatches(s, a, query ?? '')));
    return { status: 200, json: found.slice(startAt, startAt + max).map((a) => platformUser(ctx.base, a, m[1] === '2' ? '2' : '3')) };
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/customer$/, handler: createCustomer },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk$/, handler: (ctx) =>
    page(ctx.state.desks.map((d) => deskJson(ctx.base, d)), ctx.query, ctx.base, `${SD}/servicedesk`) },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)$/, handler: (ctx, m) => {
    const d = findDesk(ctx.state, m[1]);
    return d ? { status: 200, json: deskJson(ctx.base, d) } : DESK_NOT_FOUND();
  } },
  // Add customers: accountIds; one already a customer is no error (204, nothing changes for it).
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const ids = accountIdsOf(ctx, 'customers to add');
    if (!Array.isArray(ids)) return ids;
    const refused = unknownIds(ctx.state, ids);
    if (refused) return refused;
    for (const id of ids) desk.customers.add(id);
    return { status: 204 };
  } },
  // Remove customers (experimental): accounts stay; one that is not a customer is no error.
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const ids = accountIdsOf(ctx, 'customers to remove');
    if (!Array.isArray(ids)) return ids;
    for (const id of ids) desk.customers.delete(id);
    return { status: 204 };
  } },
  // Get customers (experimental), in pages, filtered by `query`.
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const q = ctx.query.query ?? '';
    const list = [...desk.customers].map((id) => ctx.state.accounts.get(id))
      .filter((a): a is CloudAccount => a !== undefined && (q === '' || listingMatches(ctx.state, a, q)));
    return page(list.map((a) => jsmUser(ctx.base, a)), ctx.query, ctx.base, `${SD}/servicedesk/${desk.id}/customer`);
  } },
  // Projects: the deprecated full list (an array) and the paged search.
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/project$`), handler: (ctx, m) =>
    ({ status: 200, json: ctx.state.desks.map((d) => projectJson(ctx.base, d, m[1] ?? '3')) }) },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/project/search$`), handler: (ctx, m) => {
    const startAt = Math.max(0, Number.parseInt(ctx.query.startAt ?? '0', 10) || 0);
    const max = Math.min(100, Math.max(1, Number.parseInt(ctx.query.maxResults ?? '50', 10) || 50));
    const keys = ctx.query.keys?.split(',').map((k) => k.trim().toUpperCase());
    const all = ctx.state.desks.filter((d) => !keys || keys.includes(d.projectKey.toUpperCase()));
    const values = all.slice(startAt, startAt + max).map((d) => projectJson(ctx.base, d, m[1] ?? '3'));
    return { status: 200, json: { self: `${ctx.base}${ctx.path}`, maxResults: max, startAt, total: all.length,
      isLast: startAt + values.length >= all.length, values } };
  } },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/project/([^/]+)$`), handler: (ctx, m) => {
    const d = findProject(ctx.state, m[2]);
    return d ? { status: 200, json: projectJson(ctx.base, d, m[1] ?? '3') } : PROJECT_NOT_FOUND(m[2]);
  } },
  // Project properties: where the tool keeps its own notification setting, as on Data Center.
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/project/([^/]+)/properties$`), handler: (ctx, m) => {
    const d = findProject(ctx.state, m[2]);
    if (!d) return PROJECT_NOT_FOUND(m[2]);
    const keys = [...ctx.state.properties.keys()].filter((k) => k.startsWith(`${d.projectKey}/`)).map((k) => k.slice(d.projectKey.length + 1));
    return { status: 200, json: { keys: keys.map((key) => ({ self: `${ctx.base}${ctx.path}/${encodeURIComponent(key)}`, key })) } };
  } },
  { method: 'GET', pattern: new RegExp(`^/rest/api/${V}/project/([^/]+)/properties/([^/]+)$`), handler: (ctx, m) => {
    const d = findProject(ctx.state, m[2]);
    if (!d) return PROJECT_NOT_FOUND(m[2]);
    const key = decodeURIComponent(m[3] ?? '');
    const id = `${d.projectKey}/${key}`;
    return ctx.state.properties.has(id)
      ? { status: 200, json: { key, value: ctx.state.properties.get(id) } }
      : platformError(404, [`The property with key '${key}' does not exist.`]);
  } },
  { method: 'PUT', pattern: new RegExp(`^/rest/api/${V}/project/([^/]+)/properties/([^/]+)$`), handler: (ctx, m) => {
    const d = findProject(ctx.state, m[2]);
    if (!d) return PROJECT_NOT_FOUND(m[2]);
    const key = decodeURIComponent(m[3] ?? '');
    if (key.length > 255) return platformError(400, ['The property key cannot be longer than 255 characters.']);
    if (ctx.body === undefined) return platformError(400, ['The property value cannot be empty.']);
    const id = `${d.projectKey}/${key}`;
    const existed = ctx.state.properties.has(id);
    ctx.state.properties.set(id, ctx.body);
    return { status: existed ? 200 : 201 };
  } },
  { method: 'DELETE', pattern: new RegExp(`^/rest/api/${V}/project/([^/]+)/properties/([^/]+)$`), handler: (ctx, m) => {
    const d = findProject(ctx.state, m[2]);
    if (!d) return PROJECT_NOT_FOUND(m[2]);
    const key = decodeURIComponent(m[3] ?? '');
    return ctx.state.properties.delete(`${d.projectKey}/${key}`) ? { status: 204 }
      : platformError(404, [`The property with key '${key}' does not exist.`]);
  } },
];

/** Resources answered without credentials (credentials sent with them are still checked). */
export const isAnonymousPath = (path: string): boolean => /^\/rest\/api\/[23]\/serverInfo$/.test(path) || path === `${SD}/info`;
