import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/core/pkcs5s2.js';
import { Secret } from '../../src/core/secret.js';
import { inspect } from 'node:util';

describe('{PKCS5S2} hashes', () => {
  it('makes hashes that an independent PBKDF2-HMAC-SHA1 computation verifies', async () => {
    const hash = await hashPassword(new Secret('correct horse battery staple'));
    expect(hash.startsWith('{PKCS5S2}')).toBe(true);
    const raw = Buffer.from(hash.slice('{PKCS5S2}'.length), 'base64');
    expect(raw).toHaveLength(48);
    const salt = raw.subarray(0, 16);
    const key = pbkdf2Sync('correct horse battery staple', salt, 10_000, 32, 'sha1');
    expect(raw.subarray(16).equals(key)).toBe(true);
  });

  it('hashes the UTF-8 bytes of any password the checks accept (accents, emoji), as Atlassian does', async () => {
    for (const password of ['Pässwörd-ü', '🔑🔑🔑🔑🔑🔑🔑🔑', 'パスワードです、長い']) {
      const raw = Buffer.from((await hashPassword(new Secret(password))).slice('{PKCS5S2}'.length), 'base64');
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), raw.subarray(0, 16), 10_000, 32, 'sha1');
      expect(raw.subarray(16).equals(key), password).toBe(true);
    }
  });

  it('uses a fresh random salt each time', async () => {
    const a = await hashPassword(new Secret('same password'));
    const b = await hashPassword(new Secret('same password'));
    expect(a).not.toBe(b);
  });

  it('verifies a hash made independently in the test, and refuses a wrong password', async () => {
    const salt = randomBytes(16);
    const key = pbkdf2Sync('Pässwörd-ü', salt, 10_000, 32, 'sha1');
    const hash = `{PKCS5S2}${Buffer.concat([salt, key]).toString('base64')}`;
    expect(await verifyPassword(new Secret('Pässwörd-ü'), hash)).toBe(true);
    expect(await verifyPassword(new Secret('Passwort-u'), hash)).toBe(false);
    expect(await verifyPassword(new Secret('x'), '{SHA}abc')).toBe(false);
    expect(await verifyPassword(new Secret('x'), '{PKCS5S2}c2hvcnQ=')).toBe(false);
  });

  it('matches a known vector (salt 00..0f, "password")', async () => {
    const salt = Buffer.from([...Array(16).keys()]);
    const expected = `{PKCS5S2}${Buffer.concat([salt, pbkdf2Sync('password', salt, 10_000, 32, 'sha1')]).toString('base64')}`;
    expect(await hashPassword(new Secret('password'), salt)).toBe(expected);
  });

  it('never prints a Secret', () => {
    const secret = new Secret('hunter2hunter2');
    expect(String(secret)).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect(secret)).not.toContain('hunter2');
    expect(`${secret}`).not.toContain('hunter2');
  });
});
