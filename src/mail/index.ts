import { UsageError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import type { Mailer } from '../core/types.js';
import { createOutboxMailer } from './outbox.js';
import { createSmtpMailer } from './smtp.js';
import type { TemplateSet } from './templates.js';

export { composeInvitation, escapeHtml, isPlainAddress, parseSender, renderInvitation, singleLine, templateView, type Mailbox } from './compose.js';
export { DEFAULT_MESSAGE_ID_DOMAIN, messageIdDomainFor, messageIdFor } from './message-id.js';
export { builtInTemplates, loadTemplates, TemplateSet, type RenderedMessage } from './templates.js';
export { createOutboxMailer, outboxFileName, type OutboxMailerOptions } from './outbox.js';
export { checkSmtp, createSmtpMailer, isInDoubt, type SmtpCheckOptions, type SmtpMailerOptions } from './smtp.js';
export { defaultSmtpName, parseSmtpName, parseSmtpUrl, scrubSecret, type SmtpEndpoint } from './smtp-url.js';

/** The sender of outbox files when none is configured; SMTP needs a real one. */
export const DEFAULT_OUTBOX_FROM = 'jsm-provision@localhost';

export interface MailerConfig {
  /** `--smtp` / `JSM_SMTP_URL`: when set, invitations go by SMTP. */
  smtpUrl?: string;
  /** `--mail-from` / `JSM_MAIL_FROM`. */
  from?: string;
  /** `--outbox` / `JSM_OUTBOX`, already defaulted by the caller (outbox/ beside the local store). */
  outboxDir: string;
  /** The SMTP password (JSM_SMTP_PASSWORD or a file), never part of the URL. */
  smtpPassword?: Secret;
  /** The EHLO name (`--smtp-name`). */
  smtpName?: string;
  /** Pooled SMTP connections (default 5). */
  maxConnections?: number;
  /** The templates, checked before anything was written (default: the built-in ones). */
  templates?: TemplateSet;
}

/**
 * SMTP when an SMTP URL is configured, else the outbox folder. Throws UsageError (exit 2) for a
 * bad URL or sender, and for SMTP without a sender. Nothing connects or writes until `send()`.
 */
export function createMailer(opts: MailerConfig): Mailer {
  const from = opts.from?.trim() || undefined;
  const smtpUrl = opts.smtpUrl?.trim() || undefined;
  if (smtpUrl !== undefined) {
    if (from === undefined) {
      throw new UsageError('missing-mail-from', 'invitations go by SMTP, but no sender address is set', 'set --mail-from or JSM_MAIL_FROM');
    }
    return createSmtpMailer({
      url: smtpUrl,
      from,
      ...(opts.smtpPassword !== undefined ? { password: opts.smtpPassword } : {}),
      ...(opts.smtpName !== undefined ? { name: opts.smtpName } : {}),
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.templates ? { templates: opts.templates } : {}),
    });
  }
  return createOutboxMailer({ dir: opts.outboxDir, from: from ?? DEFAULT_OUTBOX_FROM, ...(opts.templates ? { templates: opts.templates } : {}) });
}
