/** Reading support mailboxes (.eml files, folders, mbox) into customer rows: see docs/import-mail.md. */
export { MailTally, mailRows, MAX_MESSAGE_BYTES, type MailRowsOptions, type SenderEntry, type SkipEntry } from './rows.js';
export { parseExclusions, peopleOf, type Exclusions, type MessagePeople, type Person, type SenderOptions, type Skip } from './senders.js';
export { contentKind, resolveSources, readMessages, type MailSource, type RawMessage, type ReadStats } from './sources.js';
export { splitMbox, unescapeFromLines, type MboxMessage } from './mbox.js';
