import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { TEMP_FILE, writeFileAtomically } from '../../util/atomic-file.js';
import type { InvitationRecord } from '../../core/types.js';
import { customerSchema, emptyStore, invitationSchema, organizationSchema, STORE_FORMAT, storeSchema, UPGRADABLE_FORMATS, type StoreData, type StoredCustomer } from './format.js';

/** Reads and checks the store file; a missing file is an empty store (stamp null). */
export async function readStore(path: string): Promise<{ data: StoreData; stamp: string | null }> {
  let text: string;
  let stamp: string | null;
  try {
    // Stamp first: if the file is replaced between the two calls we re-read it at commit.
    stamp = await fileStamp(path);
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { data: emptyStore(), stamp: null };
    throw new UsageError('store-unreadable', `cannot read the store ${path}: ${(error as Error).message}`);
  }
  return { data: parseStore(path, text), stamp };
}

function parseStore(path: string, text: string): StoreData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      'store-damaged',
      `the store ${path} is not valid JSON (${(error as Error).message}); it was left untouched`,
      'restore it from a backup, or use another --target for a new store',
    );
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && UPGRADABLE_FORMATS.includes(format) && json !== null && typeof json === 'object') {
    // An older store: read as this format (what it lacks is empty); the next commit writes it so.
    const old = json as Record<string, unknown>;
    old.format = STORE_FORMAT;
    old.organizations ??= {};
  } else if (format !== STORE_FORMAT) {
    throw new UsageError(
      'store-format',
      `the store ${path} has format ${JSON.stringify(format)}; this jsm-provision reads format ${STORE_FORMAT} (and upgrades ${UPGRADABLE_FORMATS.join(", ")}); it was left untouched`,
      'use the jsm-provision version that wrote it, or another --target',
    );
  }
  // Checked record by record, and the parsed objects kept as they are: zod returns a copy of what
  // it parses, and copying a 100,000-customer store would double the memory it takes to load.
  const outline = checked(path, storeOutline, json, []) as StoreData;
  checked(path, storeSchema.shape.projects, outline.projects, ['projects']);
  for (const key in outline.customers) checked(path, customerSchema, outline.customers[key], ['customers', key]);
  for (const project in outline.invitations) {
    const records = outline.invitations[project];
    checked(path, recordOf, records, ['invitations', project]);
    for (const key in records) {
      const record = records[key];
      if (record && typeof record === 'object') expand(record, project, key, outline.customers[key]);
      checked(path, invitationSchema, record, ['invitations', project, key]);
    }
  }
  checked(path, recordOf, outline.organizations, ['organizations']);
  for (const key in outline.organizations) checked(path, organizationSchema, outline.organizations[key], ['organizations', key]);
  return outline;
}

/*
 * Invitation records are written without what the file already says elsewhere: their project and
 * key (the names they are filed under), false flags, and the email and name when the customer
 * record holds the same. A 100,000-row import writes a third less, and reads it back faster.
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
  out.updatedAt = record.updatedAt;
  return out;
}

function expand(record: Partial<InvitationRecord>, project: string, key: string, customer: StoredCustomer | undefined): void {
  record.project = project;
  record.key = key;
  record.deferred ??= false;
  record.mustChangePassword ??= false;
  if (customer) {
    record.email ??= customer.email;
    record.fullName ??= customer.fullName;
  }
}

const recordOf = z.record(z.string(), z.unknown());
const storeOutline = z.object({ format: z.literal(STORE_FORMAT), projects: z.unknown(), customers: recordOf, invitations: recordOf, organizations: recordOf });

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

/** Identifies one version of the file: every commit renames a new inode into place. */
export async function fileStamp(path: string): Promise<string | null> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Removes temp files left by writers that were killed mid-write (their pid is gone). */
export async function sweepDeadTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(TEMP_FILE.exec(name)?.[1]);
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dirname(path), name), { force: true });
  }
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
export async function writeStore(path: string, data: StoreData): Promise<string | null> {
  // Fails with a UsageError naming the file and the cause (a full disk says so); the last good
  // store stays in place and the temp file is removed.
  try {
    await writeFileAtomically(path, serialise(data));
  } catch (error) {
    // The code scripts knew for a store that cannot be written stays; a full disk has its own.
    if (error instanceof UsageError && error.code === 'not-writable') throw new UsageError('store-unwritable', error.message, error.hint);
    throw error;
  }
  return fileStamp(path);
}

/** The same text as JSON.stringify(data), made one record at a time. */
function* serialise(data: StoreData): Iterable<string> {
  yield `{"format":${JSON.stringify(data.format)},"projects":${JSON.stringify(data.projects)},"customers":`;
  yield* serialiseRecord(data.customers);
  yield ',"invitations":{';
  let first = true;
  for (const project in data.invitations) {
    yield `${first ? '' : ','}${JSON.stringify(project)}:`;
    yield* serialiseRecord(data.invitations[project] ?? {}, (record, key) => compact(record as InvitationRecord, data.customers[key]));
    first = false;
  }
  yield '},"organizations":';
  yield* serialiseRecord(data.organizations ?? {});
  yield '}';
}

/** Entries per JSON.stringify call: one native call per slice is fast, and no slice is large. */
const SLICE = 2_000;

function* serialiseRecord(record: Record<string, unknown>, map?: (value: unknown, key: string) => unknown): Iterable<string> {
  yield '{';
  let slice: Record<string, unknown> = {};
  let size = 0;
  let first = true;
  const flush = function* (): Iterable<string> {
    const text = JSON.stringify(slice);
    if (text.length > 2) yield `${first ? '' : ','}${text.slice(1, -1)}`;
    first = false;
    slice = {};
    size = 0;
  };
  for (const key in record) {
    slice[key] = map ? map(record[key], key) : record[key];
    if (++size >= SLICE) yield* flush();
  }
  if (size > 0) yield* flush();
  yield '}';
}
