import { randomInt } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import { Secret } from '../../core/secret.js';
import { byteOrderMark, REPLACEMENT } from '../../csv/decode.js';
import { isAbsolute, resolve } from 'node:path';
import { fileReason } from '../../util/atomic-file.js';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '!#%+-=?@^_~';
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

/**
 * A crypto-random password of 20 characters with at least one of each class (lower, upper, digit,
 * symbol): ~125 bits, and it passes the usual Jira password policies. Look-alikes (l, 1, I, O, 0)
 * are left out because the admin may have to read it out to someone.
 */
export function generatePassword(length = 20): Secret {
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return new Secret(chars.join(''));
}

function pick(set: string): string {
  return set[randomInt(set.length)] as string;
}

/** Reads a password from standard input: its first line (as a password file), so `echo` and `printf` give the same. */
export async function readPasswordFromStdin(stdin: NodeJS.ReadableStream): Promise<Secret> {
  if ((stdin as NodeJS.ReadStream).isTTY) {
    throw new UsageError('password-stdin-tty', '--password-stdin reads the password from a pipe, but standard input is a terminal', 'pipe it in (e.g. from a secrets manager), or leave the flag out to be asked');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return checked(new Secret(firstLine(secretText(Buffer.concat(chunks), 'standard input', 'unreadable-password'))), 'standard input', `pipe the password in as the first line; or leave out --password-stdin${INSTEAD}`);
}

/** Reads a password from a file: its first line. Warns (through `warn`) if others may read the file. */
export async function readPasswordFile(path: string, warn: (message: string) => void, option = '--password-file', cwd?: string): Promise<Secret> {
  let bytes: Buffer;
  const at = cwd === undefined ? path : resolve(cwd, path);
  try {
    const info = await stat(at);
    // A folder is refused just below (EISDIR): telling the user to chmod it first would mislead.
    if (!info.isDirectory() && (info.mode & 0o077) !== 0) warn(`${printable(path)} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    bytes = await readFile(at);
  } catch (error) {
    throw new UsageError(
      'unreadable-password-file',
      `cannot read ${option} ${printable(path)}: ${fileReason(error)}`,
      `check the path${cwd !== undefined && !isAbsolute(path) ? ` (a relative one is read from ${printable(cwd)})` : ''} and that you may read the file; its first line is the password`,
    );
  }
  const instead = option === '--password-file' ? `; or leave out --password-file${INSTEAD}` : '';
  return checked(new Secret(firstLine(secretText(bytes, `${option} ${printable(path)}`, 'unreadable-password-file'))), path, `the password is the first line of the file${instead}`);
}

/**
 * The text of a secret's bytes: UTF-8, or what its byte order mark says. Windows writes one: Notepad
 * and PowerShell's `Out-File -Encoding utf8` a UTF-8 mark, PowerShell 5.1's `>` UTF-16. A mark kept
 * as part of a password would make it one nobody can type.
 */
function secretText(bytes: Buffer, from: string, code: string): string {
  const bom = byteOrderMark(bytes);
  const body = bytes.subarray(bom?.bytes.length ?? 0);
  const text =
    bom?.encoding === 'utf-16le'
      ? body.toString('utf16le')
      : bom?.encoding === 'utf-16be'
        ? Buffer.from(body.subarray(0, body.length - (body.length % 2))).swap16().toString('utf16le')
        : body.toString('utf8');
  // UTF-16 without a mark reads as every other byte NUL; no password holds a NUL or an undecodable byte.
  if (text.includes('\0') || text.includes(REPLACEMENT)) {
    throw new UsageError(code, `the password from ${from} is not UTF-8 text (or UTF-16 with a byte order mark)`, 'save it as UTF-8, e.g. Set-Content -Encoding utf8 in PowerShell');
  }
  return text;
}

/** The first line of a secret's text, whatever ends its lines: CR LF (Windows), LF, or CR alone (classic Mac OS). */
function firstLine(text: string): string {
  return text.split(/\r\n|\r|\n/, 1)[0] ?? '';
}

/** A customer's password option left out: what happens instead. */
const INSTEAD = ' (--generate-password makes one; with neither, the customer sets one through the portal)';

function checked(secret: Secret, from: string, hint: string): Secret {
  if (secret.length === 0) throw new UsageError('empty-password', `the password from ${from} is empty`, hint);
  return secret;
}

/**
 * The SMTP password: from JSM_SMTP_PASSWORD, or the first line of the file named by
 * --smtp-password-file / JSM_SMTP_PASSWORD_FILE; never from an option value or the URL.
 * Undefined when neither is set.
 */
export async function readSmtpPassword(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void,
  cwd?: string,
): Promise<Secret | undefined> {
  const fromEnv = env.JSM_SMTP_PASSWORD;
  const named = file?.trim() || undefined;
  if (named !== undefined && fromEnv !== undefined && fromEnv !== '') {
    throw new UsageError('conflicting-options', 'both JSM_SMTP_PASSWORD and --smtp-password-file (or JSM_SMTP_PASSWORD_FILE) are set', 'keep one of them');
  }
  if (named !== undefined) return readPasswordFile(named, warn, '--smtp-password-file', cwd);
  if (fromEnv !== undefined && fromEnv !== '') return new Secret(fromEnv);
  return undefined;
}
