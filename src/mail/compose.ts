import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { UsageError } from '../core/errors.js';
import { MailError, type InvitationMessage } from '../core/types.js';
import { builtInTemplates, type RenderedMessage, type TemplateSet, type TemplateView } from './templates.js';

export { escapeHtml } from './templates.js';

/** A mailbox as nodemailer takes it: never a string glued together from user input. */
export interface Mailbox {
  name: string;
  address: string;
}

// C0/C1 controls, DEL, and the Unicode line/paragraph separators: none belongs in a name or subject.
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;
// `<id@domain>` with nothing that could end the header line or the angle brackets.
const MESSAGE_ID = /^<[^\s\p{Cc}<>@]+@[^\s\p{Cc}<>@]+>$/u;
// One plain addr-spec: no white space, controls, brackets, quotes, commas or a second '@'.
const ADDRESS = /^[^\s\p{Cc}@<>()[\]\\,;:"]+@[^\s\p{Cc}@<>()[\]\\,;:"]+$/u;

/** Control characters (CR, LF, tabs ...) become one space; the result is trimmed. */
export function singleLine(value: string): string {
  return value.replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim();
}

/** True for one plain email address that can be handed to SMTP as is. */
export function isPlainAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

/**
 * Parses the sender (`--mail-from` / `JSM_MAIL_FROM`): `jane@example.com` or `Help Desk <help@example.com>`.
 * Throws UsageError (exit 2) for anything else: a list, a group, a bare name, control characters.
 */
export function parseSender(from: string): Mailbox {
  const problem = (why: string) =>
    new UsageError(
      'bad-mail-from',
      `the sender address ${JSON.stringify(from)} is not usable: ${why}`,
      'set --mail-from or JSM_MAIL_FROM to one address, like help@example.com or "Help Desk <help@example.com>"',
    );
  if (/[\p{Cc}\u2028\u2029]/u.test(from)) throw problem('it contains control characters');
  const parsed = addressparser(from.trim());
  if (parsed.length !== 1) throw problem('it must be exactly one address');
  const only = parsed[0];
  if (!only || only.group !== undefined || !isPlainAddress(only.address)) throw problem('it is not an email address');
  return { name: singleLine(only.name), address: only.address };
}

// The built-in templates for callers that pass none: read once, as they never change while a process runs.
let builtIn: TemplateSet | undefined;
function defaultTemplates(): TemplateSet {
  builtIn ??= builtInTemplates();
  return builtIn;
}

/**
 * Checks `--portal-url` / `JSM_PORTAL_URL` / `portalUrl`: the customer portal's address that
 * invitations link to. An absolute http(s) URL with a host, no user or password in it, nothing
 * invisible; returns it as written in full (URL.href). Throws UsageError (exit 2).
 */
export function checkPortalUrl(value: string): string {
  // A user and password before the host are never repeated back (they would land in logs).
  const shown = value.slice(0, 200).replace(/\/\/[^/?#@]*@/, '//…@');
  const bad = (why: string) =>
    new UsageError('bad-portal-url', `--portal-url ${JSON.stringify(shown)}: ${why}`, 'give the customer portal\'s address, e.g. --portal-url https://help.example.com/servicedesk/customer/portal/3');
  const trimmed = value.trim();
  if (trimmed === '') throw bad('it is empty');
  if (/[\s\p{Cc}\p{Cf}]/u.test(trimmed)) throw bad('it contains white space or invisible characters');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw bad('it is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`it must start with https:// (or http://), not ${url.protocol}`);
  if (url.hostname === '') throw bad('it names no host');
  if (url.username !== '' || url.password !== '') throw bad('it holds a user name or password, which every customer would see');
  return url.href;
}

/** The portal link, only when it is an http(s) URL: anything else (javascript:, mailto:) is left out. */
function portalLink(portalUrl: string | undefined): string | undefined {
  if (!portalUrl) return undefined;
  try {
    const url = new URL(portalUrl.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The invitation as nodemailer message options: one recipient (also the only envelope recipient),
 * a deterministic Message-ID, a subject on one line, a text part and (when the template has one)
 * an HTML part, both with CRLF line ends. Never a password: templates get only TemplateView's
 * fields. Throws MailError (not in doubt: nothing was sent) when the recipient is not one plain address.
 */
export function composeInvitation(msg: InvitationMessage, from: string, templates: TemplateSet = defaultTemplates()): SendMailOptions {
  const address = msg.to.email.trim();
  if (!isPlainAddress(address)) {
    throw new MailError(`cannot send an invitation to ${JSON.stringify(msg.to.email)}: it is not one plain email address`, false);
  }
  if (!MESSAGE_ID.test(msg.messageId)) {
    throw new MailError(`cannot send an invitation with Message-ID ${JSON.stringify(msg.messageId)}: it must look like <id@domain>`, false);
  }
  const sender = parseSender(from);
  const name = singleLine(msg.to.fullName);
  const rendered = renderInvitation(msg, sender, templates);
  if (rendered.subject === '') {
    throw new MailError(`cannot send the invitation to ${address}: the subject from ${rendered.textFile} is empty for it`, false);
  }
  return {
    from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
    to: { name, address },
    // Explicit, so the SMTP envelope can only ever hold this one recipient, whatever the headers say.
    envelope: { from: sender.address, to: [address] },
    subject: rendered.subject,
    messageId: msg.messageId,
    headers: { 'Auto-Submitted': 'auto-generated' },
    text: rendered.text,
    ...(rendered.html !== undefined ? { html: rendered.html } : {}),
  };
}

/** The values a template sees, each on one line; the portal link only when it is http(s). */
export function templateView(msg: InvitationMessage, sender: Mailbox): TemplateView {
  return {
    name: singleLine(msg.to.fullName),
    email: msg.to.email.trim(),
    project: singleLine(msg.project.name) || singleLine(msg.project.key),
    portalUrl: portalLink(msg.project.portalUrl) ?? '',
    from: sender.name || sender.address,
    passwordSet: msg.mustChangePassword,
  };
}

/** Subject, text and HTML of one invitation from its template (also what `invitations preview` shows). */
export function renderInvitation(msg: InvitationMessage, sender: Mailbox, templates: TemplateSet): RenderedMessage {
  return templates.render(msg.kind, msg.language, templateView(msg, sender));
}
