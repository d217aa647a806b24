import type { MessageIds } from '../../core/send.js';
import type { Target } from '../../core/target.js';
import type { InvitationKind, Mailer, ProjectInfo } from '../../core/types.js';
import { checkRestDelivery, mailSetup, newRunId, type MailSetup } from './context.js';
import type { Output } from '../io/output.js';
import type { MailSettings } from '../settings/settings.js';
import { asRun } from '../program/signals.js';
import { templatesForCloud } from '../../mail/templates.js';

/** What the core's send steps take from a session (runImport, resend, sendOne). */
export interface SendPorts {
  mailer: () => Promise<Mailer>;
  messageId: MessageIds;
  outbox: string | null;
  runId: string;
  signal: AbortSignal;
}

/**
 * One sending of invitations, as `import-*`, `add-customer` and `invitations send` all do it:
 * the mail route from the settings, the project as invitations name it, the checks before the
 * first write (a JSM run needs SMTP or an outbox named on purpose; the person's yes; the server or
 * the outbox folder), the run under the interrupt signal with a new run id, and the close (the
 * SMTP pool, the templates' notes, and an outbox folder made for nothing taken away again).
 */
export class SendSession {
  readonly mail: MailSetup;
  /** The project as invitations name it (--portal-url wins over the target's portal). */
  readonly project: ProjectInfo;
  private undoOutbox: () => Promise<void> = async () => undefined;

  constructor(
    private readonly settings: MailSettings,
    private readonly target: Target,
    project: ProjectInfo,
    private readonly out: Output,
    /** The messages this run may send, each of which needs its template (checked now). */
    kinds: readonly InvitationKind[],
  ) {
    // A custom domain is known to be JSM Cloud only now: Cloud's built-in texts, then.
    const mail = target.deployment === 'cloud' ? { ...settings, templates: templatesForCloud(settings.templates) } : settings;
    mail.templates.need(kinds);
    this.mail = mailSetup(mail, (message) => out.warn(message));
    this.project = this.mail.forInvitations(project);
  }

  get outbox(): string | null {
    return this.mail.outbox;
  }

  /** A run that sends (a dry run included, which refuses what the real one would): it has somewhere to send. */
  checkRoute(): void {
    checkRestDelivery(this.target, this.settings);
  }

  /**
   * Before the first write of a run that sends: the route, then the person's yes (false: declined,
   * nothing done), then the SMTP server takes the login and sender, or the outbox folder is made.
   */
  async prepare(confirm?: () => Promise<boolean>): Promise<boolean> {
    this.checkRoute();
    if (confirm !== undefined && !(await confirm())) return false;
    await this.preflight();
    return true;
  }

  /** The server or the outbox folder checked (nothing is sent); the folder made is taken away by `undo`. */
  async preflight(): Promise<void> {
    this.undoOutbox = await this.mail.preflight();
  }

  /** The sending itself: under the interrupt signal (a first Ctrl-C finishes what is in flight), with a new run id. */
  run<T>(send: (ports: SendPorts) => Promise<T>): Promise<T> {
    return asRun((signal) => send({ mailer: this.mail.mailer, messageId: this.mail.messageId, outbox: this.mail.outbox, runId: newRunId(), signal }));
  }

  /** An outbox folder the preflight made, taken away again (if still empty): the run sent nothing. */
  async undo(): Promise<void> {
    await this.undoOutbox();
  }

  /** The SMTP pool closed (always: call in `finally`). */
  async close(): Promise<void> {
    await this.mail.close();
  }

  /** After the run: the languages that fell back to another template, said once. */
  notes(): void {
    for (const note of this.mail.templates.notes()) this.out.note(note);
  }
}
