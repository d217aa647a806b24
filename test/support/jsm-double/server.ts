/**
 * The HTTP side of the JSM double: context path, recording, latency, precise and random faults,
 * authentication, the per-user rate limit, then the routes. Only node:http.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isAnonymousPath, route, type Ctx, type State } from './routes.js';
import { newOrganization } from './organizations.js';
import type {
  Desk, FailNext, Faults, JsmDouble, JsmDoubleOptions, RecordedCall, User,
} from './types.js';
import { EXPERIMENTAL_REFUSED, NOT_AUTHENTICATED, TokenBucket, errorFor, experimental, fillHeaders, mulberry32, platformError, type Reply } from './wire.js';

const WRITES = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export async function startJsmDouble(opts: JsmDoubleOptions = {}): Promise<JsmDouble> {
  const contextPath = normaliseContextPath(opts.contextPath);
  const token = opts.token ?? 'test-token';
  const tokenUser = opts.tokenUser ?? 'admin';
  const version = opts.version ?? '5.12.0';
  const state: State = {
    users: seedUsers(opts), desks: seedDesks(opts), properties: new Map(), creates: [], notificationsSent: [],
    version, platformVersion: opts.platformVersion ?? platformOf(version),
    duplicateStatus: opts.duplicateStatus ?? 400,
    customerListRefused: opts.customerListRefused === true ? 404 : opts.customerListRefused || false,
    nextUserId: 10100,
    language: opts.language ?? 'en',
    readOnlyDirectory: opts.readOnlyDirectory ?? false,
    ...(opts.onCreate ? { onCreate: opts.onCreate } : {}),
    organizations: [], nextOrganizationId: 1, organizationCreates: [], organizationJoins: [], deskOrganizationAdds: [], customerRemovals: [], organizationLeaves: [],
    emailVisibility: opts.emailVisibility ?? 'public',
    ...(opts.passwordPolicy ? { passwordPolicy: opts.passwordPolicy } : {}),
    account: {
      browseUsers: opts.account?.browseUsers ?? true, admin: opts.account?.admin ?? true, agentOf: opts.account?.agentOf ?? [],
      ...(opts.account?.emailAddress !== undefined ? { emailAddress: opts.account.emailAddress } : {}),
    },
  };
  for (const seed of opts.organizations ?? []) {
    const org = newOrganization(state, seed.name, seed.members ?? []);
    for (const key of seed.projects ?? []) state.desks.find((d) => d.projectKey === key)?.organizations.add(org.id);
  }
  /** JSESSIONID -> its user, the node that holds it, when it started and how many calls it served. */
  const sessions = new Map<string, { user: string; node: number; started: number; requests: number }>();
  let lostSessions = 0;
  let nextNode = 0;
  let nextSession = 1;
  let logins = 0;
  let failedLogins = 0;
  const failuresOf = new Map<string, number>();
  const captchaAfter = opts.captcha?.afterFailures ?? 3;
  const calls: RecordedCall[] = [];
  let faults: Faults = { status503Rate: 0, cutAfterWriteRate: 0, seed: 1, ...opts.faults, failNext: [...(opts.faults?.failNext ?? [])] };
  let rand = mulberry32(faults.seed);
  const buckets = new Map<string, TokenBucket>();
  const timers = new Set<NodeJS.Timeout>();
  let base = '';

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });

  function takeFailNext(method: string, path: string): FailNext | undefined {
    const i = faults.failNext.findIndex((f) => (f.method === undefined || f.method.toUpperCase() === method)
      && (typeof f.path === 'string' ? f.path === path : f.path.test(path)));
    return i < 0 ? undefined : faults.failNext.splice(i, 1)[0];
  }

  function sessionOf(cookieHeader: string | undefined, node: number): string | null {
    const id = /(?:^|;\s*)JSESSIONID=([^;\s]+)/.exec(cookieHeader ?? '')?.[1];
    const session = id === undefined ? undefined : sessions.get(id);
    if (!session || id === undefined) return null;
    // Another node of the cluster does not know this session.
    if (session.node !== node) {
      lostSessions++;
      return null;
    }
    const limits = opts.sessions ?? {};
    const ended = (limits.maxRequests !== undefined && session.requests >= limits.maxRequests)
      || (limits.ttlMs !== undefined && Date.now() - session.started > limits.ttlMs);
    if (ended) {
      sessions.delete(id);
      return null;
    }
    session.requests++;
    return session.user;
  }

  function captchaRequired(user: string): boolean {
    return opts.captcha !== undefined && (opts.captcha.active === true || (failuresOf.get(user) ?? 0) >= captchaAfter);
  }

  let tokenUses = 0;
  function authenticate(h: string | undefined): { user: string | null; forbidden: boolean; captcha?: boolean; basicDisabled?: boolean } {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h ?? '');
    if (bearer) {
      // A token revoked (or expired) mid-run: accepted for its first calls, refused from then on.
      if (bearer[1] === token && (opts.revokeTokenAfter === undefined || ++tokenUses <= opts.revokeTokenAfter)) return { user: tokenUser, forbidden: false };
      if (opts.forbiddenToken !== undefined && bearer[1] === opts.forbiddenToken) return { user: 'agent', forbidden: true };
    }
    const basic = /^Basic\s+(\S+)\s*$/i.exec(h ?? '');
    if (basic && opts.basicDisabled) return { user: null, forbidden: false, basicDisabled: true };
    if (basic && opts.basic) {
      const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? decoded.slice(0, colon) : decoded;
      if (captchaRequired(user)) return { user: null, forbidden: false, captcha: true };
      if (colon > 0 && user === opts.basic.user && decoded.slice(colon + 1) === opts.basic.password) {
        logins++;
        return { user: opts.basic.user, forbidden: false };
      }
      failedLogins++;
      failuresOf.set(user, (failuresOf.get(user) ?? 0) + 1);
    }
    return { user: null, forbidden: false };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const inside = contextPath === '' || url.pathname === contextPath || url.pathname.startsWith(`${contextPath}/`);
    const path = inside ? url.pathname.slice(contextPath.length) || '/' : url.pathname;
    const body = parseBody(raw);
    const call: RecordedCall = {
      method, path, query: Object.fromEntries(url.searchParams), headers: flatten(req.headers),
      body: body.value, status: null, time: Date.now(), user: null,
    };
    calls.push(call);
    opts.onRequest?.(call, state.users);
    const extra: Record<string, string | string[]> = {};
    const setCookies: string[] = [];
    // A cluster's load balancer: the node its cookie names, else the next in turn (and the cookie for it).
    let node = 0;
    if (opts.cluster) {
      const pinned = new RegExp(`(?:^|;\\s*)${opts.cluster.cookie}=\\.?node(\\d+)`).exec(call.headers.cookie ?? '')?.[1];
      const n = pinned === undefined ? Number.NaN : Number(pinned);
      if (Number.isInteger(n) && n >= 0 && n < opts.cluster.nodes) node = n;
      else {
        node = nextNode++ % opts.cluster.nodes;
        setCookies.push(`${opts.cluster.cookie}=.node${node}; Path=/; HttpOnly`);
      }
    }
    const answer = (reply: Reply): void => {
      if (res.destroyed || req.socket.destroyed) return;
      if (setCookies.length > 0) extra['Set-Cookie'] = setCookies;
      const headers: Record<string, string | string[]> = { 'X-AUSERNAME': call.user ?? 'anonymous', ...extra, ...reply.headers };
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
    const cut = (kind: 'cut-after-write' | 'cut-before-write'): void => {
      call.fault = kind;
      req.socket.destroy();
    };

    if (!inside) return answer({ status: 404, text: 'Not Found' });
    if ((opts.latencyMs ?? 0) > 0) await sleep(opts.latencyMs ?? 0);

    let cutAfter = false;
    const forced = takeFailNext(method, path);
    if (forced) {
      call.fault = forced.kind;
      switch (forced.kind) {
        case '503': return answer(unavailable());
        case '401': return answer(platformError(401, [NOT_AUTHENTICATED]));
        case '403': return answer(errorFor(path, 403, 'You do not have permission to perform this operation.', 'sd.forbidden'));
        case '429': return answer({ ...platformError(429, ['Rate limit exceeded.']), headers: { 'Retry-After': String(forced.retryAfter ?? 1) } });
        case 'cut-before-write': return cut('cut-before-write');
        case 'cut-after-write': cutAfter = true; break;
        // A single sign-on proxy whose session ended: its login page, answered 200, nothing done.
        case 'login-page-200': return answer({ ...loginPage(state.language), status: 200 });
        // Something in between answered 200 with nothing, and did nothing.
        case 'empty-200': return answer({ status: 200 });
      }
    }
    const ctx: Ctx = { method, path, query: call.query, headers: call.headers, body: body.value, base, state, user: null };
    if (isAnonymousPath(path)) {
      // /info needs no login, but Basic credentials sent with it are checked (and a wrong password counted).
      if (call.headers.authorization?.toLowerCase().startsWith('basic ') && !opts.basicDisabled) {
        const checked = authenticate(call.headers.authorization);
        if (checked.user === null && !checked.captcha) extra['X-Seraph-LoginReason'] = 'AUTHENTICATED_FAILED';
        if (checked.user !== null) {
          const id = `S${nextSession++}${Math.random().toString(36).slice(2, 10)}`.toUpperCase();
          sessions.set(id, { user: checked.user, node, started: Date.now(), requests: 0 });
          setCookies.push(`JSESSIONID=${id}; Path=${contextPath || '/'}; HttpOnly`);
        }
      }
      return answer(route(ctx));
    }
    if (opts.experimentalEverywhere && path.startsWith('/rest/servicedeskapi/') && !experimental(ctx)) {
      return answer(EXPERIMENTAL_REFUSED(opts.experimentalEverywhere));
    }

    // A session cookie authenticates without credentials; credentials win when both are sent.
    const sessionUser = call.headers.authorization === undefined ? sessionOf(call.headers.cookie, node) : null;
    const auth = sessionUser !== null ? { user: sessionUser, forbidden: false } : authenticate(call.headers.authorization);
    if ('basicDisabled' in auth && auth.basicDisabled) {
      return answer({ status: 403, json: { message: 'Basic Authentication has been disabled on this instance.' } });
    }
    if ('captcha' in auth && auth.captcha) {
      return answer({
        ...platformError(403, [state.language === 'de' ? 'CAPTCHA erforderlich.' : 'CAPTCHA required.']),
        headers: {
          'X-Authentication-Denied-Reason': `CAPTCHA_CHALLENGE; login-url=${base}/login.jsp`,
          'X-Seraph-LoginReason': 'AUTHENTICATION_DENIED',
        },
      });
    }
    if (auth.user === null) {
      if (call.headers.authorization !== undefined) extra['X-Seraph-LoginReason'] = 'AUTHENTICATED_FAILED';
      // Anonymous access allowed: wrong credentials on a read are answered as to anyone, marked failed.
      if (opts.anonymousReads && method === 'GET') return answer(route(ctx));
      return answer(opts.html401 ? loginPage(state.language) : platformError(401, [state.language === 'de' ? NICHT_ANGEMELDET : NOT_AUTHENTICATED]));
    }
    if (sessionUser === null && call.headers.authorization?.toLowerCase().startsWith('basic ')) {
      const id = `S${nextSession++}${Math.random().toString(36).slice(2, 10)}`.toUpperCase();
      sessions.set(id, { user: auth.user, node, started: Date.now(), requests: 0 });
      setCookies.push(`JSESSIONID=${id}; Path=${contextPath || '/'}; HttpOnly`);
    }
    call.user = auth.user;
    ctx.user = auth.user;
    if (opts.rateLimit) {
      const { capacity, refillPerSecond, retryAfterSeconds } = opts.rateLimit;
      let bucket = buckets.get(auth.user);
      if (!bucket) buckets.set(auth.user, bucket = new TokenBucket(capacity, refillPerSecond, Date.now()));
      const taken = bucket.take(Date.now());
      const { interval, fill } = fillHeaders(refillPerSecond);
      Object.assign(extra, {
        'X-RateLimit-Limit': String(capacity), 'X-RateLimit-Remaining': String(taken.remaining),
        'X-RateLimit-Interval-Seconds': String(interval), 'X-RateLimit-FillRate': String(fill),
      });
      if (!taken.ok) {
        return answer({ ...platformError(429, ['Rate limit exceeded.']),
          headers: { 'Retry-After': String(retryAfterSeconds ?? taken.retryAfter) } });
      }
    }
    if (auth.forbidden) return answer(errorFor(path, 403, 'You do not have permission to perform this operation.', 'sd.forbidden'));

    if (WRITES.has(method) && !forced) {
      const draw503 = rand();
      const drawCut = rand();
      if (draw503 < faults.status503Rate) {
        call.fault = '503';
        return answer(unavailable());
      }
      if (drawCut < faults.cutAfterWriteRate) cutAfter = true;
    }
    if (WRITES.has(method) && raw.length > 0) {
      if (!(call.headers['content-type'] ?? '').toLowerCase().includes('application/json')) {
        return answer({ status: 415, text: 'Unsupported Media Type' });
      }
      if (body.invalid) return answer(errorFor(path, 400, 'The request body is not valid JSON.', 'sd.request.body.invalid'));
    }

    const createsBefore = state.creates.length;
    const reply = route(ctx);
    // Which client made an account: a request sent by a process just before it was killed can be
    // handled after a second process started, but its connection was accepted before.
    for (const c of state.creates.slice(createsBefore)) c.connectedAt = connectedAt.get(req.socket) ?? call.time;
    if (cutAfter) {
      for (const c of state.creates.slice(createsBefore)) c.answered = false;
      return cut('cut-after-write');
    }
    answer(reply);
  }

  const connectedAt = new WeakMap<Socket, number>();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) { res.destroy(); return; }
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`jsm-double: ${String(err)}`);
    });
  });
  server.on('connection', (socket: Socket) => connectedAt.set(socket, Date.now()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${contextPath}`;

  let closing: Promise<void> | undefined;
  return {
    url: base, calls, users: state.users, desks: state.desks, properties: state.properties,
    creates: state.creates, notificationsSent: state.notificationsSent,
    organizations: state.organizations, organizationCreates: state.organizationCreates,
    organizationJoins: state.organizationJoins, deskOrganizationAdds: state.deskOrganizationAdds,
    customerRemovals: state.customerRemovals, organizationLeaves: state.organizationLeaves,
    get faults(): Faults { return { ...faults, failNext: [...faults.failNext] }; },
    get logins(): number { return logins; },
    get failedLogins(): number { return failedLogins; },
    get lostSessions(): number { return lostSessions; },
    expireSessions(): void { sessions.clear(); },
    setFaults(f: Partial<Faults>): void {
      faults = { ...faults, ...f, failNext: f.failNext ? [...f.failNext] : faults.failNext };
      if (f.seed !== undefined) rand = mulberry32(f.seed);
    },
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

const NICHT_ANGEMELDET = 'Sie sind nicht angemeldet. Für diesen Vorgang ist eine Authentifizierung erforderlich.';

/** Jira's 401 page when the answer is HTML: a whole login page, scripts and all. */
function loginPage(language: 'en' | 'de'): Reply {
  const title = language === 'de' ? 'Anmelden - Jira' : 'Log in - Jira';
  return {
    status: 401,
    text: `<!DOCTYPE html>\n<html lang="${language}"><head><meta charset="utf-8"><title>${title}</title><script>window.WRM=window.WRM||{};WRM._unparsedData={"secret-looking":"x"};</script></head><body id="jira" class="aui-layout"><div id="page"><form id="login-form" action="/login.jsp" method="post"><input name="os_username"><input name="os_password" type="password"></form></div></body></html>`,
    headers: { 'Content-Type': 'text/html;charset=UTF-8' },
  };
}

/** A 503 as a proxy in front of a busy or restarting Jira sends it: HTML, not JSON. */
function unavailable(): Reply {
  return { status: 503, text: '<html><body><h1>503 Service Unavailable</h1></body></html>', headers: { 'Content-Type': 'text/html' } };
}

function normaliseContextPath(p: string | undefined): string {
  const trimmed = (p ?? '').replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** JSM 3.x/4.x/5.x ship on Jira 7.x/8.x/9.x with the same minor and patch. */
function platformOf(version: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return m ? `${Number(m[1]) + 4}.${m[2]}.${m[3] ?? '0'}` : '9.12.0';
}

function seedDesks(opts: JsmDoubleOptions): Desk[] {
  const fillers = Array.from({ length: opts.desks ?? 60 }, (_, i) => ({ key: `FILL${i + 1}`, name: `Filler Desk ${i + 1}`, customers: [] as string[] }));
  const projects = opts.projects ?? [{ key: 'ITH', name: 'IT Help' }];
  return [...fillers, ...projects].map((p, i) => ({
    id: String(i + 1), projectId: String(10000 + i + 1), projectKey: p.key, projectName: p.name,
    customers: new Set((p.customers ?? []).map((c) => c.toLowerCase())), access: ('access' in p ? p.access : undefined) ?? 'closed',
    organizations: new Set<string>(),
  }));
}

function seedUsers(opts: JsmDoubleOptions): Map<string, User> {
  const users = new Map<string, User>();
  (opts.existingUsers ?? []).forEach((s, i) => {
    users.set(s.name.toLowerCase(), {
      name: s.name, key: s.key ?? `JIRAUSER${10000 + i}`, emailAddress: s.emailAddress ?? s.name,
      displayName: s.displayName ?? s.name, active: s.active ?? true, createdVia: 'seed',
      applicationKeys: s.applicationKeys ?? [], ...(s.password !== undefined ? { password: s.password } : {}),
    });
  });
  return users;
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
