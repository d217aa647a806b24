import type { InvitationLedger } from '../core/target.js';
import { isClaimable } from '../core/target.js';
import type { InvitationRecord, SuppressedBy } from '../core/types.js';
import { testHook } from '../util/test-hooks.js';
import { runIsLive } from './lock.js';
import { addInvitation, statusCount } from './status-counts.js';
import type { LocalStore } from './store.js';

/** The ledger kept in a store file: the local store's own, or a REST target's ledger file. */
export class LocalLedger implements InvitationLedger {
  constructor(private readonly store: LocalStore) {}

  get(project: string, key: string): InvitationRecord | undefined {
    return this.store.data.invitations[project]?.get(key);
  }

  list(project: string): InvitationRecord[] {
    return [...(this.store.data.invitations[project]?.values() ?? [])];
  }

  count(project: string, status: InvitationRecord['status']): number {
    return statusCount(this.store.data.invitations, project, status);
  }

  inDoubt(project: string, ownRunId?: string): number {
    // Most stores have none: only then are the records looked at.
    if (this.count(project, 'sending') === 0) return 0;
    let n = 0;
    for (const record of this.store.data.invitations[project]?.values() ?? []) {
      if (record.status === 'sending' && (record.runId === ownRunId || !runIsLive(record.runId))) n++;
    }
    return n;
  }

  /** Takes ownership of the records: the caller must not change them afterwards. */
  add(records: readonly InvitationRecord[]): void {
    if (records.length === 0) return;
    this.store.mutate((data) => {
      const added: [string, string][] = [];
      for (const record of records) {
        if (addInvitation(data.invitations, record)) added.push([record.project, record.key]);
      }
      return { invitations: added };
    });
  }

  update(record: InvitationRecord): void {
    this.store.record({ p: record.project, k: record.key, v: { ...record } });
    if (record.status === 'sent') testHook('sent', this.store.path);
  }

  async claimForSending(
    project: string,
    keys: readonly string[],
    runId: string,
    expected?: ReadonlyMap<string, InvitationRecord>,
  ): Promise<InvitationRecord[]> {
    const updatedAt = new Date().toISOString();
    // Decided under the lock on the freshest copy and made durable before any message leaves:
    // a crash from here on leaves these in doubt, never resent; another process cannot claim them.
    await this.store.journal((data) => {
      const byKey = data.invitations[project];
      return keys.flatMap((key) => {
        const record = byKey?.get(key);
        return record && isClaimable(record, expected, runIsLive) ? [{ p: project, k: key, v: { ...record, status: 'sending' as const, runId, updatedAt } }] : [];
      });
    });
    testHook('claimed', this.store.path);
    const byKey = this.store.data.invitations[project];
    return keys.flatMap((key) => {
      const record = byKey?.get(key);
      return record?.status === 'sending' && record.runId === runId ? [record] : [];
    });
  }

  async suppress(project: string, keys: readonly string[], suppressedBy: SuppressedBy): Promise<void> {
    if (keys.length === 0) return;
    const updatedAt = new Date().toISOString();
    await this.store.journal((data) => {
      const byKey = data.invitations[project];
      return keys.flatMap((key) => {
        const record = byKey?.get(key);
        if (record?.status !== 'pending') return [];
        const { reason: _reason, runId: _runId, ...rest } = record;
        return [{ p: project, k: key, v: { ...rest, status: 'suppressed' as const, deferred: false, suppressedBy, updatedAt } }];
      });
    });
  }

  async commit(): Promise<void> {
    await this.store.commit();
  }
}
