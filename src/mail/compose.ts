import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { UsageError } from '../core/errors.js';
import { MailError, type InvitationMessage } from '../core/types.js';

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

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
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

/** One paragraph: plain text, and HTML built from escaped pieces (`link` becomes an anchor). */
type Piece = string | { link: string };
type Paragraph = Piece[];

function paragraphs(msg: InvitationMessage, project: string, name: string, link: string | undefined): Paragraph[] {
  const email = msg.to.email.trim();
  const portalName = `the ${project} customer portal`;
  const greeting: Paragraph = [name ? `Hello ${name},` : 'Hello,'];
  const signOff: Paragraph = ['Thank you,\n', project];
  if (msg.kind === 'verify') {
    return [
      greeting,
      [`Please confirm that ${email} is your email address for ${project}.`],
      link
        ? ['Open this link to confirm your address and set a password for the customer portal:\n', { link }]
        : [`Open ${portalName} to confirm your address and set a password.`],
      ['If you did not expect this email, you can ignore it.'],
      signOff,
    ];
  }
  const access: Paragraph = link
    ? [`Welcome! You now have an account on ${portalName}, where you can raise requests and follow them:\n`, { link }]
    : [`Welcome! You now have an account on ${portalName}, where you can raise requests and follow them.`];
  const password: Paragraph = msg.mustChangePassword
    ? [`Sign in with ${email}. An administrator has set a password for you: please change it when you first log in.`]
    : [`Sign in with ${email}. To set your password, choose "Forgot password" on the portal's login page.`];
  return [greeting, access, password, signOff];
}

function toText(paras: Paragraph[]): string {
  return paras.map((p) => p.map((piece) => (typeof piece === 'string' ? piece : piece.link)).join('')).join('\n\n') + '\n';
}

function toHtml(paras: Paragraph[], title: string): string {
  const body = paras
    .map((p) => {
      const inner = p
        .map((piece) =>
          typeof piece === 'string'
            ? escapeHtml(piece).replace(/\n/g, '<br>\n')
            : `<a href="${escapeHtml(piece.link)}">${escapeHtml(piece.link)}</a>`,
        )
        .join('');
      return `<p>${inner}</p>`;
    })
    .join('\n');
  return `<!doctype html>\n<html>\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body>\n</html>\n`;
}

/**
 * The invitation as nodemailer message options: one recipient (also the only envelope recipient),
 * a deterministic Message-ID, a text and an HTML part. Never a password: the message has none.
 * Throws MailError (not in doubt: nothing was sent) when the recipient is not one plain address.
 */
export function composeInvitation(msg: InvitationMessage, from: string): SendMailOptions {
  const address = msg.to.email.trim();
  if (!isPlainAddress(address)) {
    throw new MailError(`cannot send an invitation to ${JSON.stringify(msg.to.email)}: it is not one plain email address`, false);
  }
  if (!MESSAGE_ID.test(msg.messageId)) {
    throw new MailError(`cannot send an invitation with Message-ID ${JSON.stringify(msg.messageId)}: it must look like <id@domain>`, false);
  }
  const sender = parseSender(from);
  const project = singleLine(msg.project.name) || singleLine(msg.project.key);
  const name = singleLine(msg.to.fullName);
  const subject = msg.kind === 'verify' ? `Verify your email for ${project}` : `Welcome to ${project}`;
  const paras = paragraphs(msg, project, name, portalLink(msg.project.portalUrl));
  return {
    from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
    to: { name, address },
    // Explicit, so the SMTP envelope can only ever hold this one recipient, whatever the headers say.
    envelope: { from: sender.address, to: [address] },
    subject,
    messageId: msg.messageId,
    headers: { 'Auto-Submitted': 'auto-generated' },
    text: toText(paras),
    html: toHtml(paras, subject),
  };
}
