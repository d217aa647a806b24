import type { CandidateRow } from '../core/types.js';
import { emailKey } from '../core/validate.js';
import { peopleOf, type SenderOptions, type Skip } from './senders.js';
import { readMessages, type MailSource, type ReadStats } from './sources.js';

/**
 * How much of each message is kept to read its headers. Header blocks of real mail are a few KB
 * (a long Cc list, tens of KB); bodies and attachments beyond this are read past, never held.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** One address that became a row: the message it was first seen in, and how many messages named it. */
export interface SenderEntry {
  line: string;
  email: string;
  messages: number;
  /** Order of first appearance among rows and skips, for the report. */
  seq: number;
}

/** Someone left out, collapsed by address and reason: the first message, and how many there were. */
export interface SkipEntry extends Skip {
  line: string;
  messages: number;
  seq: number;
}

/** What reading the mail found, filled in while the pipeline reads the rows. */
export class MailTally {
  messages = 0;
  /** Messages skipped as a whole (automatic mail, bounces, the inbox's own mail ...). */
  skippedMessages = 0;
  readonly stats: ReadStats = { files: 0, ignored: [], skippedFolders: [] };
  /** By lower-cased email. */
  readonly senders = new Map<string, SenderEntry>();
  /** By reason and lower-cased email. */
  readonly skips = new Map<string, SkipEntry>();
  #seq = 0;

  /** Counts a person; true when the address is seen for the first time (it becomes a row). */
  person(line: string, email: string): boolean {
    const key = emailKey(email);
    const known = this.senders.get(key);
    if (known) {
      known.messages++;
      return false;
    }
    this.senders.set(key, { line, email, messages: 1, seq: this.#seq++ });
    return true;
  }

  skip(line: string, skip: Skip): void {
    const id = `${skip.reason}\u0000${emailKey(skip.email)}`;
    const known = this.skips.get(id);
    if (known) known.messages++;
    else this.skips.set(id, { ...skip, line, messages: 1, seq: this.#seq++ });
  }

  /** How many messages named the address of a row. */
  messagesOf(email: string): number {
    return this.senders.get(emailKey(email))?.messages ?? 0;
  }
}

export interface MailRowsOptions extends SenderOptions {
  maxBytes?: number;
}

/**
 * The rows of a mailbox migration, streamed in message order: each address once, from the
 * earliest message that names it (later messages only add to its count); skipped people go to the
 * tally, not to the pipeline, since nobody asked for them to be provisioned.
 */
export async function* mailRows(sources: readonly MailSource[], options: MailRowsOptions, tally: MailTally): AsyncGenerator<CandidateRow> {
  for await (const message of readMessages(sources, options.maxBytes ?? MAX_MESSAGE_BYTES, tally.stats)) {
    tally.messages++;
    const found = peopleOf(message.raw, options);
    if ('skip' in found) {
      tally.skippedMessages++;
      tally.skip(message.line, found.skip);
      continue;
    }
    for (const person of found.people) {
      if (tally.person(message.line, person.email)) yield { line: message.line, email: person.email, fullName: person.fullName };
    }
    for (const skipped of found.skippedCc) tally.skip(message.line, skipped);
  }
}
