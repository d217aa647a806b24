import type { RowResult } from '../core/results.js';
import { emailKey } from '../core/validate.js';
import type { MailTally } from './rows.js';

/** What import-mail adds to the run's JSON object (every field of docs/contract.md is kept as it is). */
export interface MailSummary {
  messages: { files: number; read: number; skipped: number; ignoredFiles: string[]; skippedFolders: string[] };
  /** People not provisioned, collapsed by address and reason, in order of first appearance. */
  skipped: { line: string; email: string; reason: string; messages: number }[];
}

/** One line of the import-mail report: a row of the pipeline, or someone skipped. */
export interface MailReportRow {
  line: number | string;
  email: string;
  fullName: string;
  status: RowResult['status'] | 'skipped';
  invitation: RowResult['invitation'];
  reason: string;
  /** The organizations the row joins (`--organization`). */
  organizations: string[];
  /** How many messages named this address. */
  messages: number;
}

export function mailSummary(tally: MailTally): MailSummary {
  return {
    messages: { files: tally.stats.files, read: tally.messages, skipped: tally.skippedMessages, ignoredFiles: [...tally.stats.ignored], skippedFolders: [...tally.stats.skippedFolders] },
    skipped: [...tally.skips.values()].map((s) => ({ line: s.line, email: s.email, reason: s.reason, messages: s.messages })),
  };
}

/** Every row and every skip, in the order the messages first named them. */
export function mailReportRows(rows: readonly RowResult[], tally: MailTally): MailReportRow[] {
  const ordered: { seq: number; row: MailReportRow }[] = [];
  for (const r of rows) {
    const sender = tally.senders.get(emailKey(r.email));
    ordered.push({
      seq: sender?.seq ?? Number.MAX_SAFE_INTEGER,
      row: { line: r.line, email: r.email, fullName: r.fullName, status: r.status, invitation: r.invitation, reason: r.reason ?? '', organizations: r.organizations ?? [], messages: sender?.messages ?? 0 },
    });
  }
  for (const s of tally.skips.values()) {
    ordered.push({
      seq: s.seq,
      row: { line: s.line, email: s.email, fullName: '', status: 'skipped', invitation: 'none', reason: s.reason, organizations: [], messages: s.messages },
    });
  }
  // A stable sort: rows the core kept in input order stay in it.
  return ordered.sort((a, b) => a.seq - b.seq).map((o) => o.row);
}
