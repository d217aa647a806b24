import type { InvitationRecord, InvitationState } from '../core/types.js';

type Invitations = Record<string, Map<string, InvitationRecord>>;
type Tally = Map<string, Map<InvitationState, number>>;

/**
 * How many invitation records of each project are in each state, kept beside the store's records
 * as they are set (every one through setInvitation, from the snapshot, log batches, ledger entries
 * and new records), so that a run's summary (`inDoubt`) need not walk 200,000 records. A record is
 * never changed in place (a new state is a new record), so the counts stay exact.
 */
const tallies = new WeakMap<Invitations, Tally>();

/** Starts counting the records of `invitations`, which must hold none yet (they are then set one by one). */
export function track(invitations: Invitations): void {
  tallies.set(invitations, new Map());
}

/**
 * Sets a project's invitation record, counted: every record of the store is set through here (or
 * addInvitation). Returns the record it replaced, if any.
 */
export function setInvitation(invitations: Invitations, project: string, key: string, record: InvitationRecord): InvitationRecord | undefined {
  const byKey = (invitations[project] ??= new Map());
  const before = byKey.get(key);
  noteSet(invitations, project, before, record);
  byKey.set(key, record);
  return before;
}

/** Adds a record where its project holds none for its key; false (nothing changed) where it does. */
export function addInvitation(invitations: Invitations, record: InvitationRecord): boolean {
  if (invitations[record.project]?.has(record.key)) return false;
  setInvitation(invitations, record.project, record.key, record);
  return true;
}

/** A record set where `before` was (undefined: a new one). */
function noteSet(invitations: Invitations, project: string, before: InvitationRecord | undefined, after: InvitationRecord): void {
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
