import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { codePointName } from '../core/printable.js';
import { emailKey, emailProblem, foldName, forbiddenInName } from '../core/validate.js';
import { notAFile, readFailure, TEMP_FILE, writeFileAtomically } from '../util/atomic-file.js';
import { sweepDeadSockets } from './lock.js';
import type { InvitationRecord } from '../core/types.js';
import { customerSchema, emptyStore, invitationSchema, organizationSchema, STORE_FORMAT, STORE_FORMATS_READ, storeSchema, type StoreData, type StoredCustomer } from './format.js';
import { batchLine, checksumOf, type Batch, type JournalEntry } from './journal.js';
import { setInvitation, track } from './status-counts.js';

/** A snapshot as read: its data, and what the log that continues it must match. */
export interface Snapshot {
  data: StoreData;
  /** null: there is no file (an empty store). */
  stamp: string | null;
  /** The format the file had (1: upgraded by the first write). */
  format: number;
  /** The generation its log must carry (0 for format 1 or no file). */
  generation: number;
  /** The file's size in bytes. */
  size: number;
}

/** Reads and checks the store file; a missing file is an empty store (stamp null). */
export async function readStore(path: string): Promise<Snapshot> {
  let bytes: Buffer;
  let stamp: string | null;
  try {
    // A link at the store's name would be split in two: its log and lock go beside the link, and
    // the next snapshot replaces the link with a file, while runs given the real path go on alone.
    if ((await lstat(path)).isSymbolicLink()) throw storeLinkRefused(path, await realpath(path).catch(() => undefined));
    // Opened without blocking (a FIFO there would wait for a writer forever) and refused unless it
    // is a regular file, before a byte is read.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const info = await handle.stat({ bigint: true });
      if (!info.isFile()) throw notAFile(path, info);
      // Stamp first: if the file is replaced meanwhile we re-read it at commit.
      stamp = stampOf(info);
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof UsageError) throw error;
    if (code === 'ENOENT') return { data: emptyStore(), stamp: null, format: STORE_FORMAT, generation: 0, size: 0 };
    throw readFailure(path, error);
  }
  return { ...parseStore(path, bytes), stamp, size: bytes.length };
}

function storeLinkRefused(path: string, real: string | undefined): UsageError {
  return new UsageError(
    'symlink-refused',
    `the store ${path} is a symbolic link${real ? ` to ${real}` : ''}: jsm-provision never reads or writes a store through one (its log and lock would go beside the link, and its next write would replace the link with a file of its own)`,
    real ? `give the store itself: --target ${real}` : 'give the path of the store file itself as --target',
  );
}

const CHECKSUM = ',"checksum":"sha1:';

/** true when the file ends in the checksum of what precedes it: written by this tool as it is. */
function checksumMatches(bytes: Buffer): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 128));
  const at = tail.lastIndexOf(CHECKSUM);
  if (at < 0) return false;
  const start = bytes.length - tail.length + at;
  const match = /^([0-9a-f]{40})"\}\s*$/.exec(bytes.subarray(start + CHECKSUM.length).toString('latin1'));
  return match !== null && match[1] === checksumOf(bytes.subarray(0, start));
}

/**
 * An input file given as the store: its name says so (.csv, .eml, ...), or it begins with text that
 * no store (a JSON object) begins with. A store cut short or zeroed by a crash begins with `{` or NUL.
 */
function notAStore(path: string, bytes: Buffer): boolean {
  if (/\.(csv|tsv|txt|xlsx|xls|ods|eml|mbox|msg)$/i.test(path)) return true;
  const first = bytes.toString('latin1').trimStart()[0];
  return first !== undefined && first !== '{' && first >= ' ' && first <= '~';
}

function parseStore(path: string, bytes: Buffer): { data: StoreData; format: number; generation: number } {
  // A file this tool wrote, unchanged since (its checksum says so), had every record checked when
  // it was made: only its outline is checked again. A file edited by hand is checked record by record.
  const trusted = checksumMatches(bytes);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    // A file that never was a store (the CSV to import, given as --target): not "damaged".
    if (notAStore(path, bytes)) {
      throw new UsageError(
        'not-a-store',
        `${path} is not a jsm-provision store (a store is the JSON file jsm-provision writes; this file is not JSON); it was left untouched`,
        '--target (JSM_TARGET) names the store (default ./jsm-store.json), not the input: give a CSV file to import-csv, or mail to import-mail, as the command\'s argument',
      );
    }
    throw new UsageError(
      'store-damaged',
      `the store ${path} is not valid JSON (${(error as Error).message}); it was left untouched`,
      'restore it from a backup, or use another --target for a new store',
    );
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format !== 'number' || !STORE_FORMATS_READ.includes(format)) {
    throw new UsageError(
      'store-format',
      `the store ${path} has format ${JSON.stringify(format)}; this jsm-provision reads formats ${STORE_FORMATS_READ.join(' and ')}; it was left untouched`,
      'use the jsm-provision version that wrote it, or another --target',
    );
  }
  const raw = json as Record<string, unknown>;
  const generation = format === 1 ? 0 : raw.generation;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) {
    throw damaged(path, 'generation', 'expected a whole number');
  }
  delete raw.generation;
  delete raw.checksum;
  raw.format = STORE_FORMAT;
  // Checked record by record (putRecords), and the parsed objects kept as they are: zod returns a
  // copy of what it parses, and copying a 100,000-customer store would double the memory it takes
  // to load. zod's record check copies what it checks: a file whose checksum matched gets a plain look.
  const file = (trusted && isPlainRecord(raw.customers) && isPlainRecord(raw.invitations) ? json : checked(path, storeOutline, json, [])) as Omit<StoreData, 'customers' | 'invitations'> & {
    customers: Record<string, StoredCustomer>;
    invitations: Record<string, Record<string, unknown>>;
  };
  checked(path, storeSchema.shape.projects, file.projects, ['projects']);
  const outline: StoreData = { ...file, customers: new Map(), invitations: {} };
  track(outline.invitations);
  // Format 1 was written by older versions, by their rules: its records get the outline check only.
  putRecords(path, outline, file.customers, file.invitations, trusted, [], format !== 1);
  // Organizations are few (a handful per customer base): always checked one by one.
  (outline as { organizations?: unknown }).organizations ??= {};
  checked(path, recordOf, outline.organizations, ['organizations']);
  for (const key in outline.organizations) checked(path, organizationSchema, outline.organizations[key], ['organizations', key]);
  return { data: outline, format, generation };
}

/**
 * Sets the records of a log batch in `data` (checked one by one unless the batch's checksum
 * matched). Returns how many records it replaced (older versions now dead: the compaction rule).
 */
export function applyBatch(path: string, data: StoreData, batch: Batch, trusted: boolean, line: number): number {
  for (const kind in batch) {
    if (kind !== 'customers' && kind !== 'invitations') {
      throw new UsageError(
        'store-format',
        `the store's log ${path} holds ${JSON.stringify(kind)} records (line ${line}), which this jsm-provision does not know; it was left untouched`,
        'use the jsm-provision version that wrote it, or another --target',
      );
    }
  }
  return putRecords(path, data, batch.customers, batch.invitations, trusted, [`line ${line}`]);
}

/**
 * Puts records as read (the snapshot's, or a log batch's) into `data`: each checked unless the file
 * or line was trusted, invitation records made whole, what repeats shared. Returns how many
 * replaced a record already there. `at` starts the place a damage is reported at.
 */
function putRecords(path: string, data: StoreData, customersIn: unknown, invitationsIn: unknown, trusted: boolean, at: readonly PropertyKey[], strict = true): number {
  let replaced = 0;
  const record = (value: unknown, where: PropertyKey[]) => (trusted && isPlainRecord(value) ? value : checked(path, recordOf, value, where));
  const customers = customersIn === undefined ? {} : (record(customersIn, [...at, 'customers']) as Record<string, StoredCustomer>);
  const times = new SameText();
  const lists = new SameProjects();
  for (const key in customers) {
    const customer = customers[key] as StoredCustomer;
    if (!trusted) {
      checked(path, customerSchema, customer, [...at, 'customers', key]);
      // A hand edit is kept if it is what an import would have written: an address, its key, a name.
      const problem = strict ? customerProblem(key, customer) : undefined;
      if (problem !== undefined) throw damaged(path, [...at, 'customers', key].map(String).join('.'), problem);
    }
    customer.createdAt = times.same(customer.createdAt);
    customer.projects = lists.same(customer.projects) as string[];
    // An email already in lower case is its key: one string for both (100,000 fewer in a large store).
    if (customer.email === key) customer.email = key;
    const size = data.customers.size;
    data.customers.set(key, customer);
    if (data.customers.size === size) replaced++;
  }
  const invitations = invitationsIn === undefined ? {} : (record(invitationsIn, [...at, 'invitations']) as Record<string, Record<string, unknown>>);
  for (const project in invitations) {
    const records = record(invitations[project], [...at, 'invitations', project]) as Record<string, unknown>;
    for (const key in records) {
      const record = expanded(records[key], project, key, data.customers.get(key), times);
      if (!trusted) {
        checked(path, invitationSchema, record, [...at, 'invitations', project, key]);
        // A hand edit may not invite someone an import would not have: who is not a customer of
        // the project, or at an address other than the one it is filed under.
        const problem = strict ? invitationProblem(data, project, key, record as InvitationRecord) : undefined;
        if (problem !== undefined) throw damaged(path, [...at, 'invitations', project, key].map(String).join('.'), problem);
      }
      if (setInvitation(data.invitations, project, key, record as InvitationRecord) !== undefined) replaced++;
    }
  }
  return replaced;
}

/** A format-1 journal entry, checked. */
export function checkedEntry(path: string, entry: JournalEntry, line: number): JournalEntry {
  checked(path, invitationSchema, entry.v, [`line ${line}`]);
  return entry;
}

/**
 * Customers (each with the invitation records changed for them) per log line. Small enough that an
 * ordinary line (about 300 bytes a customer) stays under V8's large-object size (128 KiB): its
 * text and bytes then die young instead of waiting for a full collection (measured: 100,000 rows
 * 5% faster and 20 MB less at their peak than with 2,000; 100 per line is slower again).
 */
const LINE_RECORDS = 300;

/**
 * The log lines (each whole, with its checksum and line break) for the records named, as they are
 * now. A customer's changed invitation records go in the customer's own line (one write, always);
 * invitation records of customers not named follow in lines of their own.
 */
export function* batchLines(data: StoreData, customers: ReadonlySet<string>, invitations: ReadonlyMap<string, ReadonlySet<string>>): Iterable<Buffer> {
  const line = (keys: readonly string[], byProject: Map<string, string[]>): Buffer => {
    const parts: string[] = [];
    if (keys.length > 0) parts.push(`"customers":${recordsText(keys, (key) => data.customers.get(key))}`);
    const projects: string[] = [];
    for (const [project, projectKeys] of byProject) {
      const byKey = data.invitations[project];
      projects.push(`${JSON.stringify(project)}:${recordsText(projectKeys, (key) => compact(byKey?.get(key) as InvitationRecord, data.customers.get(key)))}`);
    }
    if (projects.length > 0) parts.push(`"invitations":{${projects.join(',')}}`);
    return batchLine(`{${parts.join(',')}`);
  };
  // A customer's line: the customer, and their changed invitation records that the store holds.
  const withCustomers = (chosen: readonly string[]): Buffer => {
    const byProject = new Map<string, string[]>();
    for (const [project, keys] of invitations) {
      const byKey = data.invitations[project];
      if (byKey === undefined) continue;
      const list = chosen.filter((key) => keys.has(key) && byKey.has(key));
      if (list.length > 0) byProject.set(project, list);
    }
    return line(chosen, byProject);
  };
  let chosen: string[] = [];
  for (const key of customers) {
    if (!data.customers.has(key)) continue;
    chosen.push(key);
    if (chosen.length >= LINE_RECORDS) {
      yield withCustomers(chosen);
      chosen = [];
    }
  }
  if (chosen.length > 0) yield withCustomers(chosen);
  // The other changed invitation records (their customer went in no line above), in lines of their own.
  let byProject = new Map<string, string[]>();
  let n = 0;
  for (const [project, keys] of invitations) {
    const byKey = data.invitations[project];
    if (byKey === undefined) continue;
    for (const key of keys) {
      if (!byKey.has(key) || (customers.has(key) && data.customers.has(key))) continue;
      const list = byProject.get(project);
      if (list) list.push(key);
      else byProject.set(project, [key]);
      if (++n >= LINE_RECORDS) {
        yield line([], byProject);
        byProject = new Map();
        n = 0;
      }
    }
  }
  if (n > 0) yield line([], byProject);
}

/**
 * `{"<key>":<record>,…}`, what JSON.stringify makes of an object of the records, made record by
 * record: the keys come from Maps, and an object built to hold them would first make each key a
 * property name (measured slower for 100,000 keys).
 */
function recordsText(keys: readonly string[], record: (key: string) => unknown): string {
  let text = '';
  for (const key of keys) text += `${text === '' ? '{' : ','}${entryText(key, record(key))}`;
  return text === '' ? '{}' : `${text}}`;
}

/** `"<key>":<value>`, a member of a JSON object. */
function entryText(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
}

/** What an edited customer record holds that no import writes, if anything. */
function customerProblem(key: string, customer: StoredCustomer): string | undefined {
  const email = emailProblem(customer.email);
  if (email !== undefined) return email;
  if (emailKey(customer.email) !== key) return `the email ${JSON.stringify(customer.email)} is not the one it is filed under (${JSON.stringify(key)}): change both`;
  if (foldName(customer.fullName) === '') return 'the name is empty';
  const bad = forbiddenInName(customer.fullName);
  if (bad.length > 0) return `the name contains ${bad.map(codePointName).join(', ')} (control, invisible or bidirectional characters)`;
  return undefined;
}

/**
 * What an edited invitation record holds that no run writes, if anything. Only in a store that
 * holds the project (a REST target's ledger file holds invitations only: its customers are on
 * the server).
 */
function invitationProblem(data: StoreData, project: string, key: string, record: InvitationRecord): string | undefined {
  if (data.projects[project] === undefined) return undefined;
  if (emailKey(record.email) !== key) return `the email ${JSON.stringify(record.email)} is not the one it is filed under (${JSON.stringify(key)}): an invitation goes only to the customer it is filed under`;
  const customer = data.customers.get(key);
  if (customer === undefined || !customer.projects.includes(project)) return `${JSON.stringify(key)} is not a customer of ${project}: an invitation is only for a customer of its project`;
  return undefined;
}

function damaged(path: string, where: string, message: string): UsageError {
  return new UsageError(
    'store-damaged',
    `the store ${path} is damaged at ${where}: ${message}; it was left untouched`,
    'restore it from a backup, or use another --target for a new store',
  );
}

/*
 * Invitation records are written without what the file already says elsewhere: their project and
 * key (the names they are filed under), false flags, and the email, name and time when the
 * customer record holds the same (a new customer is dated as the invitation it is owed). A
 * 100,000-row import writes a third less, and reads it back faster.
 */
function compact(record: InvitationRecord, customer: StoredCustomer | undefined): Partial<InvitationRecord> {
  // Built field by field: deleting properties would turn every record into a slow dictionary.
  const out: Partial<InvitationRecord> = {};
  if (customer?.email !== record.email) out.email = record.email;
  if (customer?.fullName !== record.fullName) out.fullName = record.fullName;
  out.kind = record.kind;
  out.status = record.status;
  if (record.deferred) out.deferred = true;
  if (record.mustChangePassword) out.mustChangePassword = true;
  if (record.language !== undefined) out.language = record.language;
  if (record.messageId !== undefined) out.messageId = record.messageId;
  if (record.suppressedBy !== undefined) out.suppressedBy = record.suppressedBy;
  if (record.reason !== undefined) out.reason = record.reason;
  if (record.runId !== undefined) out.runId = record.runId;
  if (record.updatedAt !== customer?.createdAt) out.updatedAt = record.updatedAt;
  return out;
}

/**
 * A record as read (compact) made whole again: a new object with every field in place, rather than
 * the parsed one with fields added (which V8 keeps in a second, out-of-line array per record), and
 * its time shared with the record before when they are the same (a run writes one time per chunk).
 * Anything that is not an object is returned as it is, for the check to name.
 */
function expanded(raw: unknown, project: string, key: string, customer: StoredCustomer | undefined, times: SameText): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const r = raw as Partial<InvitationRecord>;
  const email = r.email ?? customer?.email;
  const fullName = r.fullName ?? customer?.fullName;
  const deferred = r.deferred ?? false;
  const mustChangePassword = r.mustChangePassword ?? false;
  const updatedAt = times.same(r.updatedAt ?? customer?.createdAt);
  const record = (
    r.suppressedBy === undefined
      ? { project, key, email, fullName, kind: r.kind, status: r.status, deferred, mustChangePassword, updatedAt }
      : { project, key, email, fullName, kind: r.kind, status: r.status, deferred, mustChangePassword, suppressedBy: r.suppressedBy, updatedAt }
  ) as InvitationRecord;
  if (r.language !== undefined) record.language = r.language;
  if (r.messageId !== undefined) record.messageId = r.messageId;
  if (r.reason !== undefined) record.reason = r.reason;
  if (r.runId !== undefined) record.runId = r.runId;
  return record;
}

/**
 * One copy of a text that repeats record after record (the time of a chunk): JSON.parse makes a
 * string per record, 100,000 alike in a large import.
 */
class SameText {
  #last: unknown;
  same<T>(value: T): T {
    if (typeof value === 'string' && value === this.#last) return this.#last as T;
    this.#last = value;
    return value;
  }
}

/**
 * Customers' project lists, one array for each list that repeats (most customers are in the same
 * project). Safe because a customer's list is never changed in place: a new project is a new
 * array (LocalTarget.provision).
 */
class SameProjects {
  #lists = new Map<string, string[]>();
  same(value: unknown): unknown {
    if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== 'string') return value;
    const known = this.#lists.get(value[0]);
    if (known !== undefined) return known;
    if (this.#lists.size < 100) this.#lists.set(value[0], value as string[]);
    return value;
  }
}

const recordOf = z.record(z.string(), z.unknown());

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
// organizations: absent in format 1 (filled in as empty after this check).
const storeOutline = z.object({ format: z.literal(STORE_FORMAT), projects: z.unknown(), customers: recordOf, invitations: recordOf, organizations: recordOf.optional() });

/** Throws store-damaged, naming where, unless `value` fits `schema`; returns `value` itself. */
function checked(path: string, schema: z.ZodType, value: unknown, at: PropertyKey[]): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return value;
  const issue = parsed.error.issues[0];
  const where = [...at, ...(issue?.path ?? [])].map(String).join('.');
  throw new UsageError(
    'store-damaged',
    `the store ${path} is damaged at ${where || 'its top level'}: ${issue?.message ?? 'invalid'}; it was left untouched`,
    'restore it from a backup, or use another --target for a new store',
  );
}

function stampOf(info: BigIntStats): string {
  return `${info.ino}:${info.size}:${info.mtimeNs}`;
}

/** Identifies one version of the file: every commit renames a new inode into place. */
export async function fileStamp(path: string): Promise<string | null> {
  try {
    return stampOf(await stat(path, { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Removes temp files left by writers that were killed mid-write, and live-sockets of lock owners
 * that are gone (called under the lock). A new store file is only written under the lock: every
 * temp file of one found now was left by a dead writer, whatever its pid says (a pid says nothing
 * of a writer in another PID namespace). The lock's own temp files are made without the lock: one
 * is removed when its pid is gone here (one of a live writer in another namespace removed so makes
 * that writer try again: see lock.ts).
 */
export async function sweepDeadTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const lockPrefix = `.${basename(path)}.lock.`;
  const dir = dirname(path);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
  for (const name of names) {
    const pid = Number(TEMP_FILE.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (name.startsWith(lockPrefix) && isAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
  }
  await sweepDeadSockets(dir, names);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Writes the store atomically, serialised piece by piece: no single string of the whole store. */
export async function writeStore(path: string, data: StoreData, generation: number): Promise<string | null> {
  // Fails with a UsageError naming the file and the cause (a full disk says so); the last good
  // store stays in place and the temp file is removed.
  try {
    await writeFileAtomically(path, withChecksum(serialise(data, generation)));
  } catch (error) {
    // The code scripts knew for a store that cannot be written stays; a full disk has its own.
    if (error instanceof UsageError && error.code === 'not-writable') throw new UsageError('store-unwritable', error.message, error.hint);
    throw error;
  }
  return fileStamp(path);
}

/** The pieces, then the checksum of all of them as the last member of the object. */
function* withChecksum(pieces: Iterable<string>): Iterable<string> {
  const hash = createHash('sha1');
  for (const piece of pieces) {
    hash.update(piece, 'utf8');
    yield piece;
  }
  yield `${CHECKSUM}${hash.digest('hex')}"}\n`;
}

/** The same text as JSON.stringify(data) with the generation, less the closing brace, made one record at a time. */
function* serialise(data: StoreData, generation: number): Iterable<string> {
  yield `{"format":${STORE_FORMAT},"generation":${generation},"projects":${JSON.stringify(data.projects)},"customers":`;
  yield* serialiseRecord(data.customers.entries());
  yield ',"invitations":{';
  let first = true;
  for (const project in data.invitations) {
    yield `${first ? '' : ','}${JSON.stringify(project)}:`;
    yield* serialiseRecord(data.invitations[project]?.entries() ?? [], (record, key) => compact(record as InvitationRecord, data.customers.get(key)));
    first = false;
  }
  yield '},"organizations":';
  yield* serialiseRecord(entriesOf(data.organizations ?? {}));
}

/** Entries per piece yielded: no piece is large. */
const SLICE = 2_000;

function* entriesOf(record: Record<string, unknown>): Iterable<[string, unknown]> {
  for (const key in record) yield [key, record[key]];
}

/** `{…}` of the entries, as JSON.stringify of an object with them would make it. */
function* serialiseRecord(entries: Iterable<[string, unknown]>, map?: (value: unknown, key: string) => unknown): Iterable<string> {
  yield '{';
  let text = '';
  let size = 0;
  let first = true;
  for (const [key, value] of entries) {
    text += `${first ? '' : ','}${entryText(key, map ? map(value, key) : value)}`;
    first = false;
    if (++size >= SLICE) {
      yield text;
      text = '';
      size = 0;
    }
  }
  if (text !== '') yield text;
  yield '}';
}
