/**
 * What only JSM Data Center answers: the version from /info, users named by username, a directory
 * that cannot hold new users. What Cloud answers alike is in ../http/wire.ts (re-exported here).
 */
import { z } from 'zod';
import { i18nKeyOf } from '../http/wire.js';

export * from '../http/wire.js';

export const infoSchema = z.object({ version: z.string() }).loose();

export const userSchema = z
  .object({ name: z.string(), emailAddress: z.string().optional(), displayName: z.string().optional(), active: z.boolean().optional() })
  .loose();

/** A create refused because no directory may hold new users (read-only or delegated directories), by its i18n key. */
export function isReadOnlyDirectory(status: number, body: unknown): boolean {
  const key = i18nKeyOf(body);
  return status >= 400 && status < 500 && key !== undefined && /read\.?only|no\.?writable|directories|directory\.(?:not\.)?writ/i.test(key);
}
