import { parseAddressHeader } from 'mailparser';
import { UsageError } from '../core/errors.js';
import { foldName } from '../core/validate.js';
import { messageHeaders, type Headers } from './headers.js';
import type { Exclusions } from './exclusions.js';

export { parseExclusions, type Exclusions } from './exclusions.js';

/** A person a message names: its sender, or someone it copied. */
export interface Person {
  email: string;
  fullName: string;
}

/** Someone not provisioned, and why. `email` is empty when the message named no address. */
export interface Skip {
  email: string;
  reason: string;
}

/**
 * What one message gives: either the whole message is skipped (automatic mail, a bounce, the inbox's
 * own mail ...), or its people, with the Cc'd addresses that were left out.
 */
export type MessagePeople = { skip: Skip } | { people: Person[]; skippedCc: Skip[] };


export interface SenderOptions {
  /** Take the sender from Reply-To when the message has one. */
  replyTo: boolean;
  /** Add the Cc'd people too. */
  includeCc: boolean;
  exclusions: Exclusions;
}

// Mail systems, not people (RFC 2142, RFC 3834 and common practice).
const MAIL_SYSTEM = /^(mailer-daemon|postmaster)$/i;
const NO_REPLY = /(^|[._+-])(no-?reply|no_reply|do-?not-?reply|do_not_reply)([._+-]|$)/i;

/** Reads the people of one message from its raw bytes (the headers are enough). */
export function peopleOf(raw: Buffer, options: SenderOptions): MessagePeople {
  const headers = messageHeaders(raw);
  const from = mailboxes(headers.all('from'))[0];
  const replyTo = options.replyTo ? mailboxes(headers.all('reply-to')).find((m) => m.email !== '') : undefined;
  // Who sent it first (a bounce says mailer-daemon best), then how (auto-replies, lists, reports).
  // With --reply-to, a From that is the inbox's own or a no-reply address (a web form sending for
  // a customer) gives way to the Reply-To; a mail system's never does (a bounce is no one's mail).
  const fromSkip = from && from.email !== '' ? addressSkip(from.email, options.exclusions) : undefined;
  if (from && fromSkip && (replyTo === undefined || isMailSystem(from.email))) {
    return { skip: { email: from.email, reason: fromSkip + replyToHint(from.email, headers, options) } };
  }
  const automatic = automaticReason(headers);
  if (automatic) return { skip: { email: from?.email ?? '', reason: automatic } };
  if (!from || from.email === '') {
    const named = from !== undefined || headers.all('from').some((value) => value.trim() !== '');
    return { skip: { email: '', reason: named ? 'the From header names no address' : 'the message has no From header' } };
  }

  let sender = from;
  if (replyTo !== undefined) {
    const skip = addressSkip(replyTo.email, options.exclusions);
    if (skip) return { skip: { email: replyTo.email, reason: `Reply-To: ${skip}` } };
    const sameAsFrom = replyTo.email.toLowerCase() === from.email.toLowerCase();
    sender = replyTo.name === '' && sameAsFrom ? from : replyTo;
  }

  const people = [person(sender)];
  const skippedCc: Skip[] = [];
  if (options.includeCc) {
    for (const cc of mailboxes(headers.all('cc'))) {
      if (cc.email === '') continue;
      const skip = addressSkip(cc.email, options.exclusions);
      if (skip) skippedCc.push({ email: cc.email, reason: `Cc: ${skip}` });
      else people.push(person(cc));
    }
  }
  return { people, skippedCc };
}

interface Mailbox {
  email: string;
  name: string;
}

/** Address header values -> mailboxes, groups flattened, names decoded (RFC 2047) and folded. */
function mailboxes(values: string[]): Mailbox[] {
  if (values.length === 0) return [];
  // Punycode domains are kept as written: that form is deliverable by every SMTP server.
  const parsed = parseAddressHeader(values, { flatten: true, decodePunycode: false });
  return parsed.value.map((a) => ({ email: (a.address ?? '').trim(), name: foldName(a.name ?? '') }));
}

/** The person a mailbox names: the display name, or else the address's local part. */
function person(mailbox: Mailbox): Person {
  // Outlook quotes names in apostrophes ('Jane Doe' <jane@example.com>): the quotes are not the name.
  const name = mailbox.name.replace(/^'(.+)'$/s, '$1').trim();
  const local = mailbox.email.slice(0, Math.max(0, mailbox.email.lastIndexOf('@')));
  return { email: mailbox.email, fullName: name !== '' ? name : local };
}

/**
 * Without --reply-to, a message from a no-reply or the inbox's own address that names someone in
 * Reply-To (a web form sending for a visitor) is skipped, but the reason names that person and the
 * flag: the Reply-To of such mail is as often a shop's help desk (a receipt from no-reply@) as a
 * visitor, and an invitation sent to the wrong one cannot be taken back, while a skip is undone by
 * running again with --reply-to.
 */
function replyToHint(fromEmail: string, headers: Headers, options: SenderOptions): string {
  if (options.replyTo || isMailSystem(fromEmail)) return '';
  const replyTo = mailboxes(headers.all('reply-to')).find((m) => m.email !== '' && m.email.toLowerCase() !== fromEmail.toLowerCase());
  if (replyTo === undefined || addressSkip(replyTo.email, options.exclusions) !== undefined) return '';
  return `; its Reply-To names ${shorten(replyTo.email)}: to provision the Reply-To person of such mail (a web form's visitor), run again with --reply-to`;
}

/** Why a message is automatic mail (RFC 3834, list and bulk mail, reports), or undefined. */
function automaticReason(headers: Headers): string | undefined {
  const auto = headers.first('auto-submitted');
  if (auto !== undefined) {
    const token = (auto.split(';')[0] ?? '').trim().toLowerCase();
    if (token !== '' && token !== 'no') return `automatic message (Auto-Submitted: ${shorten(auto)})`;
  }
  const precedence = headers.first('precedence')?.toLowerCase();
  if (precedence === 'auto_reply') return `automatic reply (Precedence: ${precedence})`;
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list') {
    return `bulk or list mail (Precedence: ${precedence})`;
  }
  const listId = headers.first('list-id');
  if (listId !== undefined && listId !== '') return `mailing-list message (List-Id: ${shorten(listId)})`;
  // Bulk senders must offer one-click unsubscribing (RFC 8058; Gmail's and Yahoo's rules since
  // 2024): a newsletter may carry List-Unsubscribe and nothing else that says what it is. A person
  // writing to the inbox never sends it.
  const unsubscribe = headers.first('list-unsubscribe');
  if (unsubscribe !== undefined && unsubscribe !== '') return `bulk mail (List-Unsubscribe: ${shorten(unsubscribe)})`;
  for (const name of ['x-autoreply', 'x-autorespond']) {
    const value = headers.first(name);
    if (value !== undefined && value !== '' && value.toLowerCase() !== 'no') return `automatic reply (${name === 'x-autoreply' ? 'X-Autoreply' : 'X-Autorespond'}: ${shorten(value)})`;
  }
  const type = headers.first('content-type')?.toLowerCase();
  if (type?.startsWith('multipart/report')) return 'delivery or read report (Content-Type: multipart/report)';
  return undefined;
}

/** An address in lower case, with its local part and domain. */
function addressParts(email: string): { lower: string; local: string; domain: string } {
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf('@');
  return at >= 0 ? { lower, local: lower.slice(0, at), domain: lower.slice(at + 1) } : { lower, local: lower, domain: '' };
}

function isMailSystem(email: string): boolean {
  return MAIL_SYSTEM.test(addressParts(email).local);
}

/** Why an address is not a customer's: a mail system, a no-reply address, the inbox's own. */
function addressSkip(email: string, exclusions: Exclusions): string | undefined {
  const { lower, local, domain } = addressParts(email);
  if (MAIL_SYSTEM.test(local)) return `a mail system address (${local}), not a person`;
  if (NO_REPLY.test(local)) return 'a no-reply address';
  if (exclusions.addresses.has(lower)) return `the inbox's own address (--exclude ${lower})`;
  if (exclusions.domains.has(domain)) return `an excluded domain (--exclude @${domain})`;
  for (const parent of exclusions.subdomainsOf ?? []) {
    if (domain.endsWith(`.${parent}`)) return `a subdomain of an excluded domain (--exclude @*.${parent})`;
  }
  return undefined;
}

function shorten(value: string): string {
  // Header values come from strangers: no control or bidi characters reach a terminal.
  const one = value.replace(/[\s\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 80)}…` : one;
}
