import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSmtpPassword } from '../../src/cli/settings/secrets.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

describe('readSmtpPassword: JSM_SMTP_PASSWORD or a file, never an option value', () => {
  it('reads the first line of the file, and warns when others may read it', async () => {
    const dir = await tempDir();
    const file = join(dir, 'pw');
    await writeFile(file, 'first-line\nsecond\n');
    await chmod(file, 0o644);
    const warnings: string[] = [];
    const secret = await readSmtpPassword(file, {}, (m) => warnings.push(m));
    expect(secret?.reveal()).toBe('first-line');
    expect(String(secret)).toBe('[redacted]');
    expect(warnings.join('\n')).toContain('chmod 600');
  });

  it('takes JSM_SMTP_PASSWORD; nothing set gives undefined; both set is a usage error', async () => {
    expect((await readSmtpPassword(undefined, { JSM_SMTP_PASSWORD: 'from-env' }, () => undefined))?.reveal()).toBe('from-env');
    expect(await readSmtpPassword(undefined, {}, () => undefined)).toBeUndefined();
    await expect(readSmtpPassword('/some/file', { JSM_SMTP_PASSWORD: 'x' }, () => undefined)).rejects.toMatchObject({ code: 'conflicting-options' });
  });

  it('an unreadable file names the option, not the contents', async () => {
    await expect(readSmtpPassword('/nonexistent/pw', {}, () => undefined)).rejects.toMatchObject({ code: 'unreadable-password-file', message: expect.stringContaining('--smtp-password-file') });
  });
});
