import type { Secret } from './secret.js';

/** How each input row ends (docs/contract.md, "Results"). */
export type RowStatus = 'created' | 'existing' | 'invalid' | 'duplicate' | 'failed';

/** Why an invitation was not sent although the customer is new. */
export type SuppressedBy = 'flag' | 'project-setting';

/** The two kinds of message this tool sends. */
export type InvitationKind = 'welcome' | 'verify';

/** A service project (JSM "service desk") as the tool sees it on either target. */
export interface ProjectInfo {
  key: string;
  name: string;
  /** false when "Do not send account verification emails" is on. */
  sendVerificationEmails: boolean;
  /** The customer portal, when the target knows it. */
  portalUrl?: string;
  /** REST only: the desk id and the JSM version, for `project show`. */
  deskId?: string;
  jsmVersion?: string;
}

/** One row as a source yields it, before validation. `line` is where it starts in its input. */
/** Rows for the pipeline: one at a time, or in batches (a CSV file's rows, as parsed together). */
export type RowSource = AsyncIterable<CandidateRow | readonly CandidateRow[]>;

/** Whether an item of a RowSource is a batch of rows rather than one. */
export function isBatch(item: CandidateRow | readonly CandidateRow[]): item is readonly CandidateRow[] {
  return Array.isArray(item);
}

export interface CandidateRow {
  line: number | string;
  email: string;
  fullName: string;
  password?: Secret;
  /** The customer's language for the invitation (a CSV `language` cell, or `--language`), as written. */
  language?: string;
  /** The account to use on a REST target (a directory username), when the input names it. */
  username?: string;
  /** Organizations the customer joins, as written (a CSV cell split at `;`, plus `--organization`). */
  organizations?: string[];
  /** A problem the source found (wrong number of cells ...): the row is `invalid` with this reason. */
  error?: string;
}

/** A row that passed validation: email trimmed, name folded. `key` is the email lower-cased. */
export interface ValidRow {
  line: number | string;
  email: string;
  key: string;
  fullName: string;
  password?: Secret;
  /** Canonical language code (`pt-BR`), when the row names one. */
  language?: string;
  username?: string;
  /** Organization names, trimmed, each once (compared without regard to case), as first spelled. */
  organizations?: string[];
}

/** A customer to create on a target. */
export interface NewCustomer {
  email: string;
  key: string;
  fullName: string;
  password?: Secret;
  /** REST: the account to use or create under this username (else the one found by email). */
  username?: string;
}

/** What a target says happened to one row it was asked to provision. */
export type ProvisionOutcome =
  /** `account`: the target's name for the account (REST: the resolved username), for organization memberships. */
  /**
   * `unproven`: the account exists and this run sent its create, but no answer proves that this
   * create made it (its answer was lost; another run may have made it at the same moment): its
   * invitation is recorded in doubt, never sent by itself.
   */
  | { status: 'created'; account?: string; unproven?: true }
  /** `note`: something the row's report should say (a password cell that was ignored). */
  /** `fullName`: the name the target holds (a row's different name is never applied to an existing customer). */
  | { status: 'existing'; note?: string; account?: string; fullName?: string }
  /** `accountCreated`: the account was made but the row could not be finished (membership failed). */
  | { status: 'failed'; reason: string; accountCreated?: boolean };

/** A customer as `customers list` shows it. */
export interface CustomerView {
  email: string;
  fullName: string;
  passwordSet: boolean;
  mustChangePassword: boolean;
  createdAt?: string;
  /** REST: the account's username (organization memberships and removals name it). */
  account?: string;
}

/** One customer as `customers show` shows it: what the target knows of the account. */
export interface CustomerDetail {
  email: string;
  fullName: string;
  /** Whether the account is a customer of the project; null when the target cannot tell (REST). */
  inProject: boolean | null;
  /** The local store's projects of the customer; absent where the target cannot list them (REST). */
  projects?: string[];
  /** REST: the account's username and whether it can log in. */
  account?: string;
  active?: boolean;
  /** Local store: a predefined password, and whether it must be changed. */
  passwordSet?: boolean;
  mustChangePassword?: boolean;
  createdAt?: string;
}

/** What `project set-notifications` reports back. */
export interface SettingChange {
  project: ProjectInfo;
  previous: boolean;
  /** Sentences for the admin (e.g. what JSM itself still does on this version). */
  notes: string[];
}

/**
 * Stored states of an invitation. `in-doubt` is how a `sending` entry left by a cut-off run is
 * shown; `sending`, one that a run alive on this host is sending right now.
 */
export type InvitationState = 'pending' | 'sending' | 'sent' | 'failed' | 'suppressed';
export type InvitationView = InvitationState | 'in-doubt';

/** One invitation in the ledger: at most one per (project, customer). */
export interface InvitationRecord {
  project: string;
  /** lower-cased email: the ledger's key. */
  key: string;
  email: string;
  fullName: string;
  kind: InvitationKind;
  status: InvitationState;
  /** true when recorded by --defer-invites: only `invitations send` sends it. */
  deferred: boolean;
  mustChangePassword: boolean;
  /** The language its message is written in (canonical code); absent: the default template. */
  language?: string;
  /** Deterministic, so a receiving system can spot a duplicate too; recorded once it is sent. */
  messageId?: string;
  suppressedBy?: SuppressedBy;
  reason?: string;
  /** The run that marked it `sending`; another run's `sending` entry is in doubt. */
  runId?: string;
  updatedAt: string;
}

/** The invitation message to compose: never carries a password. */
export interface InvitationMessage {
  kind: InvitationKind;
  to: { email: string; fullName: string };
  project: { key: string; name: string; portalUrl?: string };
  mustChangePassword: boolean;
  /** Canonical language code: chooses welcome.<language>.txt ..., falling back to the default. */
  language?: string;
  messageId: string;
}

/** How an invitation leaves: SMTP or an outbox folder of .eml files. */
export interface Mailer {
  /** `smtp` or `outbox`; `outbox` is the folder when kind is outbox. */
  readonly kind: 'smtp' | 'outbox';
  readonly outbox: string | null;
  /** Resolves once the server accepted it (250) or the file is durably written. */
  send(message: InvitationMessage): Promise<{ messageId: string; response: string }>;
  close(): Promise<void>;
}

/**
 * A send that failed. `inDoubt` is true when the message may have been accepted
 * (the connection dropped after the data went out): it must never be sent again by itself.
 */
export class MailError extends Error {
  override readonly name = 'MailError';
  constructor(
    message: string,
    readonly inDoubt: boolean,
  ) {
    super(message);
  }
}

/** Progress and notes from the core; the CLI renders them (terminal, JSON or nothing). */
export interface Reporter {
  /** Rows read and checked so far, before the plan is complete (the total is not known yet). */
  reading(count: number): void;
  /** Rows applied so far out of the plan's total. */
  progress(done: number, total: number): void;
  /** Invitations sent so far out of those due. */
  sending(done: number, total: number): void;
}

/** An organization (JSM: a customer organization) as a target knows it. */
export interface OrganizationInfo {
  /** The target's id (REST: JSM's id; local: the lower-cased name). */
  id: string;
  name: string;
  /** Whether it is on the project the run is about. */
  inProject: boolean;
}

/** What `organizations list` shows. */
export interface OrganizationView {
  name: string;
  members: number;
}

/** A customer to make a member of an organization: the lower-cased email and, where known, the account name. */
export interface OrganizationMember {
  key: string;
  email: string;
  account?: string;
}
