import { UsageError } from '../core/errors.js';

/** Where the SMTP mailer connects, from `--smtp` / `JSM_SMTP_URL`. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** true for smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS when offered. */
  secure: boolean;
  user?: string;
  pass?: string;
  /** The URL with the password replaced by `***`: the only form of it that may be shown. */
  redacted: string;
}

const HINT = 'use smtp://[user:pass@]host:port or smtps://[user:pass@]host:port (percent-encode @ : / in the user or password)';

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
 * smtp:// or smtps:// with a host; no message ever contains the password.
 */
export function parseSmtpUrl(raw: string): SmtpEndpoint {
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
  if (url.username) endpoint.user = decode(url.username, 'user name', shown);
  if (url.password) endpoint.pass = decode(url.password, 'password', shown);
  if (endpoint.pass !== undefined && endpoint.user === undefined) {
    throw new UsageError('bad-smtp-url', `the SMTP URL ${shown} has a password but no user`, HINT);
  }
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
