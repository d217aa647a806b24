import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { UsageError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { MailError, type InvitationMessage, type Mailer } from '../core/types.js';
import { composeInvitation, parseSender } from './compose.js';
import { defaultSmtpName, parseSmtpUrl, scrubSecret, SMTP_PASSWORD_HINT, type SmtpEndpoint } from './smtp-url.js';
import { builtInTemplates, type TemplateSet } from './templates.js';

export interface SmtpMailerOptions {
  url: string;
  from: string;
  /** The checked templates (default: the built-in ones). */
  templates?: TemplateSet;
  /** The password for the URL's user, from JSM_SMTP_PASSWORD or a file: never part of the URL. */
  password?: Secret;
  /** The EHLO/HELO name (`--smtp-name`); default `defaultSmtpName()`. */
  name?: string;
  /** Pooled connections open at once (default 5). */
  maxConnections?: number;
  /** Milliseconds; the defaults keep a dead or stalled server from holding a run for long. */
  timeouts?: { connection?: number; greeting?: number; socket?: number };
}

/** What a nodemailer error carries that tells where the send failed. */
interface SmtpFailure {
  message: string;
  code?: string;
  originalCode?: string;
  command?: string;
  responseCode?: number;
}

/** Per send attempt: the message streams nodemailer built for the wire (see `dataStarted`). */
interface Attempt {
  streams: Readable[];
}

const ATTEMPT_KEY = 'jsmProvisionAttempt';

function asFailure(err: unknown): SmtpFailure {
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      message: str(e['message']) ?? String(err),
      code: str(e['code']),
      originalCode: str(e['originalCode']),
      command: str(e['command']),
      responseCode: typeof e['responseCode'] === 'number' ? e['responseCode'] : undefined,
    };
  }
  return { message: String(err) };
}

/**
 * True once the SMTP connection started reading the message body. nodemailer only pipes the
 * message into the socket after the server answered DATA with 354 (smtp-connection `send()`:
 * `message.pipe(stream)` runs in the `_setEnvelope` callback), so before that not one byte of the
 * message can have reached the server, whatever the error says.
 */
function dataStarted(attempt: Attempt): boolean {
  return attempt.streams.some((s) => s.readableDidRead);
}

/**
 * At most once: a failure is in doubt exactly when the message body started going out and the
 * server did not answer it with a 4xx/5xx reply. A reply after the body (command DATA with a
 * responseCode) is a clear refusal; a dropped connection, timeout or anything else after the body
 * may have come after the server took the message.
 */
export function isInDoubt(err: SmtpFailure, bodyStarted: boolean): boolean {
  if (!bodyStarted) return false;
  const refused = err.command === 'DATA' && err.responseCode !== undefined && err.responseCode >= 400 && err.responseCode < 600;
  return !refused;
}

/** A pooled connection the server closed before this message's body went out: safe to try once more. */
function isStaleConnection(err: SmtpFailure, bodyStarted: boolean): boolean {
  return !bodyStarted && err.code === 'ECONNECTION' && err.responseCode === undefined;
}

function describe(err: SmtpFailure, inDoubt: boolean, to: string, where: string): string {
  // smtp-pool's wording for a message it did not requeue (maxRequeues: 0) says nothing to a user.
  const message = err.message.startsWith('Reached maximum number of retries') ? 'the connection closed before the message was sent' : err.message;
  const detail = err.originalCode && !message.includes(err.originalCode) ? `${message} (${err.originalCode})` : message;
  if (inDoubt) {
    return `the mail server ${where} did not confirm the invitation to ${to} after it went out (connection lost or timed out), so it may have been delivered: ${detail}; check whether it arrived before sending it again`;
  }
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH') {
    return `the mail server ${where} refused the login, nothing was sent: ${detail}; check the user and password in the SMTP URL`;
  }
  if (err.responseCode !== undefined) {
    return `the mail server ${where} refused the invitation to ${to}, it was not delivered: ${detail}`;
  }
  if (err.code === 'ECONNECTION') {
    return `the mail server ${where} closed the connection before the invitation to ${to} went out, nothing was sent: ${detail}; try again later`;
  }
  if (err.code === 'ETIMEDOUT') {
    return `the mail server ${where} did not answer in time, nothing was sent: ${detail}; check that it is up and reachable`;
  }
  if (['ESOCKET', 'EDNS', 'ETLS', 'EPROXY'].includes(err.code ?? '')) {
    return `could not reach the mail server ${where}, nothing was sent: ${detail}; check the host and port in the SMTP URL and that the server is up`;
  }
  return `sending the invitation to ${to} through ${where} failed, nothing was sent: ${detail}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError('bad-mail-option', `${what} must be a whole number above 0, not ${value}`, 'leave it unset to use the default');
  }
  return value;
}

/** The endpoint with its password: from the options, never from the URL. */
function endpointOf(opts: { url: string; password?: Secret }): SmtpEndpoint {
  const endpoint = parseSmtpUrl(opts.url);
  if (opts.password !== undefined) {
    if (endpoint.user === undefined) {
      throw new UsageError('smtp-password-without-user', `an SMTP password is set, but the SMTP URL ${JSON.stringify(endpoint.redacted)} names no user`, SMTP_PASSWORD_HINT);
    }
    endpoint.pass = opts.password.reveal();
  } else if (endpoint.user !== undefined) {
    throw new UsageError('missing-smtp-password', `the SMTP URL ${JSON.stringify(endpoint.redacted)} names the user ${JSON.stringify(endpoint.user)} but no password is set`, SMTP_PASSWORD_HINT);
  }
  return endpoint;
}

/** The connection settings both the pool and the preflight check use. */
function connectionOptions(endpoint: SmtpEndpoint, opts: Pick<SmtpMailerOptions, 'timeouts' | 'name'>) {
  const name = opts.name ?? defaultSmtpName();
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.secure,
    ...(name !== undefined ? { name } : {}),
    // A password never crosses a network in clear text: with credentials, smtp:// to anything but
    // loopback must upgrade with STARTTLS (smtps:// is TLS from the start).
    requireTLS: endpoint.user !== undefined && !endpoint.secure && !isLoopback(endpoint.host),
    connectionTimeout: positiveInt(opts.timeouts?.connection, 15_000, 'the SMTP connection timeout'),
    greetingTimeout: positiveInt(opts.timeouts?.greeting, 15_000, 'the SMTP greeting timeout'),
    socketTimeout: positiveInt(opts.timeouts?.socket, 60_000, 'the SMTP socket timeout'),
    logger: false,
  };
}

/** The pooled nodemailer transport, configured so it never sends a message twice by itself. */
function createTransport(endpoint: SmtpEndpoint, opts: SmtpMailerOptions) {
  return nodemailer.createTransport({
    pool: true,
    ...connectionOptions(endpoint, opts),
    ...(endpoint.user !== undefined ? { auth: { user: endpoint.user, pass: endpoint.pass ?? '' } } : {}),
    maxConnections: positiveInt(opts.maxConnections, 5, 'the number of SMTP connections'),
    // smtp-pool requeues a message whose connection closed while it was assigned (its 'close'
    // handler, `_shouldRequeuOnConnectionClose`, default 5 attempts) and sends it again on a new
    // connection. 0 turns that off: such a message fails, and this module decides (from whether
    // its body went out) whether it is in doubt or may be tried again.
    maxRequeues: 0,
    // invitations never attach files or fetch URLs
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

/**
 * Sends invitations over pooled SMTP connections. `send()` resolves on the server's 250 and
 * rejects with MailError; `inDoubt` is true only when the message may have been accepted.
 */
export function createSmtpMailer(opts: SmtpMailerOptions): Mailer {
  const endpoint = endpointOf(opts);
  parseSender(opts.from);
  const templates = opts.templates ?? builtInTemplates();
  const where = `${endpoint.host}:${endpoint.port}`;
  const transport = createTransport(endpoint, opts);
  const attempts = new Map<string, Attempt>();
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  // The 'stream' step runs once per send, after the message is compiled and before it goes to the
  // pool. A process function sees each stream the pool reads the message from (createReadStream).
  transport.use('stream', (mail, done) => {
    const id = (mail.data as Record<string, unknown>)[ATTEMPT_KEY];
    const attempt = typeof id === 'string' ? attempts.get(id) : undefined;
    if (attempt) {
      mail.message.processFunc((input) => {
        attempt.streams.push(input);
        return input;
      });
    }
    done();
  });

  async function deliver(message: InvitationMessage): Promise<{ messageId: string; response: string }> {
    const options = composeInvitation(message, opts.from, templates);
    for (let round = 1; ; round++) {
      const id = randomUUID();
      const attempt: Attempt = { streams: [] };
      attempts.set(id, attempt);
      try {
        const info = await transport.sendMail({ ...options, [ATTEMPT_KEY]: id } as SendMailOptions);
        return { messageId: message.messageId, response: String(info.response ?? '').trim() };
      } catch (raw) {
        const err = asFailure(raw);
        const started = dataStarted(attempt);
        if (round === 1 && isStaleConnection(err, started)) continue;
        const inDoubt = isInDoubt(err, started);
        throw new MailError(scrubSecret(describe(err, inDoubt, message.to.email.trim(), where), endpoint), inDoubt);
      } finally {
        attempts.delete(id);
      }
    }
  }

  return {
    kind: 'smtp',
    outbox: null,
    send(message) {
      if (closed) return Promise.reject(new MailError('the SMTP mailer is closed, nothing was sent', false));
      const sending = deliver(message);
      inFlight.add(sending);
      const forget = () => inFlight.delete(sending);
      sending.then(forget, forget);
      return sending;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Let deliveries under way finish (bounded by the timeouts) rather than cut them into doubt.
      await Promise.allSettled([...inFlight]);
      transport.close();
    },
  };
}

export interface SmtpCheckOptions {
  url: string;
  from: string;
  password?: Secret;
  name?: string;
  /** Milliseconds for each phase (connection, greeting, each answer); default 10 s each. */
  timeoutMs?: number;
}

/** The parts of nodemailer's SMTPConnection used to ask MAIL FROM alone (it has no public call for it). */
interface ConnectionInternals {
  _sendCommand?: (command: string) => void;
  _responseActions?: ((answer: string) => void)[];
}

/**
 * Before anything is written: connects as the run will (TLS, STARTTLS, EHLO with the same name),
 * logs in, and asks `MAIL FROM:<sender>`, then RSET and QUIT: nothing is sent. This is what
 * nodemailer's `verify()` does (connect, EHLO, STARTTLS, AUTH), plus the sender check `verify()`
 * leaves out. Each phase is bounded by `timeoutMs`. Throws UsageError (exit 2):
 * `smtp-unreachable`, `smtp-login-refused` or `smtp-sender-refused`, never with the password.
 */
export async function checkSmtp(opts: SmtpCheckOptions): Promise<void> {
  const endpoint = endpointOf(opts);
  const sender = parseSender(opts.from).address;
  const timeout = opts.timeoutMs ?? 10_000;
  const where = `${endpoint.host}:${endpoint.port}`;
  const connection = new SMTPConnection({
    ...connectionOptions(endpoint, { ...opts, timeouts: { connection: timeout, greeting: timeout, socket: timeout } }),
  } as SMTPConnection.Options);
  // A phase the server never answers is bounded by the socket timeout; this is the last resort.
  let timer: NodeJS.Timeout | undefined;
  const overall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${Math.round((timeout * 3) / 1000)} s`), { code: 'ETIMEDOUT' })), timeout * 3);
  });
  // SMTPConnection reports a refused or lost connection as an 'error' or 'end' event, not to the callbacks.
  const broken = new Promise<never>((_, reject) => {
    connection.on('error', reject);
    connection.once('end', () => reject(Object.assign(new Error('the server closed the connection'), { code: 'ECONNECTION' })));
  });
  broken.catch(() => undefined);
  overall.catch(() => undefined);
  const step = <T>(run: (done: (err?: unknown, value?: T) => void) => void): Promise<T> =>
    Promise.race([
      new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T)))),
      broken,
      overall,
    ]);
  let stage: 'connect' | 'login' | 'sender' = 'connect';
  try {
    await step<void>((done) => connection.connect((err) => done(err)));
    if (endpoint.user !== undefined) {
      stage = 'login';
      await step<void>((done) => connection.login({ user: endpoint.user ?? '', pass: endpoint.pass ?? '' }, (err) => done(err)));
    }
    stage = 'sender';
    const internals = connection as unknown as ConnectionInternals;
    if (typeof internals._sendCommand === 'function' && Array.isArray(internals._responseActions)) {
      const answer = await step<string>((done) => {
        internals._responseActions?.push((str) => done(undefined, str));
        internals._sendCommand?.(`MAIL FROM:<${sender}>`);
      });
      if (!answer.startsWith('2')) {
        throw new UsageError(
          'smtp-sender-refused',
          `the mail server ${where} refuses the sender ${sender}: ${scrubSecret(answer.trim(), endpoint)}; nothing was written or sent`,
          'set --mail-from (or JSM_MAIL_FROM) to an address this server lets you send from, or log in as a user allowed to use it',
        );
      }
      await step<void>((done) => connection.reset((err) => done(err)));
    }
    connection.quit();
  } catch (raw) {
    connection.close();
    if (raw instanceof UsageError) throw raw;
    const err = asFailure(raw);
    const detail = scrubSecret(err.message, endpoint);
    if (stage === 'login' || err.code === 'EAUTH' || err.code === 'ENOAUTH') {
      throw new UsageError(
        'smtp-login-refused',
        `the mail server ${where} refused the login of ${endpoint.user ?? '(no user)'}: ${detail}; nothing was written or sent`,
        'check the user in the SMTP URL and the password in JSM_SMTP_PASSWORD or --smtp-password-file',
      );
    }
    if (stage === 'sender') {
      throw new UsageError(
        'smtp-sender-refused',
        `the mail server ${where} refuses the sender ${sender}: ${detail}; nothing was written or sent`,
        'set --mail-from (or JSM_MAIL_FROM) to an address this server lets you send from',
      );
    }
    throw new UsageError(
      'smtp-unreachable',
      `cannot reach the mail server ${where}: ${detail}; nothing was written or sent`,
      'check the host and port in --smtp (or JSM_SMTP_URL) and that the server is up; or write invitations to --outbox (an import can also take --defer-invites, and send them later)',
    );
  } finally {
    clearTimeout(timer);
  }
}
