import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { STORE_FORMAT, type StoreData } from './format.js';
import { appendLog, applyEntry, headerLine, readLog, resetLog, type JournalEntry, type LogRead } from './journal.js';
import { withLock, type LockOptions } from './lock.js';
import { applyBatch, batchLines, checkedEntry, fileStamp, readStore, sweepDeadTemps, writeStore } from './store-file.js';
import { testHook } from '../util/test-hooks.js';
import { readFailure } from '../util/atomic-file.js';

/**
 * What an operation changed, so that a commit can append just that to the log: the customers and
 * invitation records it set (they are written as they are at the commit), and how many of them
 * replaced an older version (the compaction rule counts those).
 */
export interface StoreChanges {
  customers?: Iterable<string>;
  invitations?: Iterable<readonly [project: string, key: string]>;
  replaced?: number;
}

/**
 * A change to the store: applied at once in memory, and replayed on a fresher copy at commit.
 * It returns what it changed when that can be logged; when it returns nothing (projects, and any
 * kind of record the log does not hold), the next commit rewrites the whole snapshot instead.
 */
export type StoreOp = (data: StoreData) => StoreChanges | void;

export interface StoreTuning {
  /** Make the store's folder (with this mode) before its first write: a REST ledger's state folder, never made by a read. */
  folderMode?: number;
  /** Compact when the log's replaced records exceed this share of the store's records (default 0.5)... */
  compactShare?: number;
  /** ...and at least this many (default 1,000; tests use a few). */
  compactMinReplaced?: number;
}

/**
 * The local JSON store: a snapshot (`<store>`) and a log of what changed since (`<store>.journal`,
 * see journal.ts). Reads are from memory. Changes are applied to the in-memory copy at once and
 * kept until the next commit, which takes the lock, first reads what other processes wrote since
 * (their log lines; or, when they rewrote the snapshot, or when our own operations must be decided
 * again on their data, the whole store, replaying the operations on it, so nobody's changes are
 * lost) and then appends one batch line with every record changed (fdatasync'ed): customers and the
 * invitations they are owed in the same line. A change the log cannot hold rewrites the snapshot
 * atomically instead (temp file, fsync, rename) and starts a new log; so does a compaction, when
 * the log holds more replaced records than a share of the store, and the first write to a store of
 * an older format (the upgrade). A damaged or unknown file is refused and never overwritten.
 */
export class LocalStore {
  readonly path: string;
  readonly journalPath: string;
  #data: StoreData;
  #stamp: string | null;
  #disk: Disk;
  #pending: { op: StoreOp; logged: boolean }[] = [];
  #entries: JournalEntry[] = [];
  #dirty = new Dirty();
  #lockOptions: LockOptions;
  #tuning: Required<Omit<StoreTuning, 'folderMode'>>;
  #folderMode: number | undefined;
  #sweptTemps = false;
  #busy: Promise<unknown> = Promise.resolve();
  /** After a compaction failed: not tried again before the log holds this many replaced records. */
  #compactAfter = 0;
  lastCommitMs = 0;
  /** The last compaction that failed (the log was kept as it was), if any. */
  compactionFailure: unknown;

  private constructor(path: string, loaded: Loaded, lockOptions: LockOptions, tuning: StoreTuning) {
    this.path = path;
    this.journalPath = `${path}.journal`;
    this.#data = loaded.data;
    this.#stamp = loaded.stamp;
    this.#disk = loaded.disk;
    this.#lockOptions = lockOptions;
    this.#tuning = { compactShare: tuning.compactShare ?? 0.5, compactMinReplaced: tuning.compactMinReplaced ?? 1_000 };
    this.#folderMode = tuning.folderMode;
  }

  /** Opens the store; a missing file is an empty store, written at the first commit. */
  static async open(path: string, lockOptions: LockOptions = {}, tuning: StoreTuning = {}): Promise<LocalStore> {
    const absolute = resolve(path);
    return new LocalStore(absolute, await load(absolute), lockOptions, tuning);
  }

  get data(): StoreData {
    return this.#data;
  }

  /** An operation for the next commit. */
  mutate(op: StoreOp): void {
    const changes = op(this.#data);
    this.#pending.push({ op, logged: changes !== undefined });
    if (changes) this.#dirty.add(changes);
  }

  /** A ledger entry (an invitation's new state) for the next commit. */
  record(entry: JournalEntry): void {
    applyEntry(this.#data, entry);
    this.#entries.push(entry);
    this.#dirty.invitation(entry.p, entry.k, true);
  }

  /** Makes everything done so far durable (a log append, or a snapshot rewrite); nothing to do, nothing written. */
  async commit(): Promise<void> {
    await this.#exclusive(() => this.#commit());
  }

  /**
   * Under the lock and on the freshest copy (other processes' changes read first), asks `decide`
   * for entries, applies them and makes them durable with everything pending. The at-most-once
   * gate for invitations: a claim decided here cannot also be decided by another process.
   */
  async journal(decide: (data: StoreData) => JournalEntry[]): Promise<void> {
    await this.#exclusive(() => this.#commit(decide));
  }

  /** Re-reads what another process wrote since, when nothing is pending here. */
  async refresh(): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#pending.length > 0 || this.#entries.length > 0) return;
      // No lock: a log line being written is not whole yet and is not read; a snapshot replaced
      // meanwhile is noticed by its stamp, and the whole store is read again.
      if ((await fileStamp(this.path)) === this.#stamp && (await this.#readTail(false))) {
        if ((await fileStamp(this.path)) === this.#stamp) return;
      }
      this.#reload(await load(this.path));
    });
  }

  /** One commit at a time in this process; the lock orders processes. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  async #commit(decide?: (data: StoreData) => JournalEntry[]): Promise<void> {
    // Nothing to write, nothing written (an older store is upgraded by its first real write).
    if (!decide && this.#pending.length === 0 && this.#entries.length === 0) return;
    const started = performance.now();
    let compact = false;
    if (this.#folderMode !== undefined) {
      await mkdir(dirname(this.path), { recursive: true, mode: this.#folderMode });
      this.#folderMode = undefined;
    }
    await withLock(
      this.path,
      async () => {
        if (!this.#sweptTemps) {
          this.#sweptTemps = true;
          await sweepDeadTemps(this.path);
        }
        await this.#catchUp();
        if (decide) {
          for (const entry of decide(this.#data)) {
            applyEntry(this.#data, entry);
            this.#dirty.invitation(entry.p, entry.k, true);
          }
        }
        // Counted now: what is recorded while the store is being written stays for the next commit.
        const opsTaken = this.#pending.length;
        const entriesTaken = this.#entries.length;
        const snapshot = this.#stamp === null || this.#disk.upgrade || this.#pending.some((p) => !p.logged);
        if (snapshot) {
          await this.#writeSnapshot();
        } else {
          const dirty = this.#dirty;
          this.#dirty = new Dirty();
          try {
            await this.#append(dirty);
          } catch (error) {
            this.#dirty.merge(dirty);
            throw error;
          }
          compact = this.#compactionDue();
        }
        // Only now: had the write failed, they would still be pending for the next try. Not later:
        // once on disk, an operation must not be replayed (it would find its own customers).
        this.#pending = this.#pending.slice(opsTaken);
        this.#entries = this.#entries.slice(entriesTaken);
      },
      this.#lockOptions,
    );
    // The commit is durable already (its log line): a compaction that fails (no room for a second
    // copy of the store) leaves the log as it is, and is no failure of the commit. Reporting one
    // would make the caller take what it just recorded (sent outcomes, claims) for unrecorded.
    // Not tried again until the log has grown as much again.
    if (compact) {
      try {
        await this.#compact();
      } catch (error) {
        this.compactionFailure = error;
        this.#compactAfter = this.#disk.replaced * 2;
      }
    }
    this.lastCommitMs = performance.now() - started;
  }

  /** Rewrites the snapshot with everything, then starts a new log (under the lock). */
  async #writeSnapshot(): Promise<void> {
    const generation = this.#disk.generation + 1;
    this.#dirty = new Dirty();
    this.#stamp = await writeStore(this.path, this.#data, generation);
    testHook('snapshot-renamed', this.path);
    // From here the snapshot holds everything: the old log is stale (older generation) whatever
    // happens to it next, and is ignored by every reader.
    this.#disk = { generation, logEnd: 0, logState: 'stale', upgrade: false, snapshotSize: 0, logSize: 0, replaced: 0, records: countRecords(this.#data) };
    this.#disk.snapshotSize = Number(this.#stamp?.split(':')[1] ?? 0);
    try {
      const end = await resetLog(this.journalPath, generation);
      if (end !== null) {
        this.#disk.logEnd = end;
        this.#disk.logState = 'current';
        this.#disk.logSize = end;
      }
    } catch {
      // A log that cannot be started anew is stale, and ignored; the next append starts it again.
    }
    testHook('commit', this.path);
  }

  async #append(dirty: Dirty): Promise<void> {
    if (dirty.empty) return;
    const fresh = this.#disk.logState !== 'current';
    const end = await appendLog(this.journalPath, {
      end: this.#disk.logEnd,
      torn: this.#disk.torn ?? false,
      unterminated: !fresh && this.#disk.unterminated === true,
      ...(fresh ? { header: headerLine(this.#disk.generation) } : {}),
      lines: batchLines(this.#data, dirty.customers, dirty.invitations),
      step: dirty.customers.size > 0 ? 'commit' : 'append',
    });
    this.#disk.logEnd = end;
    this.#disk.logSize = end;
    this.#disk.logState = 'current';
    this.#disk.torn = false;
    this.#disk.unterminated = false;
    this.#disk.replaced += dirty.replaced;
    this.#disk.records += dirty.created;
  }

  #compactionDue(): boolean {
    const { replaced, records } = this.#disk;
    return replaced >= this.#tuning.compactMinReplaced && replaced > this.#tuning.compactShare * records && replaced >= this.#compactAfter;
  }

  /** Folds the log into a new snapshot (atomically), under the lock, on the freshest copy. */
  async #compact(): Promise<void> {
    await withLock(
      this.path,
      async () => {
        await this.#catchUp();
        if (!this.#compactionDue() || this.#pending.length > 0 || this.#entries.length > 0) return;
        await this.#writeSnapshot();
        testHook('compacted', this.path);
      },
      this.#lockOptions,
    );
  }

  /**
   * Brings the in-memory copy up to what is on disk (called under the lock): the log lines other
   * processes appended since; or the whole store read again when they rewrote the snapshot, or when
   * operations pending here must be decided again on their data. Our own pending operations and
   * entries are applied again on top.
   */
  async #catchUp(): Promise<void> {
    const stamp = await fileStamp(this.path);
    if (stamp === this.#stamp && (await this.#readTail(this.#pending.length > 0))) return;
    const fresh = await load(this.path);
    this.#dirty = new Dirty();
    for (const pending of this.#pending) {
      const changes = pending.op(fresh.data);
      if (changes) this.#dirty.add(changes);
    }
    for (const entry of this.#entries) {
      applyEntry(fresh.data, entry);
      this.#dirty.invitation(entry.p, entry.k, true);
    }
    this.#reload(fresh);
  }

  #reload(fresh: Loaded): void {
    this.#data = fresh.data;
    this.#stamp = fresh.stamp;
    this.#disk = fresh.disk;
  }

  /**
   * Reads the log lines appended since we last read or wrote it and applies them. Returns false
   * when the whole store must be read again instead: the log was started anew, or it holds other
   * processes' lines and `strict` (operations pending here were applied to a copy without them).
   */
  async #readTail(strict: boolean): Promise<boolean> {
    const disk = this.#disk;
    const from = disk.logState === 'current' ? disk.logEnd : 0;
    const read = await readLogChecked(this.journalPath, from, disk.logState === 'current' ? disk.generation : null);
    if (disk.logState !== 'current') {
      // We wrote the snapshot and could not start the log: nothing may have been added to it since.
      if (read.generation === null || read.generation < disk.generation) {
        disk.torn = true;
        return true;
      }
      return false;
    }
    if (read.size < disk.logEnd || read.legacy.length > 0) return false;
    if (read.batches.length > 0 && strict) return false;
    disk.replaced += applyRead(this.journalPath, this.#data, read, disk.generation);
    for (const entry of this.#entries) applyEntry(this.#data, entry);
    disk.records = countRecords(this.#data);
    disk.logEnd = read.end;
    disk.logSize = read.size;
    disk.torn = read.torn;
    // Read from an offset: a line break another process wrote first ends ours (an empty line).
    if (read.end > from || read.unterminated) disk.unterminated = read.unterminated;
    return true;
  }
}

/** What changed since the last commit: written as it is at the next one. */
class Dirty {
  customers = new Set<string>();
  invitations = new Map<string, Set<string>>();
  replaced = 0;
  created = 0;

  get empty(): boolean {
    return this.customers.size === 0 && this.invitations.size === 0;
  }

  add(changes: StoreChanges): void {
    let n = 0;
    for (const key of changes.customers ?? []) {
      this.customers.add(key);
      n++;
    }
    for (const [project, key] of changes.invitations ?? []) {
      this.invitation(project, key, false);
      n++;
    }
    const replaced = Math.min(n, changes.replaced ?? 0);
    this.replaced += replaced;
    this.created += n - replaced;
  }

  invitation(project: string, key: string, replaces: boolean): void {
    let keys = this.invitations.get(project);
    if (!keys) this.invitations.set(project, (keys = new Set()));
    keys.add(key);
    if (replaces) this.replaced++;
  }

  merge(other: Dirty): void {
    for (const key of other.customers) this.customers.add(key);
    for (const [project, keys] of other.invitations) for (const key of keys) this.invitation(project, key, false);
    this.replaced += other.replaced;
    this.created += other.created;
  }
}

/** Where the files on disk stand, as this process last read or wrote them. */
interface Disk {
  /** The snapshot's generation; the log continues it. */
  generation: number;
  /** The offset after the last whole log line read or written. */
  logEnd: number;
  /** current: the log continues the snapshot; stale: it must be started anew before an append. */
  logState: 'current' | 'stale';
  /** The log ends in bytes that make no whole line (cut off before the next append). */
  torn?: boolean;
  /** The log's last line is whole but has no line break (saved so by an editor): the next append writes it first. */
  unterminated?: boolean;
  /** The snapshot is of an older format, or a format-1 journal was read: the next commit rewrites it. */
  upgrade: boolean;
  snapshotSize: number;
  logSize: number;
  /** Records in the log that replaced an older version (dead weight until a compaction). */
  replaced: number;
  /** Records in the store (customers and invitation records), about. */
  records: number;
}

interface Loaded {
  data: StoreData;
  stamp: string | null;
  disk: Disk;
}

/** The snapshot with its log applied. */
async function load(path: string): Promise<Loaded> {
  const logPath = `${path}.journal`;
  for (let attempt = 0; ; attempt++) {
    const snapshot = await readStore(path);
    const log = await readLogChecked(logPath, 0, null);
    const { data } = snapshot;
    const disk: Disk = {
      generation: snapshot.generation,
      logEnd: 0,
      logState: 'stale',
      upgrade: snapshot.format !== STORE_FORMAT,
      snapshotSize: snapshot.size,
      logSize: log.size,
      replaced: 0,
      records: 0,
    };
    if (log.generation === null) {
      // A format-1 journal (ledger entries, no header) belongs to a format-1 snapshot (or none).
      if (log.legacy.length > 0 && snapshot.format === 1) {
        log.legacy.forEach((entry, i) => applyEntry(data, checkedEntry(logPath, entry, i + 1)));
        disk.upgrade = true;
      }
      disk.torn = true;
    } else if (log.generation === snapshot.generation) {
      disk.replaced = applyRead(logPath, data, log, snapshot.generation);
      disk.logEnd = log.end;
      disk.logState = 'current';
      disk.torn = log.torn;
      disk.unterminated = log.unterminated;
    } else if (log.generation > snapshot.generation) {
      // A writer replaced the snapshot and started its log between our two reads: read both again.
      if (attempt < 5) continue;
      throw new UsageError(
        'store-damaged',
        `the store's log ${logPath} continues a newer snapshot (generation ${log.generation}) than ${path} (generation ${snapshot.generation}); both were left untouched`,
        'restore the store and its journal from the same backup, or use another --target',
      );
    } else {
      // Older: a compaction folded it into the snapshot and was cut off before starting a new log.
      disk.torn = true;
    }
    // Counted with the log applied: a store whose records are mostly in its log is no smaller.
    disk.records = countRecords(data);
    return { data, stamp: snapshot.stamp, disk };
  }
}

function countRecords(data: StoreData): number {
  let records = 0;
  records += data.customers.size;
  for (const project in data.invitations) records += data.invitations[project]?.size ?? 0;
  return records;
}

/** Applies the batches of a log read; returns how many records they replaced. */
function applyRead(path: string, data: StoreData, read: LogRead, _generation: number): number {
  let replaced = 0;
  read.batches.forEach((batch, i) => {
    replaced += applyBatch(path, data, batch, read.trusted[i] ?? false, i + 2);
  });
  return replaced;
}

async function readLogChecked(path: string, from: number, generation: number | null): Promise<LogRead> {
  try {
    return await readLog(path, from, generation);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // The file system's own errors (EIO, EACCES, …) say nothing of what the file holds.
    if (typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string') throw readFailure(path, error);
    throw new UsageError(
      'store-damaged',
      `the store's journal ${path} is damaged (${(error as Error).message}); it was left untouched`,
      'restore the store and its journal from a backup, or use another --target',
    );
  }
}
