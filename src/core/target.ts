import type { TargetError } from './errors.js';
import type {
  CustomerDetail,
  CustomerView,
  InvitationRecord,
  NewCustomer,
  OrganizationInfo,
  OrganizationMember,
  OrganizationView,
  ProjectInfo,
  ProvisionOutcome,
  SettingChange,
  SuppressedBy,
} from './types.js';

/** A row to look up: its lower-cased email (`key`), the email as given, and the username its input names. */
export interface LookupRow {
  key: string;
  email: string;
  username?: string;
}

/** What a look-up found for a row: an account, none, or why the real run would fail the row. */
export type Lookup = 'existing' | 'absent' | { failed: string };

/** A customer to provision, with what the plan knows of them (`null`: not looked up). */
export interface ProvisionRequest extends NewCustomer {
  exists: boolean | null;
  /**
   * The invitation this customer is owed if this run creates them. The local store records it in the
   * same durable write as the customer; REST makes it durable as an intent before the create call, so
   * that no crash can leave a new customer without the record that they are owed an invitation.
   */
  invitation?: InvitationRecord;
}

/**
 * Thrown by `Target.provision` when the target refused the run part-way (a token revoked mid-run):
 * the refusal, and what each row of the call got before it (rows not reached fail as not processed).
 * The run ends with its summary, its report and this error.
 */
export class ProvisionStopped extends Error {
  override readonly name = 'ProvisionStopped';
  constructor(
    readonly error: TargetError,
    readonly outcomes: ProvisionOutcome[],
  ) {
    super(error.message);
  }
}

/**
 * Where customers go. The local JSON store and JSM's REST API both sit behind this, so every
 * command works the same way on both. Implementations throw TargetError when the target refuses
 * the run and UsageError for what the user must change; a single row's failure is an outcome.
 */
export interface Target {
  readonly kind: 'local' | 'rest';
  /** REST only: `cloud` for JSM Cloud (accounts by accountId, no passwords by API); absent: Data Center or local. */
  readonly deployment?: 'cloud';
  /** The store's path or the instance's URL, for messages. */
  readonly location: string;
  /** true when `lookup` costs nothing worth saving (local); REST learns it from the create. */
  readonly lookupIsCheap: boolean;
  readonly ledger: InvitationLedger;
  /**
   * true once a write of this run's customers is durable (local store). A write that fails after
   * that marks the outcomes it held `failed` ("not written"), and the run ends with its summary and
   * the error instead of as a run that wrote nothing. Absent: not known (the error stops the run).
   */
  readonly wroteCustomers?: boolean;

  getProject(key: string): Promise<ProjectInfo>;
  listProjects(): Promise<ProjectInfo[]>;
  createProject(key: string, name: string): Promise<ProjectInfo>;
  setSendVerificationEmails(key: string, send: boolean): Promise<SettingChange>;
  /**
   * What a real run would find for each row, in order: an account to use, none (it would be
   * created), or the reason the row would fail (REST: an inactive account, two accounts with the
   * email, a username of another email). The rule is the one `provision` applies, so a dry run
   * plans what the real run does.
   */
  lookup(rows: readonly LookupRow[]): Promise<Lookup[]>;
  /**
   * Creates who is missing and makes everyone a customer of the project; one outcome per row, in
   * order. `onRowDone`, when given, is called as each row's work is done (for progress only).
   */
  provision(project: ProjectInfo, rows: readonly ProvisionRequest[], onRowDone?: () => void): Promise<ProvisionOutcome[]>;
  listCustomers(project: ProjectInfo): AsyncIterable<CustomerView>;
  /** The account of a lower-cased email (REST: the one active account with it), or undefined when there is none. */
  findCustomer(project: ProjectInfo, key: string): Promise<CustomerDetail | undefined>;
  /** Every organization of the target, each saying whether it is on the project (read once per run). */
  organizations(project: ProjectInfo): Promise<OrganizationInfo[]>;
  /** The members of an organization, as lower-cased emails and lower-cased account names. */
  organizationMembers(org: OrganizationInfo): Promise<Set<string>>;
  /** Creates an organization; an answer that was lost is resolved by looking again. Throws TargetError when it cannot. */
  createOrganization(name: string): Promise<OrganizationInfo>;
  /** Puts an organization on the project (nothing when it is on it already). Throws TargetError when it cannot. */
  addOrganizationToProject(project: ProjectInfo, org: OrganizationInfo): Promise<void>;
  /** Makes customers members of an organization; returns the reason for each key that could not join. */
  joinOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>>;
  /**
   * Takes customers out of the project (never deletes or deactivates their accounts); one that is
   * not a customer of it is left as it is. Returns the reason for each key that could not be taken out.
   */
  removeFromProject(project: ProjectInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>>;
  /** Takes customers out of an organization; returns the reason for each key that could not leave. */
  leaveOrganization(org: OrganizationInfo, members: readonly OrganizationMember[]): Promise<Map<string, string>>;
  /** The organizations with their member counts: the project's, or all of them. */
  listOrganizations(project?: ProjectInfo): Promise<OrganizationView[]>;
  /**
   * Makes everything done so far durable. One that fails gives that up: the caller has the error
   * to say, and close() then writes nothing more (it would wait, or fail, the same way again).
   */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The invitation ledger of a target: one record per (project, customer). Reads come from memory;
 * writes are durable at the next `commit`. `claimForSending` is the at-most-once gate: it moves
 * `pending` records to `sending` durably and returns only those this run now owns, so two runs
 * (or two processes) can never both send one invitation.
 */
export interface InvitationLedger {
  get(project: string, key: string): InvitationRecord | undefined;
  list(project: string): InvitationRecord[];
  /** How many records of the project are in this state (no list is built). */
  count(project: string, status: InvitationRecord['status']): number;
  /**
   * How many of the project's invitations are in doubt: `sending`, and not being sent right now by
   * another run that is alive on this host (that one is not in doubt, only busy). `ownRunId`: the
   * caller's run, whose own `sending` records are in doubt.
   */
  inDoubt(project: string, ownRunId?: string): number;
  /** Records new invitations, each unless the ledger already holds one for that customer. */
  add(records: readonly InvitationRecord[]): void;
  /** Records the outcome of an invitation this run owns. */
  update(record: InvitationRecord): void;
  /**
   * Claims `pending` records; or, with `expected`, exactly the records that are still as the caller
   * saw them (same status, runId and updatedAt: a resend of failed or in-doubt invitations), so two
   * resends at once can never both claim one.
   */
  claimForSending(project: string, keys: readonly string[], runId: string, expected?: ReadonlyMap<string, InvitationRecord>): Promise<InvitationRecord[]>;
  /**
   * Records as `suppressed` (by `suppressedBy`) the invitations of `keys` that are still `pending`
   * (owed by an earlier run that was cut off, and now suppressed by this one), durably, decided
   * on the freshest copy: one claimed or sent meanwhile is left as it is.
   */
  suppress(project: string, keys: readonly string[], suppressedBy: SuppressedBy): Promise<void>;
  commit(): Promise<void>;
}

/**
 * Whether `claimForSending` may claim `record`, for every ledger alike. Without `expected`: only a
 * pending record. With it (a resend of failed or in-doubt invitations): compare-and-swap, the
 * record still exactly as the caller saw it (`seen`), so nobody else claimed it meanwhile; and a
 * `sending` record of a run that is still alive is being sent, not in doubt.
 */
export function isClaimable(
  record: InvitationRecord,
  expected: ReadonlyMap<string, InvitationRecord> | undefined,
  runIsLive: (runId: string | undefined) => boolean,
): boolean {
  if (!expected) return record.status === 'pending';
  const seen = expected.get(record.key);
  if (seen === undefined || record.status !== seen.status || record.runId !== seen.runId || record.updatedAt !== seen.updatedAt) return false;
  return record.status !== 'sending' || !runIsLive(record.runId);
}

/** Why a run on JSM Cloud refuses passwords, and how customers get in instead (said once, exit 2). */
export const CLOUD_SETS_NO_PASSWORDS =
  'JSM Cloud sets no passwords by API: each customer sets their own on the portal (the invitation says how: the login page of the portal, "Forgot your password?")';

/** Whether the target can take a predefined password (JSM Cloud cannot). */
export function takesPasswords(target: Pick<Target, 'deployment'>): boolean {
  return target.deployment !== 'cloud';
}
