/** The JSM DC resources the double serves, after authentication and faults. Handlers are synchronous. */
import type { CreateRecord, Desk, NotificationSent, Organization, User } from './types.js';
import { organizationRoutes } from './organizations.js';
import {
  experimental, EXPERIMENTAL_REFUSED, isEmail, jsmError, jsmUser, notFoundResource, page, platformError, platformUser, shownEmail, type Reply,
} from './wire.js';

export interface State {
  users: Map<string, User>;
  desks: Desk[];
  properties: Map<string, unknown>;
  creates: CreateRecord[];
  notificationsSent: NotificationSent[];
  version: string;
  platformVersion: string;
  duplicateStatus: 400 | 409;
  customerListRefused: false | 403 | 404 | 405;
  nextUserId: number;
  language: 'en' | 'de';
  readOnlyDirectory: boolean;
  onCreate?: (count: number, username: string) => void;
  organizations: Organization[];
  nextOrganizationId: number;
  organizationCreates: string[];
  organizationJoins: string[];
  deskOrganizationAdds: string[];
  /** Removals it made: `deskId/username` from a desk, `orgId/username` from an organization. */
  customerRemovals: string[];
  organizationLeaves: string[];
  emailVisibility: 'public' | 'hidden' | 'masked';
  passwordPolicy?: { minLength: number };
  /** What the authenticated account may do (every account of the double alike). */
  account: { browseUsers: boolean; admin: boolean; agentOf: string[]; emailAddress?: string };
}

/** A user as the caller sees it under the instance's email visibility. */
export function view(s: State, u: User): User {
  return s.emailVisibility === 'public' ? u : { ...u, emailAddress: shownEmail(u.emailAddress, s.emailVisibility) };
}

/** The caller's own account: its user when it has one, else one made up (the token's owner, e.g. 'admin'). */
export function accountUser(s: State, name: string): User {
  return s.users.get(name.toLowerCase()) ?? {
    name, key: `JIRAUSER${name}`, emailAddress: s.account.emailAddress ?? `${name}@jira.example`, displayName: name,
    active: true, createdVia: 'seed', applicationKeys: ['jira-servicedesk'],
  };
}

/** Whether the caller sees every organization: an admin, or an agent of some project (JSM shows a non-agent only its own). */
export function seesAllOrganizations(s: State): boolean {
  return s.account.admin || s.account.agentOf.length > 0;
}

/** The instance's language: the message changes, the i18n key does not. */
function t(s: State, en: string, de: string): string {
  return s.language === 'de' ? de : en;
}

/** What Jira says when no directory may hold a new user. */
function readOnly(s: State, family: 'jsm' | 'platform'): Reply {
  const message = t(s, 'Cannot add user, all the user directories are read-only.',
    'Benutzer kann nicht hinzugefügt werden, alle Benutzerverzeichnisse sind schreibgeschützt.');
  return family === 'jsm'
    ? jsmError(400, message, 'admin.errors.cannot.add.user.all.directories.read.only')
    : platformError(400, [message]);
}

export interface Ctx {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** Base URL of the double (with the context path). */
  base: string;
  state: State;
  /** The authenticated username (null on /info). */
  user: string | null;
}

type Handler = (ctx: Ctx, m: RegExpMatchArray) => Reply;
interface Route { method: string; pattern: RegExp; handler: Handler }

const BUILD_EPOCH = 1704067200000;
const SD = '/rest/servicedeskapi';


function obj(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

function findDesk(s: State, id: string | undefined): Desk | undefined {
  return s.desks.find((d) => d.id === id);
}
function findProject(s: State, keyOrId: string | undefined): Desk | undefined {
  const k = decodeURIComponent(keyOrId ?? '').toUpperCase();
  return s.desks.find((d) => d.projectKey.toUpperCase() === k || d.projectId === k);
}
const DESK_NOT_FOUND = (): Reply =>
  jsmError(404, 'The service project you are trying to view does not exist.', 'sd.servicedesk.error.not.found');
const PROJECT_NOT_FOUND = (key: string | undefined): Reply =>
  platformError(404, [`No project could be found with key '${decodeURIComponent(key ?? '')}'.`]);

function newUser(s: State, name: string, email: string, displayName: string, via: 'customer' | 'user',
  extra: Partial<User> = {}): User {
  const user: User = {
    name: name.toLowerCase(), key: `JIRAUSER${s.nextUserId++}`, emailAddress: email, displayName,
    active: true, createdVia: via, applicationKeys: [], ...extra,
  };
  s.users.set(user.name, user);
  s.creates.push({ username: user.name, via, time: Date.now(), answered: true });
  s.onCreate?.(s.creates.length, user.name);
  return user;
}

/** The desk customer listing's `query`: a substring of username, email or display name. */
function matches(u: User, needle: string): boolean {
  const n = needle.toLowerCase();
  return [u.name, u.emailAddress, u.displayName].some((f) => f.toLowerCase().includes(n));
}

/**
 * Jira DC's user search (`/rest/api/2/user/search?username=`): the query matches the start of the
 * username, of the email, of the display name or of any word in it, without regard to case.
 * `.` matches everyone. So an email finds its accounts whatever their usernames, plus any
 * account whose email or username merely starts with it: callers keep the exact matches.
 */
function searchMatches(u: User, lowerQuery: string, emails = true): boolean {
  if (lowerQuery === '.') return true;
  const fields = searchFields(u);
  for (let i = 0; i < fields.length; i++) {
    // Emails are searched only when the instance shows them (DefaultUserPickerSearchService).
    if (i === 1 && !emails) continue;
    if (fields[i]?.startsWith(lowerQuery)) return true;
  }
  return false;
}

/** The lower-cased fields a search looks at, kept per user object while they stay the same (benchmarks search thousands). */
const fieldCache = new WeakMap<User, { name: string; email: string; display: string; fields: string[] }>();
function searchFields(u: User): string[] {
  const cached = fieldCache.get(u);
  if (cached && cached.name === u.name && cached.email === u.emailAddress && cached.display === u.displayName) return cached.fields;
  const display = u.displayName.toLowerCase();
  const fields = [u.name.toLowerCase(), u.emailAddress.toLowerCase(), display, ...display.split(/\s+/).slice(1)];
  fieldCache.set(u, { name: u.name, email: u.emailAddress, display: u.displayName, fields });
  return fields;
}

const routes: Route[] = [
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/info$/, handler: (ctx) => ({
    status: 200,
    json: {
      version: ctx.state.version, platformVersion: ctx.state.platformVersion,
      buildDate: { iso8601: '2024-01-01T00:00:00+0000', jira: '2024-01-01T00:00:00.000+0000',
        friendly: '01/Jan/24 12:00 AM', epochMillis: BUILD_EPOCH },
      buildChangeSet: 'abc', isLicensedForUse: true, _links: { self: `${ctx.base}${SD}/info` },
    },
  }) },
  { method: 'GET', pattern: /^\/rest\/api\/2\/serverInfo$/, handler: (ctx) => {
    const versionNumbers = ctx.state.platformVersion.split(/[.-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
    return { status: 200, json: {
      baseUrl: ctx.base, version: ctx.state.platformVersion, versionNumbers, deploymentType: 'Server',
      buildNumber: versionNumbers.reduce((a, n) => a * 100 + n, 0), buildDate: '2024-01-01T00:00:00.000+0000',
      serverTime: new Date().toISOString(), scmInfo: 'abc', serverTitle: 'JSM double',
    } };
  } },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk$/, handler: (ctx) =>
    page(ctx.state.desks.map((d) => deskJson(ctx.base, d)), ctx.query, ctx.base, `${SD}/servicedesk`) },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    return desk ? { status: 200, json: deskJson(ctx.base, desk) } : DESK_NOT_FOUND();
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/customer$/, handler: (ctx) => {
    if (!experimental(ctx)) return EXPERIMENTAL_REFUSED();
    const b = obj(ctx.body);
    const email = str(b.email);
    const fullName = str(b.fullName);
    const s = ctx.state;
    if (!email) return jsmError(400, t(s, 'You must provide an email address.', 'Sie müssen eine E-Mail-Adresse angeben.'), 'sd.customer.email.required');
    if (!isEmail(email)) return jsmError(400, t(s, `The email address '${email}' is invalid.`, `Die E-Mail-Adresse '${email}' ist ungültig.`), 'sd.customer.email.invalid');
    if (!fullName) return jsmError(400, t(s, 'You must provide a full name.', 'Sie müssen einen vollständigen Namen angeben.'), 'sd.customer.fullname.required');
    // The username becomes the email: only a taken username is refused; a used email is not (JRASERVER-9182).
    if (s.users.has(email.toLowerCase())) {
      return jsmError(s.duplicateStatus, t(s, 'A user with that username already exists.', 'Ein Benutzer mit diesem Benutzernamen ist bereits vorhanden.'),
        'sd.customer.create.user.exists');
    }
    if (s.readOnlyDirectory) return readOnly(s, 'jsm');
    return { status: 201, json: jsmUser(ctx.base, view(s, newUser(ctx.state, email, email, fullName, 'customer'))) };
  } },
  { method: 'POST', pattern: /^\/rest\/api\/2\/user$/, handler: (ctx) => {
    const b = obj(ctx.body);
    const name = str(b.name);
    const email = str(b.emailAddress);
    const displayName = str(b.displayName);
    const s = ctx.state;
    const errors: Record<string, string> = {};
    if (!name) errors.username = t(s, 'You must specify a username.', 'Sie müssen einen Benutzernamen angeben.');
    else if (s.users.has(name.toLowerCase())) errors.username = t(s, 'A user with that username already exists.', 'Ein Benutzer mit diesem Benutzernamen ist bereits vorhanden.');
    if (!isEmail(email)) errors.email = t(s, 'You must specify a valid email address.', 'Sie müssen eine gültige E-Mail-Adresse angeben.');
    if (!displayName) errors.displayName = t(s, 'You must specify a full name.', 'Sie müssen einen vollständigen Namen angeben.');
    const policy = s.passwordPolicy;
    if (policy && typeof b.password === 'string' && b.password.length < policy.minLength) {
      errors.password = t(s, `The password must be at least ${policy.minLength} characters long.`, `Das Passwort muss mindestens ${policy.minLength} Zeichen lang sein.`);
    }
    if (Object.keys(errors).length > 0) return platformError(400, [], errors);
    if (s.readOnlyDirectory) return readOnly(s, 'platform');
    // Without applicationKeys Jira gives the default application: a licensed user, not a customer.
    const keys = Array.isArray(b.applicationKeys) ? b.applicationKeys.map(String) : ['jira-software'];
    const user = newUser(ctx.state, name, email, displayName, 'user', {
      applicationKeys: keys, ...(typeof b.password === 'string' ? { password: b.password } : {}),
    });
    if (b.notification === true || b.notification === 'true') {
      ctx.state.notificationsSent.push({ username: user.name, value: b.notification, time: Date.now() });
    }
    return { status: 201, json: platformUser(ctx.base, view(s, user), true) };
  } },
  { method: 'POST', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const names = obj(ctx.body).usernames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      return jsmError(400, 'You must provide the usernames of the customers to add.', 'sd.customers.usernames.required');
    }
    const missing = names.filter((n: string) => !ctx.state.users.has(n.toLowerCase()));
    // All or nothing: with any unknown username, nobody is added.
    if (missing.length > 0) {
      return jsmError(400, t(ctx.state, `The following users do not exist: ${missing.join(', ')}`, `Die folgenden Benutzer existieren nicht: ${missing.join(', ')}`), 'sd.customers.users.not.found');
    }
    for (const n of names as string[]) desk.customers.add(n.toLowerCase());
    return { status: 204 };
  } },
  // Remove customers (docs/jsm-api.md "Removing"): usernames on Data Center; one that is not a
  // customer of the desk is no error (204, nothing changes); the accounts themselves stay.
  { method: 'DELETE', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const names = obj(ctx.body).usernames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      return jsmError(400, 'You must provide the usernames of the customers to remove.', 'sd.customers.usernames.required');
    }
    // "The service desk must have closed access" (Cloud reference; python-api's remove_customers): the wording and key are the double's.
    if (desk.access === 'open') return jsmError(400, 'The service desk must have closed access to remove customers.', 'sd.customers.remove.open.access');
    for (const n of names as string[]) {
      if (desk.customers.delete(n.toLowerCase())) ctx.state.customerRemovals.push(`${desk.id}/${n.toLowerCase()}`);
    }
    return { status: 204 };
  } },
  { method: 'GET', pattern: /^\/rest\/servicedeskapi\/servicedesk\/([^/]+)\/customer$/, handler: (ctx, m) => {
    const refused = ctx.state.customerListRefused;
    if (refused === 404) return notFoundResource(`${ctx.base}${ctx.path}`);
    if (refused === 405) return { status: 405, text: '' };
    if (refused === 403) return jsmError(403, 'You do not have permission to view the customers of this service project.', 'sd.customers.view.forbidden');
    if (!experimental(ctx)) return EXPERIMENTAL_REFUSED();
    const desk = findDesk(ctx.state, m[1]);
    if (!desk) return DESK_NOT_FOUND();
    const q = ctx.query.query ?? '';
    const users = [...desk.customers].map((n) => ctx.state.users.get(n))
      .filter((u): u is User => u !== undefined && (q === '' || matches(u, q)));
    return page(users.map((u) => jsmUser(ctx.base, view(ctx.state, u))), ctx.query, ctx.base, `${SD}/servicedesk/${desk.id}/customer`);
  } },
  { method: 'GET', pattern: /^\/rest\/api\/2\/user$/, handler: (ctx) => {
    const { username, key } = ctx.query;
    const user = username !== undefined ? ctx.state.users.get(username.toLowerCase())
      : [...ctx.state.users.values()].find((u) => u.key === key);
    return user ? { status: 200, json: platformUser(ctx.base, view(ctx.state, user), true) }
      : platformError(404, [t(ctx.state, `The user named '${username ?? key ?? 'null'}' does not exist`, `Der Benutzer '${username ?? key ?? 'null'}' existiert nicht`)]);
  } },
  { method: 'GET', pattern: /^\/rest\/api\/2\/user\/search$/, handler: (ctx) => {
    const q = ctx.query.username;
    if (q === undefined || q === '') return platformError(400, ['The username query parameter was not provided']);
    const startAt = Math.max(0, Number.parseInt(ctx.query.startAt ?? '0', 10) || 0);
    const max = Math.min(1000, Number.parseInt(ctx.query.maxResults ?? '50', 10) || 50);
    const inactive = ctx.query.includeInactive === 'true';
    const lower = q.toLowerCase();
    const s = ctx.state;
    // Without Browse users and groups the search answers an empty list, not 403.
    if (!s.account.browseUsers) return { status: 200, json: [] };
    const emails = s.emailVisibility === 'public';
    const found: User[] = [];
    for (const u of s.users.values()) if ((u.active || inactive) && searchMatches(u, lower, emails)) found.push(u);
    const self = ctx.user !== null && !s.users.has(ctx.user.toLowerCase()) ? accountUser(s, ctx.user) : undefined;
    if (self && searchMatches(self, lower, emails)) found.push(self);
    return { status: 200, json: found.slice(startAt, startAt + max).map((u) => platformUser(ctx.base, view(s, u))) };
  } },
  { method: 'GET', pattern: /^\/rest\/api\/2\/myself$/, handler: (ctx) =>
    ({ status: 200, json: platformUser(ctx.base, view(ctx.state, accountUser(ctx.state, ctx.user ?? 'anonymous')), true) }) },
  { method: 'GET', pattern: /^\/rest\/api\/2\/mypermissions$/, handler: (ctx) => {
    const a = ctx.state.account;
    const key = ctx.query.projectKey;
    if (key !== undefined && !findProject(ctx.state, key)) return PROJECT_NOT_FOUND(key);
    const agent = key !== undefined && a.agentOf.some((k) => k.toUpperCase() === key.toUpperCase());
    const perm = (k: string, id: string, type: string, have: boolean) => [k, { id, key: k, name: k, type, description: '', havePermission: have }] as const;
    const all = [
      perm('USER_PICKER', '27', 'GLOBAL', a.browseUsers),
      perm('ADMINISTER', '0', 'GLOBAL', a.admin),
      perm('SYSTEM_ADMIN', '44', 'GLOBAL', a.admin),
      perm('ADMINISTER_PROJECTS', '23', 'PROJECT', a.admin || agent),
      perm('SERVICEDESK_AGENT', '-1', 'PROJECT', agent),
      perm('BROWSE_PROJECTS', '10', 'PROJECT', true),
    ];
    const asked = ctx.query.permissions?.split(',').map((p) => p.trim()).filter((p) => p !== '');
    return { status: 200, json: { permissions: Object.fromEntries(asked ? all.filter(([k]) => asked.includes(k)) : all) } };
  } },
  { method: 'GET', pattern: /^\/rest\/api\/2\/project\/([^/]+)$/, handler: (ctx, m) => {
    const d = findProject(ctx.state, m[1]);
    return d ? { status: 200, json: projectJson(ctx.base, d) } : PROJECT_NOT_FOUND(m[1]);
  } },
  { method: 'GET', pattern: /^\/rest\/api\/2\/project\/([^/]+)\/properties\/([^/]+)$/, handler: (ctx, m) => {
    const d = findProject(ctx.state, m[1]);
    if (!d) return PROJECT_NOT_FOUND(m[1]);
    const key = decodeURIComponent(m[2] ?? '');
    const id = `${d.projectKey}/${key}`;
    return ctx.state.properties.has(id)
      ? { status: 200, json: { key, value: ctx.state.properties.get(id) } }
      : platformError(404, [`The property with key: ${key} does not exist.`]);
  } },
  { method: 'PUT', pattern: /^\/rest\/api\/2\/project\/([^/]+)\/properties\/([^/]+)$/, handler: (ctx, m) => {
    const d = findProject(ctx.state, m[1]);
    if (!d) return PROJECT_NOT_FOUND(m[1]);
    const key = decodeURIComponent(m[2] ?? '');
    if (key.length > 255) return platformError(400, ['The property key cannot be longer than 255 characters.']);
    if (ctx.body === undefined) return platformError(400, ['The property value cannot be empty.']);
    const id = `${d.projectKey}/${key}`;
    const existed = ctx.state.properties.has(id);
    ctx.state.properties.set(id, ctx.body);
    return { status: existed ? 200 : 201 };
  } },
];

function deskJson(base: string, d: Desk): unknown {
  return { id: d.id, projectId: d.projectId, projectName: d.projectName, projectKey: d.projectKey,
    _links: { self: `${base}${SD}/servicedesk/${d.id}` } };
}
function projectJson(base: string, d: Desk): unknown {
  return { expand: 'description,lead,url,projectKeys', self: `${base}/rest/api/2/project/${d.projectId}`,
    id: d.projectId, key: d.projectKey, name: d.projectName, description: '', projectTypeKey: 'service_desk',
    projectKeys: [d.projectKey] };
}

/** Routes one request: 404 for unknown paths, 405 for a known path with another method. */
export function route(ctx: Ctx): Reply {
  let pathKnown = false;
  for (const r of routes) {
    const m = ctx.path.match(r.pattern);
    if (!m) continue;
    pathKnown = true;
    if (r.method === ctx.method) return r.handler(ctx, m);
  }
  for (const r of organizationRoutes) {
    const m = ctx.path.match(r.pattern);
    if (!m) continue;
    pathKnown = true;
    if (r.method === ctx.method) return r.handler(ctx, m);
  }
  return pathKnown ? { status: 405 } : notFoundResource(`${ctx.base}${ctx.path}`);
}

export const isAnonymousPath = (path: string): boolean => path === `${SD}/info`;
