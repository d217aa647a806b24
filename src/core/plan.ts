import { decideForRun, type CustomerSituation, type InvitationDecision } from './invitation-policy.js';
import type { InvitationLedger, Target } from './target.js';
import { isBatch, type CandidateRow, type RowSource, type ValidRow } from './types.js';
import { NAME_NEEDED, validateRow } from './validate.js';
import { rowResult, type RowResult, type RunSettings } from './results.js';
import { checkOrganizations, RunOrganizations } from './organizations.js';

/** A row the plan will hand to the target, with what is known of it and its invitation. */
export interface PlannedRow {
  index: number;
  row: ValidRow;
  /** null: the target was not asked (REST learns it from the create's answer). */
  exists: boolean | null;
  situation: CustomerSituation;
  invitation: InvitationDecision;
  /** While planning a row without a name: its organization names, until the target says whether it exists. */
  organizations?: string[];
}

export interface PlanCounts {
  create: number;
  existing: number;
  /** Rows whose existence the target learns only when creating them (REST real runs). */
  unknown: number;
  invalid: number;
  duplicate: number;
  /** Rows the look-up found the real run would fail (REST: an inactive or ambiguous account). */
  failed: number;
  invite: number;
  defer: number;
  suppress: number;
}

/** The plan is plain data: the dry run renders it; the real run applies the same plan. */
export interface Plan {
  settings: RunSettings;
  rowsTotal: number;
  /** Empty when the plan was built without keeping rows (a dry run with no report): see counts.
   *  A real run releases each row once it is settled (applyPlan): read them before applying. */
  rows: PlannedRow[];
  keptRows: boolean;
  /** Rows already final: invalid, duplicate and (found by the look-up) failed, in input order. */
  rejected: RowResult[];
  counts: PlanCounts;
  /** The run's organizations: what the rows name, and what that will take (`planned`). */
  organizations: RunOrganizations;
}

const LOOKUP_CHUNK = 1_000;

/**
 * Reads every row, validates it, collapses duplicates (the earliest row wins) and asks the target
 * who exists, in chunks so a large input streams. Nothing is written.
 */
export async function buildPlan(
  source: RowSource,
  target: Target,
  settings: RunSettings,
  onRead?: (count: number) => void,
  keepRows = true,
  /** When given, invalid and duplicate rows go here as they are found instead of into `plan.rejected`. */
  onRejected?: (row: RowResult) => void,
): Promise<Plan> {
  const plan: Plan = {
    settings,
    rowsTotal: 0,
    rows: [],
    keptRows: keepRows,
    rejected: [],
    counts: { create: 0, existing: 0, unknown: 0, invalid: 0, duplicate: 0, failed: 0, invite: 0, defer: 0, suppress: 0 },
    organizations: new RunOrganizations(target, settings.project, settings.createOrganizations !== false),
  };
  const firstLine = new Map<string, number | string>();
  const lookup = settings.dryRun || target.lookupIsCheap;
  const reject = onRejected ?? ((row: RowResult) => void plan.rejected.push(row));
  // The decision depends only on the situation (one of three) within a run: made once for each.
  const decisions = new Map<CustomerSituation, InvitationDecision>();
  const decide = (situation: CustomerSituation): InvitationDecision => {
    let decision = decisions.get(situation);
    if (decision === undefined) decisions.set(situation, (decision = decideForRun(settings, situation)));
    return decision;
  };
  // Rows waiting for the target's answer; completed (exists, situation, invitation) by flush.
  let chunk: PlannedRow[] = [];

  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    // A row without a name can only be of a customer who exists: whether they do is asked even
    // where the target would otherwise learn it from the create (REST real runs), so that such a
    // row ends the same in a dry run and a real one.
    const asked = lookup ? chunk : chunk.filter((p) => p.row.fullName === '');
    const verdicts = asked.length > 0 ? await target.lookup(asked.map(({ row }) => ({ key: row.key, email: row.email, ...(row.username !== undefined ? { username: row.username } : {}) }))) : [];
    const verdictOf = new Map(asked.map((p, n) => [p, verdicts[n]] as const));
    for (const planned of chunk) {
      const verdict = verdictOf.get(planned);
      if (verdict !== undefined && typeof verdict === 'object') {
        // The real run would fail this row for this reason: so does the plan (a dry run's totals and exit are the real run's).
        plan.counts.failed++;
        const { row } = planned;
        reject(rowResult(planned.index, row, 'failed', 'none', verdict.failed));
        continue;
      }
      const exists = verdict === undefined ? null : verdict === 'existing';
      if (planned.row.fullName === '') {
        if (!exists) {
          plan.counts.invalid++;
          reject(rejected(planned.index, planned.row, planned.row.email, 'invalid', NAME_NEEDED));
          continue;
        }
        // Organizations are planned once the row is known to go on (see below).
        if (planned.organizations) {
          const orgs = await plan.organizations.planRow(planned.row.key, planned.organizations);
          if ('reason' in orgs) {
            plan.counts.invalid++;
            reject(rejected(planned.index, planned.row, planned.row.email, 'invalid', orgs.reason));
            continue;
          }
          planned.row.organizations = orgs.names;
        }
      }
      delete planned.organizations;
      planned.exists = exists;
      planned.situation = situationOf(exists, target.ledger, settings.project.key, planned.row.key);
      planned.invitation = decide(planned.situation);
      // A dry run without a report keeps counts only, so that memory does not grow with the input.
      if (keepRows) plan.rows.push(planned);
      count(plan, exists, planned.invitation);
    }
    chunk = [];
  };

  const NOT_YET = decide('new');
  for await (const item of source) {
    const batch: readonly CandidateRow[] = isBatch(item) ? item : [item];
    for (const candidate of batch) {
      const index = plan.rowsTotal++;
      const checked = validateRow(candidate);
      const orgNames = checked.ok && candidate.organizations !== undefined ? checkOrganizations(candidate.organizations) : null;
      if (!checked.ok || (orgNames && !orgNames.ok)) {
        plan.counts.invalid++;
        const email = checked.ok ? checked.row.email : checked.email;
        reject(rejected(index, candidate, email, 'invalid', !checked.ok ? checked.reason : orgNames && !orgNames.ok ? orgNames.reason : ''));
        continue;
      }
      const { row } = checked;
      const earlier = firstLine.get(row.key);
      if (earlier !== undefined) {
        plan.counts.duplicate++;
        const reason = `same email as line ${earlier} (emails are compared without regard to case)`;
        reject(rejected(index, candidate, row.email, 'duplicate', reason, row.fullName));
        continue;
      }
      firstLine.set(row.key, candidate.line);
      if (row.fullName === '') {
        // Whether the row goes on is known once the target says who exists (flush).
        chunk.push({ index, row, exists: null, situation: 'new', invitation: NOT_YET, ...(orgNames?.ok && orgNames.names.length > 0 ? { organizations: orgNames.names } : {}) });
        if (chunk.length >= LOOKUP_CHUNK) await flush();
        if (onRead && plan.rowsTotal % LOOKUP_CHUNK === 0) onRead(plan.rowsTotal);
        continue;
      }
      if (orgNames?.ok && orgNames.names.length > 0) {
        const orgs = await plan.organizations.planRow(row.key, orgNames.names);
        if ('reason' in orgs) {
          plan.counts.invalid++;
          reject(rejected(index, candidate, row.email, 'invalid', orgs.reason, row.fullName));
          continue;
        }
        row.organizations = orgs.names;
      }
      chunk.push({ index, row, exists: null, situation: 'new', invitation: NOT_YET });
      if (chunk.length >= LOOKUP_CHUNK) await flush();
      if (onRead && plan.rowsTotal % LOOKUP_CHUNK === 0) onRead(plan.rowsTotal);
    }
  }
  await flush();
  return plan;
}

function situationOf(exists: boolean | null, ledger: InvitationLedger, project: string, key: string): CustomerSituation {
  if (exists === false) return 'new';
  const record = ledger.get(project, key);
  // An invitation a cut-off run decided to send but never started is still owed.
  if (record && record.status === 'pending' && !record.deferred) return 'invitation-due';
  return exists === null ? 'new' : 'existing';
}

function count(plan: Plan, exists: boolean | null, invitation: InvitationDecision): void {
  const counts = plan.counts;
  if (exists === true) counts.existing++;
  else if (exists === false) counts.create++;
  else counts.unknown++;
  if (invitation.action === 'send') counts.invite++;
  else if (invitation.action === 'defer') counts.defer++;
  else if (invitation.action === 'suppress') counts.suppress++;
}

function rejected(
  index: number,
  candidate: Pick<CandidateRow, 'line' | 'fullName'>,
  email: string,
  status: 'invalid' | 'duplicate',
  reason: string,
  fullName = candidate.fullName,
): RowResult {
  return rowResult(index, { line: candidate.line, email, fullName }, status, 'none', reason);
}
