/**
 * The HTTP side of the JSM Cloud double: recording, latency, precise faults, authentication (email
 * and API token only), the burst limit, the experimental header, then the routes. Only node:http.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newOrganization, organizationRoutes } from './organizations.js';
import { byEmail, customerAccountId, isAnonymousPath, routes, type Ctx, type State } from './routes.js';
import type {
  CloudAccount, CloudCaller, CloudDesk, CloudFailNext, CloudRecordedCall, JsmCloudDouble, JsmCloudDoubleOptions,
} from './types.js';
import { Bucket, EXPERIMENTAL_REFUSED, isExperimental, jsmError, optedIn, platformError, resetAt, routeOf, type Reply } from './wire.js';

const WRITES = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
/** What Cloud answers to a password (rather than an API token) in Basic credentials. */
export const PASSWORD_REFUSED = 'Basic authentication with passwords is deprecated.  For more information, see: https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/';
/** What Cloud answers to credentials it does not accept, or none where some are needed. */
export const NOT_AUTHENTICATED = 'Client must be authenticated to access this resource.';

/** The caller unless a test says otherwise: point JSM_USER at `email` and JSM_TOKEN at `apiToken`. */
export const DEFAULT_CALLER: Readonly<CloudCaller> = Object.freeze({
  email: 'admin@example.com', apiToken: 'cloud-api-token', password: 'cloud-password',
  accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Site Admin', admin: true, browseUsers: true,
});

export async function startJsmCloudDouble(opts: JsmCloudDoubleOptions = {}): Promise<JsmCloudDouble> {
  const caller: CloudCaller = { ...DEFAULT_CALLER, ...opts.caller };
  const state: State = {
    accounts: seedAccounts(opts), desks: [], organizations: [], nextOrganizationId: 1, properties: new Map(),
    creates: [], organizationCreates: [], organizationJoins: [], deskOrganizationAdds: [], caller,
    hiddenEmailSearch: opts.hiddenEmailSearch ?? 'matches', userSearchFindsCustomers: opts.userSearchFindsCustomers ?? true,
    ...(opts.onCreate ? { onCreate: opts.onCreate } : {}),
  };
  const idOf = (email: string): string => {
    const a = byEmail(state, email);
    if (!a) throw new Error(`jsm-cloud-double: seed names ${email}, which is not among existingAccounts`);
    return a.accountId;
  };
  state.desks = seedDesks(opts, idOf);
  for (const seed of opts.organizations ?? []) {
    const org = newOrganization(state, seed.name, (seed.members ?? []).map(idOf));
    for (const key of seed.projects ?? []) state.desks.find((d) => d.projectKey === key)?.organizations.add(org.id);
  }
  const calls: CloudRecordedCall[] = [];
  let failNext: CloudFailNext[] = [...(opts.failNext ?? [])];
  const buckets = new Map<string, Bucket>();
  const timers = new Set<NodeJS.Timeout>();
  let base = '';

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });

  function takeFailNext(method: string, path: string): CloudFailNext | undefined {
    const i = failNext.findIndex((f) => (f.method === undefined || f.method.toUpperCase() === method)
      && (typeof f.path === 'string' ? f.path === path : f.path.test(path)));
    return i < 0 ? undefined : failNext.splice(i, 1)[0];
  }

  /** Basic with the account's email and an API token; anything else is refused (no sessions, no Bearer on the site). */
  function authenticate(header: string | undefined): { accountId: string } | { refused: string } {
    const basic = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
    if (!basic) return { refused: NOT_AUTHENTICATED };
    const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon > 0 ? decoded.slice(0, colon) : '';
    const secret = colon > 0 ? decoded.slice(colon + 1) : '';
    if (user.toLowerCase() === caller.email.toLowerCase()) {
      if (secret === caller.apiToken) return { accountId: caller.accountId };
      if (secret === caller.password) return { refused: PASSWORD_REFUSED };
    }
    return { refused: NOT_AUTHENTICATED };
  }

  function rateLimit(method: string, route: string, extra: Record<string, string>): Reply | undefined {
    const limit = opts.rateLimit;
    if (!limit) return undefined;
    const key = (limit.scope ?? 'endpoint') === 'endpoint' ? `${method} ${route}` : 'account';
    const capacity = limit.burst ?? limit.perSecond;
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, bucket = new Bucket(capacity, limit.perSecond, Date.now()));
    const now = Date.now();
    const taken = bucket.take(now);
    extra['X-RateLimit-Limit'] = String(capacity);
    extra['X-RateLimit-Remaining'] = String(taken.remaining);
    // "less than 20% of any budget remains"
    if (taken.remaining < capacity * 0.2) extra['X-RateLimit-NearLimit'] = 'true';
    if (taken.ok) return undefined;
    const retryAfter = limit.retryAfterSeconds ?? taken.retryAfter;
    return {
      status: 429, text: 'Rate limit exceeded.',
      headers: {
        'Retry-After': String(retryAfter), 'X-RateLimit-Reset': resetAt(now, retryAfter), 'RateLimit-Reason': 'jira-burst-based',
      },
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const body = parseBody(raw);
    const call: CloudRecordedCall = {
      method, path, route: routeOf(path), query: Object.fromEntries(url.searchParams), headers: flatten(req.headers),
      body: body.value, status: null, time: Date.now(), accountId: null,
    };
    calls.push(call);
    opts.onRequest?.(call);
    const extra: Record<string, string> = {};
    const answer = (reply: Reply): void => {
      if (res.destroyed || req.socket.destroyed) return;
      const headers: Record<string, string> = { ...(call.accountId ? { 'X-AACCOUNTID': call.accountId } : {}), ...extra, ...reply.headers };
      let payload: string | undefined;
      if (reply.json !== undefined) {
        headers['Content-Type'] ??= 'application/json;charset=UTF-8';
        payload = JSON.stringify(reply.json);
      } else if (reply.text !== undefined) {
        headers['Content-Type'] ??= 'text/plain;charset=UTF-8';
        payload = reply.text;
      }
      call.status = reply.status;
      res.writeHead(reply.status, headers);
      res.end(payload);
    };

    if ((opts.latencyMs ?? 0) > 0) await sleep(opts.latencyMs ?? 0);
    let cutAfter = false;
    const forced = takeFailNext(method, path);
    if (forced) {
      call.fault = forced.kind;
      switch (forced.kind) {
        case '503': return answer({ status: 503, text: 'Service Unavailable', headers: { 'Retry-After': String(forced.retryAfter ?? 1) } });
        case '429': {
          const ra = forced.retryAfter ?? 1;
          return answer({ status: 429, text: 'Rate limit exceeded.', headers: {
            'Retry-After': String(ra), 'X-RateLimit-Reset': resetAt(Date.now(), ra), 'RateLimit-Reason': 'jira-burst-based' } });
        }
        case 'cut-before-write': req.socket.destroy(); return;
        case 'cut-after-write': cutAfter = true; break;
      }
    }
    const ctx: Ctx = { method, path, query: call.query, headers: call.headers, body: body.value, base, state, accountId: null };
    const auth = call.headers.authorization === undefined && isAnonymousPath(path) ? undefined : authenticate(call.headers.authorization);
    if (auth && 'refused' in auth) return answer({ status: 401, text: auth.refused });
    if (auth) call.accountId = ctx.accountId = auth.accountId;

    const limited = rateLimit(method, call.route, extra);
    if (limited) return answer(limited);
    if (isExperimental(method, call.route) && !optedIn(call.headers)) return answer(EXPERIMENTAL_REFUSED());
    if (WRITES.has(method) && raw.length > 0) {
      if (!(call.headers['content-type'] ?? '').toLowerCase().includes('application/json')) {
        return answer({ status: 415, text: 'Unsupported Media Type' });
      }
      if (body.invalid) {
        return answer(path.startsWith('/rest/servicedeskapi/')
          ? jsmError(400, 'The request body is not valid JSON.', 'sd.request.body.invalid')
          : platformError(400, ['The request body is not valid JSON.']));
      }
    }
    const createsBefore = state.creates.length;
    const reply = route(ctx);
    if (cutAfter) {
      for (const c of state.creates.slice(createsBefore)) c.answered = false;
      req.socket.destroy();
      return;
    }
    answer(reply);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) { res.destroy(); return; }
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`jsm-cloud-double: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url: base, calls, accounts: state.accounts, desks: state.desks, organizations: state.organizations,
    properties: state.properties, creates: state.creates, organizationCreates: state.organizationCreates,
    organizationJoins: state.organizationJoins, deskOrganizationAdds: state.deskOrganizationAdds,
    accountByEmail: (email) => byEmail(state, email),
    desk: (key) => state.desks.find((d) => d.projectKey === key),
    setFailNext(f: CloudFailNext[]): void { failNext = [...f]; },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Routes one request: 404 for unknown paths, 405 for a known path with another method. */
const ALL_ROUTES = [...routes, ...organizationRoutes];
function route(ctx: Ctx): Reply {
  let pathKnown = false;
  for (const r of ALL_ROUTES) {
    const m = ctx.path.match(r.pattern);
    if (!m) continue;
    pathKnown = true;
    if (r.method === ctx.method) return r.handler(ctx, m);
  }
  return pathKnown ? { status: 405 } : { status: 404, text: `null for uri: ${ctx.base}${ctx.path}` };
}

function seedAccounts(opts: JsmCloudDoubleOptions): Map<string, CloudAccount> {
  const accounts = new Map<string, CloudAccount>();
  for (const s of opts.existingAccounts ?? []) {
    const type = s.accountType ?? 'customer';
    const accountId = s.accountId ?? (type === 'customer' ? customerAccountId() : `5b10${accounts.size.toString(16).padStart(20, '0')}`);
    accounts.set(accountId, {
      accountId, accountType: type, emailAddress: s.email, displayName: s.displayName ?? s.email,
      active: s.active ?? true, hideEmail: s.hideEmail ?? false, createdVia: 'seed',
    });
  }
  return accounts;
}

function seedDesks(opts: JsmCloudDoubleOptions, idOf: (email: string) => string): CloudDesk[] {
  const fillers = Array.from({ length: opts.desks ?? 60 }, (_, i) => ({ key: `FILL${i + 1}`, name: `Filler Desk ${i + 1}`, customers: [] as string[] }));
  const projects = opts.projects ?? [{ key: 'ITH', name: 'IT Help' }];
  return [...fillers, ...projects].map((p, i) => ({
    id: String(i + 1), projectId: String(10000 + i + 1), projectKey: p.key, projectName: p.name,
    customers: new Set((p.customers ?? []).map(idOf)), organizations: new Set<string>(),
  }));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): { value: unknown; invalid: boolean } {
  if (raw === '') return { value: undefined, invalid: false };
  try {
    return { value: JSON.parse(raw) as unknown, invalid: false };
  } catch {
    return { value: raw, invalid: true };
  }
}

function flatten(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
