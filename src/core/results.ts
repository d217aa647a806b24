import type { InvitationsSetting } from './invitation-policy.js';
import type { InvitationKind, ProjectInfo, RowStatus, SuppressedBy } from './types.js';

/** What happened to a row's invitation, as the report shows it. */
export type InvitationOutcome = 'sent' | 'pending' | 'suppressed' | 'failed' | 'in-doubt' | 'none';

/** The final word on one input row. `index` keeps the input order for the report. */
export interface RowResult {
  index: number;
  line: number | string;
  email: string;
  fullName: string;
  status: RowStatus;
  invitation: InvitationOutcome;
  reason?: string;
  /** The organizations the row names (for the report). */
  organizations?: string[];
}

/** The one way a row's result is built (every status, every place). */
export function rowResult(
  index: number,
  row: { line: number | string; email: string; fullName: string; organizations?: string[] },
  status: RowStatus,
  invitation: InvitationOutcome,
  reason?: string,
): RowResult {
  const result: RowResult = { index, line: row.line, email: row.email, fullName: row.fullName, status, invitation };
  if (reason !== undefined) result.reason = reason;
  if (row.organizations !== undefined) result.organizations = row.organizations;
  return result;
}

/** What a run is asked to do. */
export interface RunSettings {
  command: string;
  project: ProjectInfo;
  kind: InvitationKind;
  invitations: InvitationsSetting;
  dryRun: boolean;
  /** false: `--no-create-organizations` (a row naming an unknown organization is invalid). Default true. */
  createOrganizations?: boolean;
}

/** Organizations created, put on the project and joined by this run (a dry run: that would be). */
export interface OrganizationTotals {
  created: number;
  addedToProject: number;
  memberships: number;
  /** A desired-state run (`--sync`, `apply`): memberships of organizations ended. */
  left?: number;
}

export interface Totals {
  rows: number;
  created: number;
  existing: number;
  invalid: number;
  duplicate: number;
  failed: number;
  /** A desired-state run (`--sync`, `apply`): customers taken out of the project. */
  removed?: number;
}

export interface InvitationTotals {
  sent: number;
  suppressed: number;
  failed: number;
  pending: number;
  inDoubt: number;
  suppressedBy: SuppressedBy | null;
  outbox: string | null;
}

export interface Problem {
  line: number | string;
  email: string;
  status: RowStatus;
  /** Set when the row itself went well (created, existing) but its invitation did not: the reason is the invitation's. */
  invitation?: 'failed' | 'in-doubt';
  reason: string;
}

/** The JSON object of docs/contract.md, "The JSON object of a run". */
export interface RunSummary {
  ok: boolean;
  command: string;
  target: 'local' | 'rest';
  project: string;
  dryRun: boolean;
  totals: Totals;
  invitations: InvitationTotals;
  organizations: OrganizationTotals;
  /** The first PROBLEMS_KEPT problem rows, in input order. */
  problems: Problem[];
  /** Problem rows beyond those listed (present only when some were left out): the report has them all. */
  problemsOmitted?: number;
}

/** How many problem rows a run keeps in memory and lists; a garbage file must not need a gigabyte. */
export const PROBLEMS_KEPT = 1_000;

/**
 * The first `limit` problems by input order, whatever order they arrive in, and a count of the
 * rest: memory stays bounded however many rows are bad.
 */
export class ProblemList {
  #held: { index: number; problem: Problem }[] = [];
  #total = 0;
  constructor(readonly limit = PROBLEMS_KEPT) {}

  add(index: number, problem: Problem): void {
    this.#total++;
    this.#held.push({ index, problem });
    if (this.#held.length >= 2 * this.limit) this.#trim();
  }

  get total(): number {
    return this.#total;
  }

  /** Problems beyond those `list()` gives. */
  get omitted(): number {
    return this.#total - Math.min(this.#total, this.limit);
  }

  list(): Problem[] {
    this.#trim();
    return this.#held.map((h) => h.problem);
  }

  #trim(): void {
    this.#held.sort((a, b) => a.index - b.index);
    this.#held.length = Math.min(this.#held.length, this.limit);
  }
}

export function emptyTotals(): Totals {
  return { rows: 0, created: 0, existing: 0, invalid: 0, duplicate: 0, failed: 0 };
}

export function isProblem(status: RowStatus): boolean {
  return status === 'invalid' || status === 'duplicate' || status === 'failed';
}

/** Exit code 0 only when every row is created or existing and no invitation of this run failed. */
export function summaryOk(totals: Totals, invitationsFailedThisRun: number): boolean {
  return totals.invalid + totals.duplicate + totals.failed === 0 && invitationsFailedThisRun === 0;
}
