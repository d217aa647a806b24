import { resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { StoreData } from './format.js';
import { appendJournal, applyEntry, clearJournal, readJournal, type JournalEntry } from './journal.js';
import { withLock, type LockOptions } from '../shared/lock.js';
import { fileStamp, readStore, sweepDeadTemps, writeStore } from './store-file.js';
import { testHook } from '../../util/test-hooks.js';

/** A change to the store: applied at once in memory, and replayed on a fresher copy at commit. */
export type StoreOp = (data: StoreData) => void;

/**
 * The local JSON store. Reads are from memory. Two kinds of change:
 * - operations (customers, projects, new invitations): applied to the in-memory copy at once and
 *   kept until the next full commit, which takes the lock, re-reads the file if another process
 *   wrote it since (then replays the operations on that copy, so nobody's changes are lost),
 *   writes the whole store atomically and empties the journal;
 * - ledger entries (an invitation's new state): appended to the journal under the lock and
 *   fdatasync'ed: cheap enough to do before every batch of sends.
 * A damaged or unknown file is refused and never overwritten.
 */
export class LocalStore {
  readonly path: string;
  readonly journalPath: string;
  #data: StoreData;
  #stamp: string | null;
  #journalEnd: number;
  #pending: StoreOp[] = [];
  #entries: JournalEntry[] = [];
  #lockOptions: LockOptions;
  #sweptTemps = false;
  #busy: Promise<unknown> = Promise.resolve();
  lastCommitMs = 0;

  private constructor(path: string, loaded: Loaded, lockOptions: LockOptions) {
    this.path = path;
    this.journalPath = `${path}.journal`;
    this.#data = loaded.data;
    this.#stamp = loaded.stamp;
    this.#journalEnd = loaded.journalEnd;
    this.#lockOptions = lockOptions;
  }

  /** Opens the store; a missing file is an empty store, written at the first commit. */
  static async open(path: string, lockOptions: LockOptions = {}): Promise<LocalStore> {
    const absolute = resolve(path);
    return new LocalStore(absolute, await load(absolute), lockOptions);
  }

  get data(): StoreData {
    return this.#data;
  }

  /** An operation for the next full commit. */
  mutate(op: StoreOp): void {
    op(this.#data);
    this.#pending.push(op);
  }

  /** A ledger entry for the next journal append (or full commit). */
  record(entry: JournalEntry): void {
    applyEntry(this.#data, entry);
    this.#entries.push(entry);
  }

  /**
   * Makes everything done so far durable: a full commit when operations are pending, else a
   * journal append of the ledger entries, else nothing.
   */
  async commit(): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#pending.length > 0) await this.#fullCommit();
      else if (this.#entries.length > 0) await this.#append(() => []);
    });
  }

  /**
   * Under the lock and on the freshest copy (other processes' entries read first), asks `decide`
   * for entries, applies them and makes them durable with everything pending. The at-most-once
   * gate for invitations: a claim decided here cannot also be decided by another process.
   */
  async journal(decide: (data: StoreData) => JournalEntry[]): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#pending.length > 0) {
        // Whatever the entries refer to (new invitations) must be durable first: commit it all.
        await this.#fullCommit(decide);
      } else {
        await this.#append(decide);
      }
    });
  }

  /** Re-reads the store when another process changed it and nothing is pending here. */
  async refresh(): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#pending.length > 0 || this.#entries.length > 0) return;
      if ((await fileStamp(this.path)) === this.#stamp) return;
      const fresh = await load(this.path);
      this.#data = fresh.data;
      this.#stamp = fresh.stamp;
      this.#journalEnd = fresh.journalEnd;
    });
  }

  /** One commit or append at a time in this process; the lock orders processes. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  async #fullCommit(decide?: (data: StoreData) => JournalEntry[]): Promise<void> {
    const started = performance.now();
    // Counted now: what is recorded while the store is being written stays for the next commit.
    const opsTaken = this.#pending.length;
    const entriesTaken = this.#entries.length;
    await withLock(
      this.path,
      async () => {
        if (!this.#sweptTemps) {
          this.#sweptTemps = true;
          await sweepDeadTemps(this.path);
        }
        await this.#catchUp();
        if (decide) for (const entry of decide(this.#data)) applyEntry(this.#data, entry);
        this.#stamp = await writeStore(this.path, this.#data);
        // Only now: had the write failed, they would still be pending for the next try. Not later:
        // once in the file, an operation must not be replayed (it would find its own customers).
        this.#pending = this.#pending.slice(opsTaken);
        this.#entries = this.#entries.slice(entriesTaken);
        await clearJournal(this.journalPath);
        this.#journalEnd = 0;
        testHook('commit', this.path);
      },
      this.#lockOptions,
    );
    this.lastCommitMs = performance.now() - started;
  }

  async #append(decide: (data: StoreData) => JournalEntry[]): Promise<void> {
    await withLock(
      this.path,
      async () => {
        const torn = await this.#catchUp();
        const decided = decide(this.#data);
        for (const entry of decided) applyEntry(this.#data, entry);
        const taken = this.#entries.length;
        const entries = [...this.#entries, ...decided];
        if (entries.length === 0) return;
        this.#journalEnd = await appendJournal(this.journalPath, this.#journalEnd, torn, entries);
        // Entries recorded while this was being written stay for the next append.
        this.#entries = this.#entries.slice(taken);
      },
      this.#lockOptions,
    );
  }

  /**
   * Brings the in-memory copy up to what is on disk (called under the lock): the store re-read if
   * another process rewrote it, else the journal lines appended since. Our own pending operations
   * and entries are applied again on top. Returns true when the journal ends in a torn line.
   */
  async #catchUp(): Promise<boolean> {
    const stamp = await fileStamp(this.path);
    if (stamp !== this.#stamp) {
      const fresh = await load(this.path);
      for (const op of this.#pending) op(fresh.data);
      for (const entry of this.#entries) applyEntry(fresh.data, entry);
      this.#data = fresh.data;
      this.#stamp = fresh.stamp;
      this.#journalEnd = fresh.journalEnd;
      return fresh.torn;
    }
    const read = await readJournalChecked(this.journalPath, this.#journalEnd);
    if (read.entries.length > 0) {
      for (const entry of read.entries) applyEntry(this.#data, entry);
      for (const entry of this.#entries) applyEntry(this.#data, entry);
    }
    this.#journalEnd = read.end;
    return read.torn;
  }
}

interface Loaded {
  data: StoreData;
  stamp: string | null;
  journalEnd: number;
  torn: boolean;
}

/** The store file with its journal applied. */
async function load(path: string): Promise<Loaded> {
  const { data, stamp } = await readStore(path);
  const journal = await readJournalChecked(`${path}.journal`, 0);
  for (const entry of journal.entries) applyEntry(data, entry);
  return { data, stamp, journalEnd: journal.end, torn: journal.torn };
}

async function readJournalChecked(path: string, from: number) {
  try {
    return await readJournal(path, from);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      'store-damaged',
      `the store's journal ${path} is damaged (${(error as Error).message}); it was left untouched`,
      'restore the store and its journal from a backup, or use another --target',
    );
  }
}
