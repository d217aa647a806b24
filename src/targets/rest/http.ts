/**
 * The HTTP client of the REST target: one undici Pool per instance (bounded connections,
 * keep-alive, timeouts), authentication, and our own retry policy. undici's retry helper caps
 * Retry-After and never retries POST; here a 429 waits its Retry-After in full (every request
 * waits: the bucket is per user), 5xx and lost connections are retried a bounded number of times
 * with backoff and jitter, and 401/403 stop everything at once, never retried.
 */
import { Pool, type Dispatcher } from 'undici';
import { TargetError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import { Pacer, rateHeaders, retryAfterMs, type Verdict } from './rate.js';
import { describeAnswer } from './wire.js';

export interface Credentials {
  /** `Authorization` header value. */
  header: Secret;
  /** Basic credentials log in once and reuse the session cookie; a token is sent with every call. */
  kind?: 'basic' | 'token';
  /** The environment variables they came from, for messages ("JSM_TOKEN"). */
  source: string;
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
}

export interface RequestOptions {
  query?: Record<string, string | number>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses the caller handles itself instead of the usual meaning (e.g. 403 on the customer listing). */
  pass?: readonly number[];
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
  #pool: Pool;
  #options: HttpOptions;
  #fatal: TargetError | undefined;
  #random: () => number;
  #sleeps = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  #closed = false;
  /** A call these credentials authenticated has been answered (a later 401: they expired or were revoked). */
  #accepted = false;
  #notedUntil = 0;
  /** Basic only: the JSESSIONID of the session, the login under way, whether the server gives sessions at all. */
  #session: string | undefined;
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
    this.#pool = new Pool(options.baseUrl.origin, {
      connections: options.pacer.maxInFlight,
      keepAliveTimeout: 10_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: Math.min(timeout, 10_000),
    });
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
        // /info needs no login: only another path's answer shows the credentials work.
        if (answer.status < 400 && !path.endsWith('/servicedeskapi/info')) this.#accepted = true;
        return answer;
      }
      if (answer?.status === 429) {
        throttles++;
        const asked = retryAfterMs(answer.headers['retry-after']);
        if (throttles > (this.#options.max429 ?? 12)) {
          throw new RequestFailed(`JSM kept answering 429 Too Many Requests (${throttles} times); run the same command again later`, lost, false);
        }
        const wait = asked ?? this.#backoff(throttles) * 5;
        if (wait >= 5_000 && Date.now() + wait > this.#notedUntil + 1_000) {
          // Once per pause, not once per request that met it.
          this.#notedUntil = Date.now() + wait;
          this.#options.onNote?.(`JSM asked to wait ${Math.round(wait / 1000)} s before the next request (rate limit): waiting`);
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

  #refuseAuth(answer: Answer): void {
    if (answer.status !== 401 && answer.status !== 403) return;
    const url = this.baseUrl.href.replace(/\/$/, '');
    const source = this.#options.credentials.source;
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
            this.#options.credentials.kind === 'basic'
              ? `check that the account can still log in (a changed password, a deactivated account), set ${source} again, then run the same command again: what was done is recorded and is not done twice`
              : 'make a new personal access token (your Jira profile > Personal Access Tokens), set JSM_TOKEN to it, then run the same command again: what was done is recorded and is not done twice',
          )
        : answer.status === 401
        ? new TargetError(
            'auth-failed',
            `authentication failed for ${url}: check ${source}`,
            this.#options.credentials.kind === 'basic'
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

  async #once(method: Dispatcher.HttpMethod, path: string, options: RequestOptions, lost: number): Promise<Answer & { sessionEnded?: boolean }> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'jsm-provision',
      ...options.headers,
    };
    const basic = this.#options.credentials.kind === 'basic' && !this.#noSessions;
    // With Basic credentials one call logs in while the others wait for its session cookie.
    while (basic && this.#session === undefined && this.#loggingIn) await this.#loggingIn;
    const cookie = basic ? this.#session : undefined;
    let loggedIn: (() => void) | undefined;
    if (cookie !== undefined) {
      headers.cookie = `JSESSIONID=${cookie}`;
    } else {
      headers.authorization = this.#options.credentials.header.reveal();
      if (this.#options.credentials.kind === 'basic') {
        this.logins++;
        if (basic) this.#loggingIn = new Promise((resolve) => (loggedIn = resolve));
      }
    }
    try {
      const answer = await this.#send(method, path, query(options), headers, options, lost);
      if (basic) {
        const session = sessionCookie(answer.headers['set-cookie']);
        if (cookie !== undefined && answer.status === 401) {
          if (this.#session === cookie) this.#session = undefined;
          return { ...answer, sessionEnded: true };
        }
        if (session !== undefined && answer.status < 400) this.#session = session;
        // An instance that never gives a session (after a few logins: /info answers without one) is not waited for.
        else if (cookie === undefined && answer.status < 400 && session === undefined && ++this.#sessionless >= 3) this.#noSessions = true;
      }
      return answer;
    } finally {
      if (loggedIn) {
        this.#loggingIn = undefined;
        loggedIn();
      }
    }
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
      res = await this.#pool.request({ method, path: `${basePath}${path}${query}`, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      const code = codeOf(error);
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

/** The JSESSIONID a Set-Cookie header gives, if any. */
function sessionCookie(header: string | string[] | undefined): string | undefined {
  for (const line of Array.isArray(header) ? header : header ? [header] : []) {
    const m = /(?:^|;\s*)JSESSIONID=([^;\s]+)/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** The login URL when Jira answers with a CAPTCHA challenge (X-Authentication-Denied-Reason, X-Seraph-LoginReason). */
function captchaOf(headers: Answer['headers'], base: string): string | undefined {
  const flat = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(', ') : (v ?? ''));
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
