import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CandidateRow } from '../../src/core/types.js';
import { contentKind, MailTally, mailRows, parseExclusions, resolveSources, type MailRowsOptions } from '../../src/mailbox/index.js';
import { useTempDirs } from '../support/tmp.js';

const MAIL = fileURLToPath(new URL('../../fixtures/mail', import.meta.url));
const inbox = (name: string) => join(MAIL, 'inbox', name);
const mbox = join(MAIL, 'archive.mbox');
const tempDir = useTempDirs();

async function read(paths: string[], options: Partial<MailRowsOptions> = {}): Promise<{ rows: CandidateRow[]; tally: MailTally }> {
  const tally = new MailTally();
  const rows: CandidateRow[] = [];
  const all: MailRowsOptions = { replyTo: false, includeCc: false, exclusions: parseExclusions(['support@example.com']), ...options };
  for await (const row of mailRows(await resolveSources(paths, { cwd: process.cwd(), stdin: process.stdin }), all, tally)) rows.push(row);
  return { rows, tally };
}

describe('Maildir and folder exports', () => {
  const maildir = join(MAIL, 'maildir');
  const imap = join(MAIL, 'imap-export');

  it("never reads a Maildir's tmp/, and skips its Junk, Sent, Trash and Drafts (Maildir++) folders, naming them", async () => {
    const { rows, tally } = await read([maildir]);
    expect(rows.map((r) => r.email)).toEqual(['ines.duarte@example.pt', 'priya.nair@globex.example', 'lars.oberg@example.se']);
    expect(tally.stats.skippedFolders).toEqual(['.Drafts', '.Junk', '.Sent', '.Trash'].map((name) => join(maildir, name)));
    expect(JSON.stringify(rows)).not.toContain('half.delivered');
  });

  it('skips IMAP and Outlook style folders and a Thunderbird Spam mbox file, case-insensitively', async () => {
    const { rows, tally } = await read([imap]);
    expect(rows.map((r) => r.email)).toEqual(['kenji.sato@example.jp']);
    expect(tally.stats.skippedFolders).toEqual(['Deleted Items', 'Junk E-mail', 'Sent Items', 'Spam'].map((name) => join(imap, name)));
  });

  it('reads such a folder when it is named on the command line', async () => {
    const { rows, tally } = await read([join(maildir, '.Junk'), join(imap, 'Sent Items')]);
    expect(rows.map((r) => r.email)).toEqual(['deals@cheap-pills.example', 'dana.admin@example.com']);
    expect(tally.stats.skippedFolders).toEqual([]);
  });

  it('knows the names of those folders', async () => {
    const { isSkippedFolderName } = await import('../../src/mailbox/sources.js');
    for (const name of ['Junk', '.Junk', '.INBOX.Spam', 'SPAM', 'Trash', 'Trash.sbd', 'Sent', 'sent-mail', 'Sent Messages', 'Deleted Messages', 'Drafts', 'Spam.mbox', 'Junk E-mail', 'Bulk Mail', 'Outbox']) {
      expect(isSkippedFolderName(name), name).toBe(true);
    }
    for (const name of ['INBOX', 'Customers', '.Customers.VIP', 'cur', 'new', 'Junkyard', 'Sentinel', 'archive.mbox']) {
      expect(isSkippedFolderName(name), name).toBe(false);
    }
  });
});

describe('reading the shipped mailbox fixtures', () => {
  it('gives each sender once, from the earliest message, in message order; skips are listed with their reason', async () => {
    const { rows, tally } = await read([join(MAIL, 'inbox'), mbox]);
    expect(rows).toEqual([
      { line: inbox('01-jose.eml'), email: 'jose.nunez@example.com', fullName: 'José Núñez' },
      { line: inbox('02-rene.eml'), email: 'rene.dubois@example.fr', fullName: 'René Dubois' },
      { line: inbox('older/taro.eml'), email: 'taro.yamada@example.jp', fullName: '山田 太郎' },
      { line: `${mbox}#1`, email: 'olivia.martin@northwind-traders.com', fullName: 'Olivia Martin' },
      { line: `${mbox}#2`, email: 'grace.kim@fabrikam.example', fullName: 'Grace Kim' },
    ]);
    expect([...tally.skips.values()].map((s) => [s.line, s.email, s.reason, s.messages])).toEqual([
      [inbox('03-out-of-office.eml'), 'grace.kim@fabrikam.example', 'automatic message (Auto-Submitted: auto-replied)', 1],
      [inbox('04-list.eml'), 'jane.roe@lists.example.net', 'mailing-list message (List-Id: Operations announcements <ops-announce.lists.example.net>)', 1],
      [inbox('05-bounce.eml'), 'MAILER-DAEMON@mx.example.com', 'a mail system address (mailer-daemon), not a person', 1],
      [inbox('07-no-reply.eml'), 'no-reply@shop.example', 'a no-reply address', 1],
      [inbox('08-our-reply.eml'), 'support@example.com', "the inbox's own address (--exclude support@example.com)", 1],
    ]);
    expect({ messages: tally.messages, skipped: tally.skippedMessages, files: tally.stats.files, ignored: tally.stats.ignored }).toEqual({
      messages: 11,
      skipped: 5,
      files: 10,
      ignored: [],
    });
    expect(tally.stats.skippedFolders).toEqual([]);
    // The same person in another case, from a later message: one row, two messages.
    expect(tally.messagesOf('JOSE.NUNEZ@example.com')).toBe(2);
    expect(tally.messagesOf('rene.dubois@example.fr')).toBe(1);
  });

  it('--include-cc adds Ann from the first message; --reply-to takes Taro\'s home address', async () => {
    const cc = await read([inbox('01-jose.eml')], { includeCc: true });
    expect(cc.rows.map((r) => [r.email, r.fullName])).toEqual([['jose.nunez@example.com', 'José Núñez'], ['ann.lee@example.org', 'Lee, Ann']]);
    expect([...cc.tally.skips.values()].map((s) => s.reason)).toEqual(["Cc: the inbox's own address (--exclude support@example.com)"]);
    const replyTo = await read([inbox('older')], { replyTo: true });
    expect(replyTo.rows).toEqual([{ line: inbox('older/taro.eml'), email: 'taro@home.example', fullName: 'Taro at home' }]);
  });
});

describe('what a path holds, told by content', () => {
  it('an mbox begins with a From_ line, a message with a header field; anything else is neither', () => {
    expect(contentKind(Buffer.from('From x@example.com Mon Mar 10 09:12:44 2025\n'))).toBe('mbox');
    expect(contentKind(Buffer.from('\r\nFrom - Sat Jan 01 00:00:00 2000\r\n'))).toBe('mbox');
    expect(contentKind(Buffer.from('Return-Path: <a@example.com>\n'))).toBe('message');
    expect(contentKind(Buffer.from('From: a@example.com\n'))).toBe('message');
    expect(contentKind(Buffer.from('X-Mozilla-Status : 0001\n'))).toBe('message');
    expect(contentKind(Buffer.from('email,name\na@example.com,A\n'))).toBe('other');
    expect(contentKind(Buffer.from(''))).toBe('other');
  });

  it('a folder: files of other kinds are left alone, a Thunderbird .eml with a From_ line is read as an mbox, one message on', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'notes.txt'), 'call Ann back\n');
    await writeFile(join(dir, 'saved.eml'), 'From - Sat Jan 01 00:00:00 2000\nFrom: Ann <ann@example.com>\n\nhi\n');
    await writeFile(join(dir, 'sub', 'cur-1712345678.M1P2.host:2,S'), 'Return-Path: <bob@example.com>\nFrom: bob@example.com\n\nhi\n');
    const { rows, tally } = await read([dir]);
    expect(rows).toEqual([
      { line: `${join(dir, 'saved.eml')}#1`, email: 'ann@example.com', fullName: 'Ann' },
      { line: join(dir, 'sub', 'cur-1712345678.M1P2.host:2,S'), email: 'bob@example.com', fullName: 'bob' },
    ]);
    expect(tally.stats.ignored).toEqual([join(dir, 'notes.txt')]);
  });

  it('reads only the first maxBytes of a large message: its headers', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'big.eml'), `From: Big Attachment <big@example.com>\nSubject: logs\n\n${'x'.repeat(300_000)}\n`);
    expect((await read([dir], { maxBytes: 1024 })).rows).toEqual([{ line: join(dir, 'big.eml'), email: 'big@example.com', fullName: 'Big Attachment' }]);
  });
});

describe('paths that cannot be read stop the command (exit 2), naming the path', () => {
  const code = async (paths: string[]) => {
    try {
      await read(paths);
      return null;
    } catch (error) {
      return { code: (error as { code: string }).code, message: (error as Error).message };
    }
  };

  it('a missing path, a file that is no mail, a folder with no messages, - twice', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'people.csv'), 'email,name\n');
    await mkdir(join(dir, 'empty'));
    await writeFile(join(dir, 'empty', 'readme.txt'), 'nothing here\n');
    expect(await code([join(dir, 'nope.mbox')])).toEqual({
      code: 'unreadable-input',
      message: `Cannot read ${join(dir, 'nope.mbox')}: no such file or directory (ENOENT).`,
    });
    expect(await code([join(dir, 'people.csv')])).toEqual({
      code: 'not-mail',
      message: `${join(dir, 'people.csv')} is neither an mbox file nor an email message`,
    });
    expect(await code([join(dir, 'empty')])).toEqual({ code: 'no-messages', message: `${join(dir, 'empty')} holds no email messages` });
    expect(await code(['-', '-'])).toEqual({ code: 'bad-argument', message: '- (standard input) may be given only once' });
  });
});

describe('the order of a folder of numbered messages', () => {
  it('reads an MH folder and numbered .eml files by number (9 before 10), so the earliest message names its sender', async () => {
    const dir = await tempDir();
    const mh = join(dir, 'mh');
    await mkdir(mh);
    const message = (name: string) => `From: ${name} <maria@example.com>\r\nSubject: hello\r\n\r\nHi.\r\n`;
    for (let n = 1; n <= 12; n++) await writeFile(join(mh, String(n)), message(n === 9 ? 'Maria Silva' : `Maria ${n}`));
    // Message 9 is the earliest that names the sender once messages 1-8 are taken out.
    for (let n = 1; n <= 8; n++) await writeFile(join(mh, String(n)), 'From: other' + n + '@example.com\r\n\r\nx\r\n');
    const { rows } = await read([mh]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => join(mh, String(n))));
    expect(rows[8]).toMatchObject({ email: 'maria@example.com', fullName: 'Maria Silva' });
  });

  it('compares runs of digits as numbers, the rest by code unit', async () => {
    const { compareNames } = await import('../../src/mailbox/sources.js');
    const names = ['mail-10.eml', 'mail-9.eml', 'mail-010.eml', 'b', 'a10', 'a9', '1700000000.M2.host', '999999999.M1.host', '10', '9'];
    expect([...names].sort(compareNames)).toEqual(['9', '10', '999999999.M1.host', '1700000000.M2.host', 'a9', 'a10', 'b', 'mail-9.eml', 'mail-010.eml', 'mail-10.eml']);
  });
});
