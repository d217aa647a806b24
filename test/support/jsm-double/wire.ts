/** Answer shapes of JSM DC: the two error families, pages, user objects; plus the PRNG and the bucket. */
import type { User } from './types.js';

/** What a route answers; the server writes it (or cuts the socket instead). */
export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export const NOT_AUTHENTICATED = 'You are not authenticated. Authentication required to perform this operation.';

/** Jira platform errors (/rest/api/2): `{"errorMessages":[...],"errors":{...}}`. */
export function platformError(status: number, messages: string[], errors: Record<string, string> = {}): Reply {
  return { status, json: { errorMessages: messages, errors } };
}

/** JSM errors (/rest/servicedeskapi): `errorMessage` in the singular plus an i18n part. */
export function jsmError(status: number, message: string, i18nKey: string, parameters: string[] = []): Reply {
  return { status, json: { errorMessage: message, i18nErrorMessage: { i18nKey, parameters } } };
}

/** The error shape of the API family the path belongs to. */
export function errorFor(path: string, status: number, message: string, i18nKey: string): Reply {
  return path.startsWith('/rest/servicedeskapi/')
    ? jsmError(status, message, i18nKey)
    : platformError(status, [message]);
}

/** What Jersey answers for a path it has no resource for. */
export function notFoundResource(url: string): Reply {
  return { status: 404, text: `null for uri: ${url}` };
}

/** Deterministic PRNG (mulberry32): faults must be reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Jira DC's per-user token bucket, refilled continuously. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly capacity: number, private readonly rate: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }
  /** Takes one token if there is one; says how many remain and how long until the next. */
  take(now: number): { ok: boolean; remaining: number; retryAfter: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    const ok = this.tokens >= 1;
    if (ok) this.tokens -= 1;
    const retryAfter = this.rate > 0 ? Math.max(0, Math.ceil((1 - this.tokens) / this.rate)) : 3600;
    return { ok, remaining: Math.floor(this.tokens), retryAfter };
  }
}

/** X-RateLimit-Interval-Seconds / X-RateLimit-FillRate: `fill` tokens every `interval` seconds. */
export function fillHeaders(rate: number): { interval: number; fill: number } {
  if (rate >= 1 || rate <= 0) return { interval: 1, fill: Math.max(0, Math.round(rate)) };
  return { interval: Math.round(1 / rate), fill: 1 };
}

/** start/limit of a JSM page: defaults 0 and 50, limit at most 100. */
export function pageParams(query: Record<string, string>): { start: number; limit: number } {
  const start = Number.parseInt(query.start ?? '', 10);
  const limit = Number.parseInt(query.limit ?? '', 10);
  return {
    start: Number.isFinite(start) && start > 0 ? start : 0,
    limit: Number.isFinite(limit) && limit > 0 ? Math.min(limit, 100) : 50,
  };
}

/** A JSM paged answer with `_links` to the neighbouring pages. */
export function page<T>(all: T[], query: Record<string, string>, base: string, path: string): Reply {
  const { start, limit } = pageParams(query);
  const values = all.slice(start, start + limit);
  const isLastPage = start + values.length >= all.length;
  const at = (s: number): string => `${base}${path}?start=${s}&limit=${limit}`;
  const links: Record<string, string> = { base, context: new URL(base).pathname.replace(/\/$/, ''), self: at(start) };
  if (!isLastPage) links.next = at(start + limit);
  if (start > 0) links.prev = at(Math.max(0, start - limit));
  return { status: 200, json: { size: values.length, start, limit, isLastPage, _links: links, values } };
}

function avatarUrls(base: string, key: string): Record<string, string> {
  const u = (s: number): string => `${base}/secure/useravatar?size=${s}&ownerId=${encodeURIComponent(key)}`;
  return { '48x48': u(48), '24x24': u(24), '16x16': u(16), '32x32': u(32) };
}

/** The user object of /rest/servicedeskapi (customer create, desk customer listing). */
export function jsmUser(base: string, u: User): unknown {
  const self = `${base}/rest/api/2/user?username=${encodeURIComponent(u.name)}`;
  return {
    name: u.name, key: u.key, ...(u.emailAddress !== '' ? { emailAddress: u.emailAddress } : {}), displayName: u.displayName,
    active: u.active, timeZone: 'Etc/UTC',
    _links: { jiraRest: self, avatarUrls: avatarUrls(base, u.key), self },
  };
}

/** The user object of /rest/api/2. */
export function platformUser(base: string, u: User, full = false): unknown {
  const json: Record<string, unknown> = {
    self: `${base}/rest/api/2/user?username=${encodeURIComponent(u.name)}`,
    key: u.key, name: u.name, ...(u.emailAddress !== '' ? { emailAddress: u.emailAddress } : {}), avatarUrls: avatarUrls(base, u.key),
    displayName: u.displayName, active: u.active, deleted: false, timeZone: 'Etc/UTC', locale: 'en_US',
  };
  if (full) {
    json.groups = { size: 0, items: [] };
    json.applicationRoles = { size: u.applicationKeys.length, items: [] };
    json.expand = 'groups,applicationRoles';
  }
  return json;
}

/** Lenient email check, close to what Jira accepts. */
export function isEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);
}

/** The docs say `X-ExperimentalApi: true`, clients send `opt-in`: both are accepted. */
export function experimental(ctx: { headers: Record<string, string> }): boolean {
  const v = (ctx.headers['x-experimentalapi'] ?? '').trim().toLowerCase();
  return v === 'opt-in' || v === 'true';
}

/** An email as "User email visibility" shows it: Jira's EmailFormatterImpl ('' for hidden: no emailAddress in answers). */
export function shownEmail(email: string, visibility: 'public' | 'hidden' | 'masked'): string {
  if (visibility === 'hidden') return '';
  if (visibility === 'masked') return email.replace(/@/g, ' at ').replace(/\./g, ' dot ');
  return email;
}

export const EXPERIMENTAL_REFUSED = (status: 400 | 412 = 400): Reply => jsmError(status,
  "This is an experimental API. You must set the header 'X-ExperimentalApi: opt-in' to use it.",
  'sd.api.experimental.header.required');
