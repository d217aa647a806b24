import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Secret } from './secret.js';

const pbkdf2Async = promisify(pbkdf2);

/** Atlassian's {PKCS5S2}: PBKDF2-HMAC-SHA1, 10,000 iterations, 16-byte salt, 32-byte key. */
const PREFIX = '{PKCS5S2}';
const ITERATIONS = 10_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Hashes a password the way Jira Data Center's own directory stores it, so a store's hashes can be
 * carried into Jira. Uses the async API: it runs on libuv's thread pool, on every core, and leaves
 * the event loop free.
 */
export async function hashPassword(password: Secret, salt: Buffer = randomBytes(SALT_BYTES)): Promise<string> {
  const key = await pbkdf2Async(password.reveal(), salt, ITERATIONS, KEY_BYTES, 'sha1');
  return PREFIX + Buffer.concat([salt, key]).toString('base64');
}

/** True when `password` matches a {PKCS5S2} hash; false for any other or malformed hash. */
export async function verifyPassword(password: Secret, hash: string): Promise<boolean> {
  if (!hash.startsWith(PREFIX)) return false;
  const raw = Buffer.from(hash.slice(PREFIX.length), 'base64');
  if (raw.length !== SALT_BYTES + KEY_BYTES) return false;
  const salt = raw.subarray(0, SALT_BYTES);
  const expected = raw.subarray(SALT_BYTES);
  const actual = await pbkdf2Async(password.reveal(), salt, ITERATIONS, KEY_BYTES, 'sha1');
  return timingSafeEqual(actual, expected);
}
