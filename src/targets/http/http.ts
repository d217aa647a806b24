/**
 * The HTTP client of the REST target: one undici Pool per instance (bounded connections,
 * keep-alive, timeouts), authentication, and our own retry policy. undici's retry helper caps
 * Retry-After and never retries POST; here a 429 waits its Retry-After in full (every request
 * waits: the bucket is per user), 5xx and lost connections are retried a bounded number of times
 * with backoff and jitter, and 401/403 stop everything at once, never retried.
 * Every cookie the instance sets goes back with every call (a cluster's load balancer pins the
 * session with its own cookie), credentials go only to calls that need them, and a proxy from
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY is used through undici's own EnvHttpProxyAgent.
 * docs/jsm-api.md says where each behaviour of JSM relied on here comes from.
 */
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { TargetError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import { Pacer, rateHeaders, resetInMs, retryAfterMs, type Verdict } from './rate.js';
import { describeAnswer, errorText, htmlTitle, isHtml } from './wire.js';

export interface Credentials {
  /** `Authorization` header value. */
  header: Secret;
  /** Basic credentials log in once and reuse the session cookie; a token is sent with every call. */
  kind?: 'basic' | 'token';
  /** The environment variables they came from, for messages ("JSM_TOKEN"). */
  source: string;
  /** What to do when they are refused (401), where the Data Center advice does not fit (Cloud's API tokens). */
  refusedHint?: string;
}

export interface HttpOptions {
  /** Base URL with any context path, no trailing slash. */
  baseUrl: URL;
  credentials: Credentials;
  pacer: Pacer;
  /** Time allowed for the headers, and between body chunks, of an answer (default 30 s). */
  timeoutMs?: number;
  /** Attempts for an answer lost or a 5xx before the call fails (default 8: 10% faults then fail one call in ten million). */
  maxAttempts?: number;
  /** 429s one call may meet before it fails (default 12). */
  max429?: number;
  /** First backoff step (default 200 ms); doubles with each attempt, with jitter. */
  backoffMs?: number;
  /** A sentence for the user (a long Retry-After wait). */
  onNote?: (message: string) => void;
  random?: () => number;
  /** The proxy to use, from the environment (see proxyFrom); none: direct. */
  proxy?: ProxySettings;
}

/** HTTPS_PROXY / HTTP_PROXY / NO_PROXY as read from the environment (lower case first, as curl). */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses the caller handles itself instead of the usual meaning (e.g. 403 on the customer listing). */
  pass?: readonly number[];
  /** A call that needs no login (/info): no credentials are sent, so none is checked (or counted as a failed login). */
  anonymous?: boolean;
  /** The call returns JSON on success: a 2xx answer without it (empty, text) is a failure of the call. */
  returnsJson?: boolean;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: unknown;
  /** Earlier attempts of this call whose outcome is unknown (connection lost after sending, timeout, 502/504). */
  lostAnswers: number;
}

/** A call that got no usable answer after its retries; its message is for people. */
export class RequestFailed extends Error {
  override readonly name = 'RequestFailed';
  constructor(
    message: string,
    readonly lostAnswers: number,
    /** true when the connection was never made (refused, DNS): the instance is unreachable. */
    readonly unreachable: boolean,
    /** true when the call gave up on 429s: the instance answered, its rate limit refused. */
    readonly throttled = false,
  ) {
    super(message);
  }
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|UNABLE_TO_GET_ISSUER|DEPTH_ZERO/;
/** 5xx answers after which the request may have been done (a gateway gave up waiting). */
const MAYBE_DONE = new Set([500, 502, 504]);

export class HttpClient {
  readonly baseUrl: URL;
  readonly pacer: Pacer;
  #pool: Dispatcher;
  #options: HttpOptions;
  /** Every cookie the instance set (name -> value), sent back with every call as a browser does. */
  #jar = new Map<string, string>();
  #fatal: TargetError | undefined;
  #random: () => number;
  #sleeps = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  #closed = false;
  /** A call these credentials authenticated has been answered (a later 401: they expired or were revoked). */
  #accepted = false;
  #notedUntil = 0;
  /** Basic only: the login under way, whether the server gives sessions at all (the session is the jar's JSESSIONID). */
  #loggingIn: Promise<void> | undefined;
  #noSessions = false;
  #sessionless = 0;
  /** Basic logins sent (each is a password check on the server, an LDAP bind on directory-backed instances). */
  logins = 0;

  constructor(options: HttpOptions) {
    this.#options = options;
    this.baseUrl = options.baseUrl;
    this.pacer = options.pacer;
    this.#random = options.random ?? Math.random;
    const timeout = options.timeoutMs ?? 30_000;
    const settings = {
      connections: options.pacer.maxInFlight,
      keepAliveTimeout: 10_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: Math.min(timeout, 10_000),
    };
    const proxy = options.proxy;
    // undici's EnvHttpProxyAgent decides per origin (NO_PROXY) and tunnels through the proxy.
    // The values are passed explicitly: the environment given to the target, not process.env.
    this.#pool =
      proxy && (proxy.httpProxy || proxy.httpsProxy)
        ? new EnvHttpProxyAgent({
            ...settings,
            httpProxy: proxy.httpProxy ?? '',
            httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
            noProxy: proxy.noProxy ?? '',
            // As curl: plain http goes to the proxy as a request for the full URL; https through a CONNECT tunnel.
            proxyTunnel: false,
          })
        : new Agent(settings);
  }

  /** The proxy this target's calls go through, without its credentials (null: direct). */
  get proxy(): string | null {
    const proxy = this.#options.proxy;
    if (!proxy) return null;
    const https = this.baseUrl.protocol === 'https:';
    const uri = (https ? (proxy.httpsProxy ?? proxy.httpProxy) : proxy.httpProxy) ?? '';
    if (uri === '' || bypassed(this.baseUrl, proxy.noProxy ?? '')) return null;
    return withoutCredentials(uri);
  }

  /** The URL of a path, for messages. */
  urlOf(path: string): string {
    return `${this.baseUrl.href.replace(/\/$/, '')}${path}`;
  }

  /** One call with its retries. Throws TargetError when the run must stop, RequestFailed when this call gave up. */
  async request(method: Dispatcher.HttpMethod, path: string, options: RequestOptions = {}): Promise<Answer> {
    let lost = 0;
    let faults = 0;
    let throttles = 0;
    let sessionRetries = 0;
    for (;;) {
      this.#check();
      const ticket = await this.pacer.acquire();
      let verdict: Verdict = 'overloaded';
      let answer: (Answer & { sessionEnded?: boolean }) | undefined;
      let failure: { message: string; notSent: boolean } | undefined;
      try {
        answer = await this.#once(method, path, options, lost);
        if (answer.sessionEnded) {
          // The session ended (401 to its cookie): nothing was done; log in again and repeat the call.
          verdict = 'ok';
          if (++sessionRetries <= 3) continue;
        }
        verdict = answer.status === 429 ? 'throttled' : answer.status >= 500 ? 'overloaded' : 'ok';
      } catch (error) {
        if (error instanceof TargetError) {
          this.#stop(error);
          throw error;
        }
        failure = networkFailure(error);
      } finally {
        this.pacer.release(ticket, verdict, answer ? rateHeaders(answer.headers) : undefined);
      }
      this.#check();
      if (answer && answer.status !== 429 && (answer.status < 500 || answer.status === 501 || options.pass?.includes(answer.status))) {
        if (!options.pass?.includes(answer.status)) this.#refuseAuth(answer);
        const wrong = answer.status >= 200 && answer.status < 300 ? notWhatCallReturns(answer, options) : undefined;
        if (wrong !== undefined) {
          // Not an answer of JSM's: a proxy or a login page spoke instead. What the call did is
          // unknown, so a write counts its answer as lost (the caller looks the fact up).
          const login = isLoginPage(answer);
          if (login) {
            const error = new TargetError(
              'session-lost',
              `JSM answered ${method} ${path} with a login page (${wrong}) instead of its answer: the session ended or a single sign-on proxy in front of JSM asks to log in`,
              'nothing more was sent; check that the account can log in without a browser (a personal access token in JSM_TOKEN avoids single sign-on pages), then run the same command again: what was done is kept',
            );
            this.#stop(error);
            throw error;
          }
          throw new RequestFailed(`JSM answered ${answer.status} but not with what ${method} ${path} returns (${wrong})`, lost + (method === 'GET' ? 0 : 1), false);
        }
        // /info needs no login: only another path's answer shows the credentials work.
        if (answer.status < 400 && !path.endsWith('/servicedeskapi/info')) this.#accepted = true;
        return answer;
      }
      if (answer?.status === 429) {
        throttles++;
        // Cloud gives Retry-After, and X-RateLimit-Reset (when the limit resets, ISO 8601) beside or instead of it.
        const asked = retryAfterMs(answer.headers['retry-after']) ?? resetInMs(answer.headers['x-ratelimit-reset']);
        if (throttles > (this.#options.max429 ?? 12)) {
          throw new RequestFailed(`JSM kept answering 429 Too Many Requests (${throttles} times): its rate limit refused this account's calls`, lost, false, true);
        }
        const wait = asked ?? this.#backoff(throttles) * 5;
        if (wait >= 5_000 && Date.now() + wait > this.#notedUntil + 1_000) {
          // Once per pause, not once per request that met it.
          this.#notedUntil = Date.now() + wait;
          const reason = flat(answer.headers['ratelimit-reason']);
          this.#options.onNote?.(`JSM asked to wait ${Math.round(wait / 1000)} s before the next request (rate limit${reason ? `: ${reason}` : ''}): waiting`);
        }
        this.pacer.pause(wait);
        if (wait === 0) await this.#sleep(this.#backoff(throttles) / 4);
        continue;
      }
      faults++;
      if (answer && MAYBE_DONE.has(answer.status)) lost++;
      if (failure && !failure.notSent) lost++;
      const what = answer ? describeAnswer(answer.status, answer.body) : (failure?.message ?? 'no answer');
      const unreachable = failure?.notSent === true;
      // Nobody listening (refused, no such host) is not worth 8 tries: 3, then say so.
      if (faults >= Math.min(this.#options.maxAttempts ?? 8, unreachable ? 3 : Infinity)) {
        throw new RequestFailed(`JSM gave no usable answer after ${faults} attempts (last: ${what})`, lost, unreachable);
      }
      const asked = answer ? retryAfterMs(answer.headers['retry-after']) : undefined;
      await this.#sleep(Math.max(this.#backoff(faults), asked ?? 0));
    }
  }

  /** Makes every call from now on fail with `error` (and those waiting for a slot). */
  #stop(error: TargetError): void {
    this.#fatal ??= error;
    this.pacer.fail(this.#fatal);
  }

  #check(): void {
    if (this.#fatal) throw this.#fatal;
    if (this.#closed) throw new RequestFailed('the connection to JSM was closed', 0, false);
  }

  /** Makes every call from now on fail with this error (e.g. a directory that refuses every create). */
  stop(error: TargetError): void {
    this.#stop(error);
  }

  #refuseAuth(answer: Answer & { sentCredentials?: boolean }): void {
    const url = this.baseUrl.href.replace(/\/$/, '');
    const source = this.#options.credentials.source;
    const basic = this.#options.credentials.kind === 'basic';
    if (basic && isBasicDisabled(answer)) {
      const error = new TargetError(
        'basic-auth-disabled',
        `${url} has Basic authentication turned off, so JSM_USER and JSM_PASSWORD cannot log in`,
        'use a personal access token: in Jira, your profile picture > Profile > Personal Access Tokens > Create token (Jira 8.14+), then set JSM_TOKEN (or JSM_TOKEN_FILE) instead of JSM_USER and JSM_PASSWORD',
      );
      this.#stop(error);
      throw error;
    }
    // Seraph marks an answer to wrong credentials whatever its status (an anonymous 200 included).
    const failedLogin = answer.sentCredentials === true && /AUTHENTICATED_FAILED/i.test(flat(answer.headers['x-seraph-loginreason']));
    if (failedLogin && answer.status !== 401 && answer.status !== 403) {
      const error = new TargetError(
        'auth-failed',
        `authentication failed for ${url}: check ${source}`,
        basic
          ? 'Jira counted a failed login (X-Seraph-LoginReason: AUTHENTICATED_FAILED); nothing more was sent, so no second one is counted; check the user name and password (the user name, not the email, on an instance with LDAP), or use a personal access token (JSM_TOKEN)'
          : 'Jira did not accept the token (X-Seraph-LoginReason: AUTHENTICATED_FAILED); make a new personal access token and set JSM_TOKEN',
      );
      this.#stop(error);
      throw error;
    }
    if (answer.status !== 401 && answer.status !== 403) return;
    const captcha = captchaOf(answer.headers, url);
    if (captcha !== undefined) {
      const error = new TargetError(
        'captcha-required',
        `Jira asks for a CAPTCHA for this account after failed logins: log in once in a browser at ${captcha}, then run again (or use a personal access token)`,
        `JSM answered ${answer.status} with a CAPTCHA challenge; nothing more was sent, so no further failed login is counted; a personal access token (JSM_TOKEN) never meets the CAPTCHA`,
      );
      this.#stop(error);
      throw error;
    }
    const error =
      answer.status === 401 && this.#accepted
        ? new TargetError(
            'auth-failed',
            `JSM stopped accepting ${source} during the run (401 after earlier calls succeeded): it expired or was revoked`,
            this.#options.credentials.refusedHint !== undefined
              ? `${this.#options.credentials.refusedHint}, then run the same command again: what was done is recorded and is not done twice`
              : this.#options.credentials.kind === 'basic'
              ? `check that the account can still log in (a changed password, a deactivated account), set ${source} again, then run the same command again: what was done is recorded and is not done twice`
              : 'make a new personal access token (your Jira profile > Personal Access Tokens), set JSM_TOKEN to it, then run the same command again: what was done is recorded and is not done twice',
          )
        : answer.status === 401
        ? new TargetError(
            'auth-failed',
            `authentication failed for ${url}: check ${source}`,
            this.#options.credentials.refusedHint !== undefined
              ? `JSM answered 401 (${describeAnswer(401, answer.body)}); ${this.#options.credentials.refusedHint}`
              : this.#options.credentials.kind === 'basic'
              ? `JSM answered 401 (${describeAnswer(401, answer.body)}); check the user name and password (the user name, not the email, on an instance with LDAP), or use a personal access token (JSM_TOKEN)`
              : `JSM answered 401 (${describeAnswer(401, answer.body)}); personal access tokens need JSM 4.15 (Jira 8.14) or newer, else set JSM_USER and JSM_PASSWORD`,
          )
        : new TargetError(
            'auth-failed',
            `authentication failed for ${url}: check ${source} (the account is known but not allowed to do this)`,
            `JSM answered 403 (${describeAnswer(403, answer.body)}); use an account that administers Jira users and the service project`,
          );
    this.#stop(error);
    throw error;
  }

  async #once(method: Dispatcher.HttpMethod, path: string, options: RequestOptions, lost: number): Promise<Answer & { sessionEnded?: boolean; sentCredentials?: boolean }> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'jsm-provision',
      // Every servicedeskapi call opts in (some refuse without it: 400 on DC, 412 on Cloud).
      ...(path.startsWith('/rest/servicedeskapi/') ? { 'x-experimentalapi': 'opt-in' } : {}),
      ...options.headers,
    };
    const anonymous = options.anonymous === true;
    const basic = this.#options.credentials.kind === 'basic' && !this.#noSessions && !anonymous;
    // With Basic credentials one call logs in while the others wait for its session cookie.
    while (basic && !this.#jar.has(SESSION) && this.#loggingIn) await this.#loggingIn;
    const session = basic ? this.#jar.get(SESSION) : undefined;
    let loggedIn: (() => void) | undefined;
    const sentCredentials = !anonymous && session === undefined;
    if (sentCredentials) {
      headers.authorization = this.#options.credentials.header.reveal();
      if (this.#options.credentials.kind === 'basic') {
        this.logins++;
        if (basic) this.#loggingIn = new Promise((resolve) => (loggedIn = resolve));
      }
    }
    // Every cookie goes back (a load balancer's ROUTEID or AWSALB pins the node that holds the session).
    const cookies = [...this.#jar].filter(([name]) => name !== SESSION || session !== undefined).map(([name, value]) => `${name}=${value}`);
    if (cookies.length > 0) headers.cookie = cookies.join('; ');
    try {
      const answer = await this.#send(method, path, query(options), headers, options, lost);
      const given = this.#keepCookies(answer.headers['set-cookie'], answer.status, !anonymous);
      if (basic) {
        if (session !== undefined && answer.status === 401) {
          if (this.#jar.get(SESSION) === session) this.#jar.delete(SESSION);
          return { ...answer, sessionEnded: true };
        }
        // An instance that never gives a session (after a few logins: /info answers without one) is not waited for.
        if (session === undefined && answer.status < 400 && !given && ++this.#sessionless >= 3) this.#noSessions = true;
      }
      return { ...answer, sentCredentials };
    } finally {
      if (loggedIn) {
        this.#loggingIn = undefined;
        loggedIn();
      }
    }
  }

  /** Keeps every cookie of the answer's Set-Cookie lines (an expired one is dropped); true when a session cookie came with a good answer. */
  #keepCookies(header: string | string[] | undefined, status: number, authenticated: boolean): boolean {
    let session = false;
    for (const line of Array.isArray(header) ? header : header ? [header] : []) {
      const m = /^\s*([^=;\s]+)=([^;]*)/.exec(line);
      if (!m?.[1]) continue;
      const [, name, value = ''] = m;
      const expired = /;\s*max-age=0\b/i.test(line) || /;\s*expires=([^;]+)/i.test(line) && Date.parse(/;\s*expires=([^;]+)/i.exec(line)?.[1] ?? '') < Date.now();
      if (name === SESSION) {
        // A session given with a refusal, or to an anonymous call, is not the account's session.
        if (!authenticated || status >= 400 || expired || value === '') {
          if (expired) this.#jar.delete(name);
          continue;
        }
        session = true;
      }
      if (expired) this.#jar.delete(name);
      else this.#jar.set(name, value);
    }
    return session;
  }

  async #send(
    method: Dispatcher.HttpMethod,
    path: string,
    query: string,
    headers: Record<string, string>,
    options: RequestOptions,
    lost: number,
  ): Promise<Answer> {
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const basePath = this.baseUrl.pathname.replace(/\/+$/, '');
    let res;
    try {
      res = await this.#pool.request({ origin: this.baseUrl.origin, method, path: `${basePath}${path}${query}`, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      const code = codeOf(error);
      // https:// to a port that speaks plain HTTP: OpenSSL's "wrong version number", not worth a retry.
      if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (this.baseUrl.protocol === 'https:' && /wrong version number/i.test(messageOf(error)))) {
        throw new TargetError(
          'tls-failed',
          `${this.baseUrl.host} does not speak TLS: it answered the https:// call in plain HTTP`,
          `if JSM is served over plain HTTP there, give --target http://${this.baseUrl.host}${this.baseUrl.pathname.replace(/\/+$/, '')}; else check the port`,
        );
      }
      if (code && TLS_CODES.test(code)) {
        throw new TargetError(
          'tls-failed',
          `the TLS certificate of ${this.baseUrl.host} was not accepted (${code})`,
          'if the instance uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its PEM file and run again',
        );
      }
      throw error;
    }
    // Always read the body to its end: an unread body holds its connection.
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, headers: res.headers, body: parseBody(text, type), lostAnswers: lost };
  }

  #backoff(attempt: number): number {
    const base = (this.#options.backoffMs ?? 200) * 2 ** Math.min(attempt - 1, 5);
    const capped = Math.min(base, 5_000);
    return Math.round(capped / 2 + (this.#random() * capped) / 2);
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        done: resolve,
      };
      this.#sleeps.add(entry);
    });
  }

  /** Closes the pool once calls under way are done (at once after a refusal); wakes anything sleeping so it sees the close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.pacer.fail(new RequestFailed('the connection to JSM was closed', 0, false));
    for (const entry of this.#sleeps) {
      clearTimeout(entry.timer);
      entry.done();
    }
    this.#sleeps.clear();
    // After a refusal nothing in flight matters any more: drop it rather than wait for it.
    await (this.#fatal ? this.#pool.destroy() : this.#pool.close());
  }
}

function query(options: RequestOptions): string {
  return options.query ? `?${new URLSearchParams(Object.entries(options.query).map(([k, v]): [string, string] => [k, String(v)]))}` : '';
}

/** Jira's session cookie. */
const SESSION = 'JSESSIONID';

function flat(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** Jira 8.16+ with Basic authentication turned off: `403 {"message":"Basic Authentication has been disabled on this instance."}`. */
function isBasicDisabled(answer: Answer): boolean {
  if (answer.status !== 401 && answer.status !== 403) return false;
  return /basic auth\w*\s+(?:has been|is)\s+disabled/i.test(errorText(answer.body));
}

/** Why a 2xx answer is not what the call returns (an HTML page, text, nothing where JSON is due), or undefined when it is. */
function notWhatCallReturns(answer: Answer, options: RequestOptions): string | undefined {
  const body = answer.body;
  if (typeof body === 'string') {
    if (isHtml(body)) return `an HTML page${htmlTitle(body) ? ` titled "${htmlTitle(body)}"` : ''}`;
    if (options.returnsJson) return 'text, not JSON';
  }
  if (options.returnsJson && body === undefined) return 'an empty answer where JSON is due';
  return undefined;
}

/** A login page (Jira's, or a single sign-on proxy's): a password field, or Seraph saying the caller is anonymous. */
function isLoginPage(answer: Answer): boolean {
  const body = typeof answer.body === 'string' ? answer.body : '';
  return /type=["']?password|name=["']?os_password|login-form|\blog ?in\b|sign ?in|anmelden/i.test(body) || /AUTHENTICATION_DENIED|AUTHENTICATED_FAILED/i.test(flat(answer.headers['x-seraph-loginreason']));
}

/** A proxy URL with any user and password taken out (they are never printed). */
export function withoutCredentials(uri: string): string {
  try {
    const url = new URL(uri);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return '(a proxy URL that cannot be read)';
  }
}

/** Whether NO_PROXY sends this URL direct (`*`, a host or a domain suffix, with or without a leading dot, an optional port). */
export function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.+?)(?::(\d+))?$/.exec(entry);
    const name = (m?.[1] ?? entry).replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (m?.[2] && Number(m[2]) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The proxy settings of an environment, as curl reads them: lower case first, then upper case
 * (curl reads `http_proxy` in lower case only; upper case is taken too, as most tools do).
 */
export function proxyFrom(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string): string | undefined => (env[name.toLowerCase()] ?? env[name.toUpperCase()])?.trim() || undefined;
  const httpProxy = pick('http_proxy');
  const httpsProxy = pick('https_proxy');
  const noProxy = pick('no_proxy');
  if (!httpProxy && !httpsProxy) return undefined;
  return { ...(httpProxy ? { httpProxy } : {}), ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) };
}

/** The login URL when Jira answers with a CAPTCHA challenge (X-Authentication-Denied-Reason, X-Seraph-LoginReason). */
function captchaOf(headers: Answer['headers'], base: string): string | undefined {
  const denied = flat(headers['x-authentication-denied-reason']);
  const seraph = flat(headers['x-seraph-loginreason']);
  if (!/CAPTCHA_CHALLENGE/i.test(denied) && !/AUTHENTICATION_DENIED/i.test(seraph)) return undefined;
  const url = /login-url=([^;,\s]+)/i.exec(denied)?.[1];
  return url && /^https?:\/\//i.test(url) ? url : `${base}/login.jsp`;
}

function parseBody(text: string, contentType: string): unknown {
  if (text === '') return undefined;
  if (contentType.includes('json') || /^[[{]/.test(text.trimStart())) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** An error's message and its causes' (undici wraps the socket's error). */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? `${error.message} ${messageOf(cause)}` : error.message;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? codeOf(cause) : undefined;
}

/** What a failed attempt means: sent or not, and words for people. */
function networkFailure(error: unknown): { message: string; notSent: boolean } {
  const code = codeOf(error);
  const notSent = code !== undefined && NOT_SENT.has(code);
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
    UND_ERR_BODY_TIMEOUT: 'the answer stalled',
    UND_ERR_SOCKET: 'connection lost before the answer',
    ECONNRESET: 'connection reset',
  };
  const message = (code && words[code]) ?? (error instanceof Error ? error.message : String(error));
  return { message, notSent };
}
