import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readPasswordFile, readPasswordFromStdin } from '../../src/cli/settings/secrets.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const PASSWORD = 'Pässw0rd-Long';

/** The bytes Windows tools write for `PASSWORD` and a line break. */
const written: Record<string, Buffer> = {
  'UTF-8 (Linux, macOS)': Buffer.from(`${PASSWORD}\n`, 'utf8'),
  'UTF-8 with a byte order mark (Notepad, Out-File -Encoding utf8)': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${PASSWORD}\r\n`, 'utf8')]),
  "UTF-16LE with a mark (PowerShell 5.1's >)": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${PASSWORD}\r\n`, 'utf16le')]),
  'UTF-16BE with a mark': Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`${PASSWORD}\r\n`, 'utf16le').swap16()]),
};

describe('a password read from a file or standard input', () => {
  for (const [how, bytes] of Object.entries(written)) {
    it(`is the text typed, without its byte order mark or line break: ${how}`, async () => {
      const file = join(await tempDir(), 'pw.txt');
      await writeFile(file, bytes, { mode: 0o600 });
      expect((await readPasswordFile(file, () => undefined)).reveal()).toBe(PASSWORD);
      const stdin = Readable.from([bytes]);
      expect((await readPasswordFromStdin(stdin)).reveal()).toBe(PASSWORD);
    });
  }

  it('refuses UTF-16 without a mark, or bytes that are not UTF-8, naming the file and not the password', async () => {
    const dir = await tempDir();
    for (const bytes of [Buffer.from(`${PASSWORD}\r\n`, 'utf16le'), Buffer.from(`${PASSWORD}\n`, 'latin1')]) {
      const file = join(dir, 'pw.txt');
      await writeFile(file, bytes, { mode: 0o600 });
      const error = await readPasswordFile(file, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'unreadable-password-file', exitCode: 2, message: expect.stringContaining(file) });
      expect(JSON.stringify(error)).not.toMatch(/P.?s.?s.?w.?0/);
      await expect(readPasswordFromStdin(Readable.from([bytes]))).rejects.toMatchObject({ code: 'unreadable-password' });
    }
  });
});

describe('a password file or standard input with more than one line', () => {
  it('gives its first line, whatever ends it: CR LF, LF, or CR alone (classic Mac OS)', async () => {
    const dir = await tempDir();
    for (const end of ['\r\n', '\n', '\r']) {
      const bytes = Buffer.from(`${PASSWORD}${end}second line${end}`, 'utf8');
      const file = join(dir, 'pw.txt');
      await writeFile(file, bytes, { mode: 0o600 });
      expect((await readPasswordFile(file, () => undefined)).reveal(), JSON.stringify(end)).toBe(PASSWORD);
      expect((await readPasswordFromStdin(Readable.from([bytes]))).reveal(), JSON.stringify(end)).toBe(PASSWORD);
    }
  });
});

describe('a password file that cannot be one', () => {
  it('a folder: said to be a folder, with no warning to chmod 600 it', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755); // as a folder usually is: readable by others
    const warnings: string[] = [];
    const error = await readPasswordFile(dir, (m) => warnings.push(m)).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'unreadable-password-file', message: expect.stringContaining('it is a folder, not a file') });
    expect(warnings).toEqual([]);
  });

  it('empty, or an empty first line: the hint says where the password goes and what else to do', async () => {
    const file = join(await tempDir(), 'pw.txt');
    await writeFile(file, '\nS3cret-second-line\n', { mode: 0o600 });
    const error = await readPasswordFile(file, () => undefined).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'empty-password', hint: 'the password is the first line of the file; or leave out --password-file (--generate-password makes one; with neither, the customer sets one through the portal)' });
    await expect(readPasswordFromStdin(Readable.from([Buffer.from('')]))).rejects.toMatchObject({
      code: 'empty-password',
      hint: 'pipe the password in as the first line; or leave out --password-stdin (--generate-password makes one; with neither, the customer sets one through the portal)',
    });
  });
});
