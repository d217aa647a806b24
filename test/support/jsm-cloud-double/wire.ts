/** Answer shapes of JSM Cloud (docs/jsm-api.md "Jira Cloud"): errors, pages, user objects, the burst limit. */
import type { CloudAccount } from './types.js';

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** Platform errors (/rest/api/2 and /3): `{"errorMessages":[...],"errors":{...}}`. */
export function platformError(status: number, messages: string[], errors: Record<string, string> = {}): Reply {
  return { status, json: { errorMessages: messages, errors } };
}

/** JSM errors (/rest/servicedeskapi): `errorMessage` in the singular plus an i18n part. */
export function jsmError(status: number, message: string, i18nKey: string, parameters: string[] = []): Reply {
  return { status, json: { errorMessage: message, i18nErrorMessage: { i18nKey, parameters } } };
}

export const SD = '/rest/servicedeskapi';

/** Calls the Cloud reference marks experimental: `X-ExperimentalApi: opt-in` or 412. */
export function isExperimental(method: string, route: string): boolean {
  // "Get customers" and "Remove customers" of a service desk.
  return route === `${SD}/servicedesk/{id}/customer` && (method === 'GET' || method === 'DELETE');
}

export function optedIn(headers: Record<string, string>): boolean {
  return (headers['x-experimentalapi'] ?? '').trim().toLowerCase() === 'opt-in';
}

export const EXPERIMENTAL_REFUSED = (): Reply => jsmError(412,
  "This is an experimental API. You must set the header 'X-ExperimentalApi: opt-in' to use it.",
  'sd.api.experimental.header.required');

/** The route of a path: numeric ids, project keys after servicedesk/project, and property keys become placeholders. */
export function routeOf(path: string): string {
  return path
    .replace(/^(\/rest\/servicedeskapi\/servicedesk)\/[^/]+/, '$1/{id}')
    .replace(/^(\/rest\/servicedeskapi\/organization)\/(?!$)[^/]+/, '$1/{id}')
    .replace(/^(\/rest\/api\/[23]\/project)\/(?!search$)[^/]+/, '$1/{key}')
    .replace(/(\/properties)\/[^/]+$/, '$1/{propertyKey}');
}

/** start/limit of a servicedeskapi page: defaults 0 and 50, limit at most 100. */
export function pageParams(query: Record<string, string>): { start: number; limit: number } {
  const start = Number.parseInt(query.start ?? '', 10);
  const limit = Number.parseInt(query.limit ?? '', 10);
  return {
    start: Number.isFinite(start) && start > 0 ? start : 0,
    limit: Number.isFinite(limit) && limit > 0 ? Math.min(limit, 100) : 50,
  };
}

/** A servicedeskapi page (PagedDTO): `_expands`, `size`, `start`, `limit`, `isLastPage`, `_links`, `values`. */
export function page<T>(all: T[], query: Record<string, string>, base: string, path: string): Reply {
  const { start, limit } = pageParams(query);
  const values = all.slice(start, start + limit);
  const isLastPage = start + values.length >= all.length;
  const at = (s: number): string => `${base}${path}?start=${s}&limit=${limit}`;
  // As the reference's example: base, context, next, prev (no self).
  const links: Record<string, string> = { base: `${base}${SD}`, context: '' };
  if (!isLastPage) links.next = at(start + limit);
  if (start > 0) links.prev = at(Math.max(0, start - limit));
  return { status: 200, json: { _expands: [], size: values.length, start, limit, isLastPage, _links: links, values } };
}

function avatarUrls(accountId: string): Record<string, string> {
  const u = (s: number): string => `https://avatar-management.example.invalid/${encodeURIComponent(accountId)}/${s}.png`;
  return { '48x48': u(48), '24x24': u(24), '16x16': u(16), '32x32': u(32) };
}

/** The servicedeskapi user (UserDTO): `name` and `key` carry the accountId, no username exists. */
export function jsmUser(base: string, a: CloudAccount): unknown {
  return {
    accountId: a.accountId, name: a.accountId, key: a.accountId,
    ...(a.hideEmail ? {} : { emailAddress: a.emailAddress }),
    displayName: a.displayName, active: a.active, timeZone: 'Etc/UTC',
    _links: {
      jiraRest: `${base}/rest/api/2/user?username=${encodeURIComponent(a.accountId)}`,
      avatarUrls: avatarUrls(a.accountId), self: `${base}/rest/api/2/user?username=${encodeURIComponent(a.accountId)}`,
    },
  };
}

/** The platform user (/rest/api/3): no `name` or `key`; `emailAddress` only when the profile shows it. */
export function platformUser(base: string, a: CloudAccount, version: '2' | '3' = '3'): Record<string, unknown> {
  return {
    self: `${base}/rest/api/${version}/user?accountId=${encodeURIComponent(a.accountId)}`,
    accountId: a.accountId, accountType: a.accountType,
    ...(a.hideEmail ? {} : { emailAddress: a.emailAddress }),
    avatarUrls: avatarUrls(a.accountId), displayName: a.displayName, active: a.active,
    timeZone: 'Etc/UTC', locale: 'en_US',
  };
}

/** Lenient email check. */
export function isEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);
}

/** A token bucket refilled continuously. */
export class Bucket {
  private tokens: number;
  private last: number;
  constructor(readonly capacity: number, private readonly rate: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }
  take(now: number): { ok: boolean; remaining: number; retryAfter: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    const ok = this.tokens >= 1;
    if (ok) this.tokens -= 1;
    const retryAfter = this.rate > 0 ? Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) : 3600;
    return { ok, remaining: Math.max(0, Math.floor(this.tokens)), retryAfter };
  }
}

/** `X-RateLimit-Reset`: the request time plus Retry-After, as `yyyy-MM-ddTHH:mmZ` (UTC, to the minute). */
export function resetAt(now: number, retryAfterSeconds: number): string {
  return new Date(now + retryAfterSeconds * 1000).toISOString().slice(0, 16) + 'Z';
}
