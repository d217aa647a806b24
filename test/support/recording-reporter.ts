import { MailError, type InvitationMessage, type Mailer, type Reporter } from '../../src/core/types.js';

/** One call the core made on its reporter, in order. */
export type ReporterEvent =
  | { type: 'info'; message: string }
  | { type: 'warn'; message: string }
  | { type: 'reading'; count: number }
  | { type: 'progress'; done: number; total: number }
  | { type: 'sending'; done: number; total: number };

/** A `Reporter` that records every event, for tests of what the core tells the user and when. */
export class RecordingReporter implements Reporter {
  readonly events: ReporterEvent[] = [];

  info(message: string): void {
    this.events.push({ type: 'info', message });
  }
  warn(message: string): void {
    this.events.push({ type: 'warn', message });
  }
  reading(count: number): void {
    this.events.push({ type: 'reading', count });
  }
  progress(done: number, total: number): void {
    this.events.push({ type: 'progress', done, total });
  }
  sending(done: number, total: number): void {
    this.events.push({ type: 'sending', done, total });
  }

  /** The events of one type. */
  of<T extends ReporterEvent['type']>(type: T): Extract<ReporterEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ReporterEvent, { type: T }> => e.type === type);
  }
}

/** What the recording mailer does with one address (lower-cased): refuse it, or lose the answer. */
export type MailFault = 'refuse' | 'in-doubt';

/**
 * A `Mailer` that keeps every message it "sends" in memory. Faults by address make a send fail
 * (refused: not in doubt) or lose the server's answer (in doubt), as the SMTP mailer reports them.
 */
export class RecordingMailer implements Mailer {
  readonly kind = 'smtp' as const;
  readonly outbox = null;
  readonly sent: InvitationMessage[] = [];
  readonly attempts: string[] = [];
  readonly faults = new Map<string, MailFault>();
  /** Called before each send resolves: a test can interrupt a run at the n-th message. */
  onSend?: (message: InvitationMessage, n: number) => void;
  closed = 0;

  async send(message: InvitationMessage): Promise<{ messageId: string; response: string }> {
    this.attempts.push(message.to.email);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const fault = this.faults.get(message.to.email.toLowerCase());
    if (fault === 'refuse') throw new MailError(`550 mailbox ${message.to.email} unavailable`, false);
    if (fault === 'in-doubt') throw new MailError('the connection was lost after the message data went out; it may have been delivered', true);
    this.sent.push(message);
    this.onSend?.(message, this.sent.length);
    return { messageId: message.messageId, response: '250 OK' };
  }

  async close(): Promise<void> {
    this.closed++;
  }

  /** The addresses of the messages accepted, in order. */
  recipients(): string[] {
    return this.sent.map((m) => m.to.email);
  }
}
