import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { InvitationKind } from '../core/types.js';
import { parseSender } from './compose.js';

/** The Message-ID domain when none is given: `.invalid` never resolves, so it claims no real host. */
export const DEFAULT_MESSAGE_ID_DOMAIN = 'jsm-provision.invalid';

const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The Message-ID of one invitation, the same every time for the same project, customer and kind,
 * so a re-sent invitation (`invitations send --in-doubt`) carries the id of the first attempt and a
 * receiving system can recognise the duplicate. The key and email are normalised (project keys are
 * upper case in JSM, the ledger keys customers by lower-cased email) so callers cannot disagree.
 */
export function messageIdFor(
  projectKey: string,
  emailKey: string,
  kind: InvitationKind,
  domain: string = DEFAULT_MESSAGE_ID_DOMAIN,
): string {
  if (!DOMAIN.test(domain) || domain.length > 253) {
    throw new TypeError(`messageIdFor: ${JSON.stringify(domain)} is not a plain domain name`);
  }
  // JSON of an array: no choice of key/email can make two different triples hash the same input.
  const input = JSON.stringify(['jsm-provision/invitation/v1', projectKey.trim().toUpperCase(), emailKey.trim().toLowerCase(), kind]);
  const digest = createHash('sha256').update(input, 'utf8').digest('hex').slice(0, 32);
  return `<${digest}@${domain}>`;
}

/**
 * The Message-ID domain for a sender (`--mail-from`): its domain, in ASCII (IDNA) and lower case,
 * so ids look like the sender's own mail and stay the same run after run. Without a sender, or
 * with a domain that is not a plain name, the `.invalid` default.
 */
export function messageIdDomainFor(from: string | undefined): string {
  const address = from === undefined || from.trim() === '' ? undefined : parseSender(from).address;
  const at = address?.lastIndexOf('@') ?? -1;
  if (address === undefined || at < 0) return DEFAULT_MESSAGE_ID_DOMAIN;
  const domain = domainToASCII(address.slice(at + 1)).toLowerCase();
  return domain.length <= 253 && DOMAIN.test(domain) ? domain : DEFAULT_MESSAGE_ID_DOMAIN;
}
