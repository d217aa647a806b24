import { hostname } from 'node:os';
import { UsageError } from '../core/errors.js';

/** Where the SMTP mailer connects, from `--smtp` / `JSM_SMTP_URL`. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** true for smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS when offered. */
  secure: boolean;
  user?: string;
  /** Never from the URL (it would show in `ps` and shell history): set by the caller from JSM_SMTP_PASSWORD or a file. */
  pass?: string;
  /** The URL as it may be shown: scheme, user and host:port. */
  redacted: string;
}

const HINT = 'use smtp://[user@]host:port or smtps://[user@]host:port (percent-encode @ : / in the user name)';

/** Where an SMTP password goes instead of the URL. */
export const SMTP_PASSWORD_HINT =
  'give the user in the URL (smtp://user@host:587) and the password in JSM_SMTP_PASSWORD or a file named by --smtp-password-file / JSM_SMTP_PASSWORD_FILE';

/** Best effort for a string that did not even parse: hide everything between the scheme and the last '@'. */
function redactUnparsed(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const scheme = raw.indexOf('://');
  const start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  return `${raw.slice(0, start)}***${raw.slice(at)}`;
}

function decode(part: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} has a badly percent-encoded ${what}`, HINT);
  }
}

/**
 * Parses and checks an SMTP URL. Throws UsageError('bad-smtp-url') for anything but
 * smtp:// or smtps:// with a host, and UsageError('smtp-password-in-url') for a URL that holds a
 * password: a password in an option value shows in `ps` and shell history. No message ever
 * contains the password.
 */
export function parseSmtpUrl(raw: string): SmtpEndpoint {
  // A bare host (`mail.example.com`, `mail.example.com:587`): the scheme is what is missing.
  const bare = /^\s*([a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d{1,5})?\s*$/i.exec(raw);
  if (bare !== null) {
    const port = bare[2] ?? ':587';
    throw new UsageError('bad-smtp-url', `the SMTP URL ${JSON.stringify(raw.trim())} has no scheme`, `give it as a URL: smtp://${bare[1]}${port}${port === ':465' ? ` (port 465 is TLS from the start: smtps://${bare[1]}:465)` : ''}; ${HINT}`);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${JSON.stringify(redactUnparsed(raw))} is not a valid URL`, HINT);
  }
  const secure = url.protocol === 'smtps:';
  // Only scheme, user and host:port are ever shown; a path or query could hold anything.
  const redacted = `${url.protocol}//${url.username ? `${url.username}${url.password ? ':***' : ''}@` : ''}${url.host}`;
  const shown = JSON.stringify(redacted);
  if (url.protocol !== 'smtp:' && !secure) {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} must start with smtp:// or smtps://`, HINT);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} has no host`, HINT);
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} has a path or options; only user, password, host and port are read`, HINT);
  }
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} has no usable port`, HINT);
  }
  const endpoint: SmtpEndpoint = { host, port, secure, redacted };
  if (url.password) {
    throw new UsageError('smtp-password-in-url', `the SMTP URL ${shown} holds a password: it would show in \`ps\` and shell history, so it is refused`, SMTP_PASSWORD_HINT);
  }
  if (url.username) endpoint.user = decode(url.username, 'user name', shown);
  return endpoint;
}

/**
 * Removes every form of the password that could end up in a message: as given, percent-encoded,
 * and in the base64 of AUTH PLAIN / AUTH LOGIN, in case a server echoes what it received.
 */
export function scrubSecret(text: string, endpoint: Pick<SmtpEndpoint, 'user' | 'pass'>): string {
  const pass = endpoint.pass;
  if (!pass) return text;
  const forms = new Set([
    pass,
    encodeURIComponent(pass),
    Buffer.from(pass, 'utf8').toString('base64'),
    Buffer.from(`\u0000${endpoint.user ?? ''}\u0000${pass}`, 'utf8').toString('base64'),
  ]);
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form) out = out.split(form).join('***');
  }
  return out;
}

/**
 * The name this host gives in EHLO/HELO when `--smtp-name` is not set: the host's name
 * (os.hostname()) when it is fully qualified (has a dot); otherwise undefined, and nodemailer
 * says `[127.0.0.1]` (an address literal, which RFC 5321 allows when there is no usable name).
 */
export function defaultSmtpName(): string | undefined {
  let name = '';
  try {
    name = hostname();
  } catch {
    return undefined;
  }
  return name.includes('.') && SMTP_NAME.test(name) ? name : undefined;
}

/** A domain name (letters, digits, hyphens, dots) or an address literal such as [192.0.2.1]. */
const SMTP_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\]|\[IPv6:[0-9A-Fa-f:.]+\])$/;

/** Checks `--smtp-name`: the name this host gives in EHLO, a domain name or an address literal. */
export function parseSmtpName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > 253 || !SMTP_NAME.test(name)) {
    throw new UsageError(
      'bad-smtp-name',
      `--smtp-name ${JSON.stringify(name.slice(0, 80))} is not a host name`,
      'give this host\'s fully qualified name (e.g. mail-client.example.com) or an address literal such as [192.0.2.1]',
    );
  }
  return name;
}

