import type { InvitationRecord, InvitationState } from '../../core/types.js';

type Invitations = Record<string, Map<string, InvitationRecord>>;
type Tally = Map<string, Map<InvitationState, number>>;

/**
 * How many invitation records of each project are in each state, kept beside the store's records
 * as they are read and set (the snapshot, log batches, ledger entries, new records), so that a
 * run's summary (`inDoubt`) need not walk 200,000 records. A record is never changed in place (a
 * new state is a new record, set through one of those places), so the counts stay exact.
 */
const tallies = new WeakMap<Invitations, Tally>();

/** Starts counting the records of `invitations`, which must hold none yet or be noted one by one. */
export function track(invitations: Invitations): void {
  tallies.set(invitations, new Map());
}

/** A record set where `before` was (undefined: a new one). */
export function noteSet(invitations: Invitations, project: string, before: InvitationRecord | undefined, after: InvitationRecord): void {
  const tally = tallies.get(invitations);
  if (tally === undefined || before?.status === after.status) return;
  let counts = tally.get(project);
  if (counts === undefined) tally.set(project, (counts = new Map()));
  if (before !== undefined) counts.set(before.status, (counts.get(before.status) ?? 1) - 1);
  counts.set(after.status, (counts.get(after.status) ?? 0) + 1);
}

/** The project's records in `status`: counted as they were set, or (records never tracked) one by one. */
export function statusCount(invitations: Invitations, project: string, status: InvitationState): number {
  const tally = tallies.get(invitations);
  if (tally !== undefined) return tally.get(project)?.get(status) ?? 0;
  let n = 0;
  for (const record of invitations[project]?.values() ?? []) if (record.status === status) n++;
  return n;
}
