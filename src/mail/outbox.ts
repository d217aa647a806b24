import { createHash } from 'node:crypto';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { MailError, type InvitationMessage, type Mailer } from '../core/types.js';
import { writeFailure, writeFileAtomically } from '../util/atomic-file.js';
import { makeFolders } from '../util/folders.js';
import { composeInvitation, parseSender } from './compose.js';
import { builtInTemplates, type TemplateSet } from './templates.js';

export interface OutboxMailerOptions {
  dir: string;
  from: string;
  /** The checked templates (default: the built-in ones). */
  templates?: TemplateSet;
}

/** Characters kept as they are in a file name; everything else becomes '_'. */
function safePart(value: string, max: number): string {
  return value
    .replace(/[^A-Za-z0-9._@+-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, max);
}

/**
 * `<recipient>_<id>.eml`, from the lower-cased address and the Message-ID: the same invitation
 * always gets the same name (a re-send overwrites it), and no input can add a path separator.
 * An id that is not plain letters and digits (not from messageIdFor) is replaced by its hash.
 */
export function outboxFileName(message: InvitationMessage): string {
  const local = /^<([A-Za-z0-9]{1,64})@/.exec(message.messageId)?.[1];
  const id = local ?? createHash('sha256').update(message.messageId, 'utf8').digest('hex').slice(0, 32);
  return `${safePart(message.to.email.trim().toLowerCase(), 120)}_${id}.eml`;
}

/** Writes each invitation as an RFC 5322 `.eml` file into `dir` (created with mode 700 if missing). */
export function createOutboxMailer(opts: OutboxMailerOptions): Mailer {
  parseSender(opts.from);
  const templates = opts.templates ?? builtInTemplates();
  const dir = path.resolve(opts.dir);
  let closed = false;
  let ready: Promise<void> | undefined;

  // Not mkdir's `recursive` (it never returns for a folder under /proc): see makeFolders.
  const ensureDir = async () => {
    await makeFolders(dir);
  };

  return {
    kind: 'outbox',
    outbox: dir,
    async send(message) {
      if (closed) throw new MailError('the outbox mailer is closed, nothing was written', false);
      const options = composeInvitation(message, opts.from, templates);
      const file = path.join(dir, outboxFileName(message));
      try {
        ready ??= ensureDir().catch((err: unknown) => {
          ready = undefined;
          throw err;
        });
        await ready;
        const eml = await new MailComposer(options).compile().build();
        await writeFileAtomically(file, eml);
      } catch (err) {
        // writeFileAtomically leaves no partial file; the cause in words (a full disk says so).
        // The cause only: the way out of a failed invitation is always `invitations send --failed`
        // (the sender adds it), and a new file has no "last good copy" to keep.
        const failure = writeFailure(file, err);
        const cause = failure.message.replace(/; the last good copy was kept$/, '');
        throw new MailError(`could not write the invitation to ${message.to.email.trim()} into ${dir}, nothing was written: ${cause}`, false);
      }
      return { messageId: message.messageId, response: `written to ${file}` };
    },
    async close() {
      closed = true;
    },
  };
}
