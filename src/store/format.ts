import { z } from 'zod';
import type { InvitationRecord } from '../core/types.js';
import { track } from './status-counts.js';

/**
 * The local store's file format. Validated whenever the file is read. 2: a snapshot (with its
 * generation and checksum, and `organizations`) plus a log of batches (see journal.ts); 1 (snapshot
 * and a journal of ledger entries, no organizations) is still read, and upgraded by the first write.
 */
export const STORE_FORMAT = 2;
/** Formats this version reads. */
export const STORE_FORMATS_READ: readonly number[] = [1, 2];

const isoDate = z.string().min(1);

export const projectSchema = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  sendVerificationEmails: z.boolean(),
  createdAt: isoDate,
});

export const customerSchema = z.object({
  email: z.string().min(1),
  fullName: z.string(),
  passwordHash: z.string().startsWith('{PKCS5S2}').optional(),
  /** Written only when true (a predefined password): absent is false. */
  mustChangePassword: z.boolean().optional(),
  createdAt: isoDate,
  projects: z.array(z.string()),
});

export const invitationSchema = z.object({
  project: z.string(),
  key: z.string(),
  email: z.string(),
  fullName: z.string(),
  kind: z.enum(['welcome', 'verify']),
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'suppressed']),
  deferred: z.boolean(),
  mustChangePassword: z.boolean(),
  language: z.string().optional(),
  messageId: z.string().optional(),
  suppressedBy: z.enum(['flag', 'project-setting']).optional(),
  reason: z.string().optional(),
  runId: z.string().optional(),
  updatedAt: isoDate,
});

/** A customer organization: by lower-cased name in the store. */
export const organizationSchema = z.object({
  name: z.string().min(1),
  createdAt: isoDate,
  /** Keys of the projects it is on. */
  projects: z.array(z.string()),
  /** Lower-cased emails of its members, each with when it joined. */
  members: z.record(z.string(), isoDate),
});

export const storeSchema = z.object({
  format: z.literal(STORE_FORMAT),
  projects: z.record(z.string(), projectSchema),
  /** By lower-cased email. */
  customers: z.record(z.string(), customerSchema),
  /** By project key, then lower-cased email. */
  invitations: z.record(z.string(), z.record(z.string(), invitationSchema)),
  /** By lower-cased name (format 2). */
  organizations: z.record(z.string(), organizationSchema),
});

/**
 * The store in memory: as the file says, but customers and each project's invitation records in
 * Maps (by lower-cased email). A Map looks up and adds a key without making it a property name
 * first: a 100,000-row run does that for every row, several times.
 */
export type StoreData = Omit<z.infer<typeof storeSchema>, 'customers' | 'invitations'> & {
  customers: Map<string, StoredCustomer>;
  invitations: Record<string, Map<string, InvitationRecord>>;
};
export type StoredCustomer = z.infer<typeof customerSchema>;
export type StoredProject = z.infer<typeof projectSchema>;
export type StoredOrganization = z.infer<typeof organizationSchema>;

export function emptyStore(): StoreData {
  const data: StoreData = { format: STORE_FORMAT, projects: {}, customers: new Map(), invitations: {}, organizations: {} };
  track(data.invitations);
  return data;
}
