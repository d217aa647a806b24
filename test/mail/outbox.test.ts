import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailError } from '../../src/core/types.js';
import { createMailer, createOutboxMailer, outboxFileName } from '../../src/mail/index.js';
import { headerValues, parseHeaders } from '../support/smtp-sink.js';
import { invitation, rejection } from './fixtures.js';
import { decodeWords, htmlPart, mimeParts, textPart } from './mime.js';

const PORTAL = 'https://help.example.com/servicedesk/customer/portal/3';
let base: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'jsm-outbox-'));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function emlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
}

describe('outbox mailer', () => {
  it('writes one parseable .eml per invitation into a folder it creates with mode 700', async () => {
    const dir = path.join(base, 'nested', 'outbox');
    const mailer = createOutboxMailer({ dir, from: 'Help Desk <help@example.com>' });
    expect(mailer.kind).toBe('outbox');
    expect(mailer.outbox).toBe(dir);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' }); // nothing before the first send

    const messages = [
      invitation('jane@example.com', 'Jane Doe', { portalUrl: PORTAL, mustChangePassword: true }),
      invitation('Jack@Example.com', 'Jäck Röe'),
      invitation('jill@example.com', 'Jill <b>Poe</b>', { kind: 'verify', portalUrl: PORTAL }),
    ];
    const results = [];
    for (const msg of messages) results.push(await mailer.send(msg));
    await mailer.close();

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = await emlFiles(dir);
    expect(files).toHaveLength(3);
    expect(await readdir(dir)).toHaveLength(3); // no temporary files left behind

    for (const [i, msg] of messages.entries()) {
      const file = path.join(dir, outboxFileName(msg));
      expect(results[i]).toEqual({ messageId: msg.messageId, response: `written to ${file}` });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const raw = (await readFile(file)).toString('binary');
      const headers = parseHeaders(raw);
      expect(headerValues({ headers }, 'Message-ID')).toEqual([msg.messageId]);
      expect(headerValues({ headers }, 'Subject')).toEqual([msg.kind === 'verify' ? 'Verify your email for IT Help' : 'Welcome to IT Help']);
      const to = headerValues({ headers }, 'To');
      expect(to).toHaveLength(1);
      // nodemailer writes the domain in lower case (Jack@Example.com -> Jack@example.com)
      const [user, domain] = msg.to.email.split('@');
      const address = `${user}@${domain!.toLowerCase()}`;
      expect(decodeWords(to[0]!)).toBe(msg.to.fullName.includes('<') ? `"${msg.to.fullName}" <${address}>` : `${msg.to.fullName} <${address}>`);
      expect(headerValues({ headers }, 'From')).toEqual(['Help Desk <help@example.com>']);
      expect(headerValues({ headers }, 'Content-Type')[0]).toMatch(/^multipart\/alternative;/);
      expect(mimeParts(raw).map((p) => p.contentType)).toEqual(['text/plain', 'text/html']);
      expect(textPart(raw)).toContain(`Hello ${msg.to.fullName},`);
      expect(htmlPart(raw)).not.toContain('<b>Poe');
      if (msg.project.portalUrl) expect(textPart(raw)).toContain(PORTAL);
    }
  });

  it('re-sending the same invitation overwrites its file instead of adding one', async () => {
    const mailer = createOutboxMailer({ dir: base, from: 'help@example.com' });
    const msg = invitation('jane@example.com', 'Jane Doe');
    const first = await mailer.send(msg);
    const second = await mailer.send({ ...msg, to: { email: 'JANE@example.com', fullName: 'Jane Q. Doe' } });
    expect(second.response).toBe(first.response);
    expect(await emlFiles(base)).toEqual([outboxFileName(msg)]);
    const raw = (await readFile(path.join(base, outboxFileName(msg)))).toString('binary');
    expect(textPart(raw)).toContain('Hello Jane Q. Doe,');
  });

  it('derives safe, deterministic file names', () => {
    const msg = invitation('jane@example.com', 'Jane');
    const local = /^<([0-9a-f]+)@/.exec(msg.messageId)![1];
    expect(outboxFileName(msg)).toBe(`jane@example.com_${local}.eml`);
    const odd = { ...msg, to: { email: '../../etc/pa$$wd@x.test', fullName: 'x' }, messageId: '<../../x/y@z>' };
    const name = outboxFileName(odd);
    expect(name).toBe(outboxFileName(odd));
    expect(name).not.toContain('/');
    expect(name).not.toMatch(/^\./);
    expect(name).toMatch(/^__\.\._etc_pa__wd@x\.test_[0-9a-f]{32}\.eml$/);
  });

  it('keeps an existing folder as it is and reports a write it cannot do as not in doubt', async () => {
    const notADir = path.join(base, 'file');
    await writeFile(notADir, 'x');
    const mailer = createOutboxMailer({ dir: notADir, from: 'help@example.com' });
    const err = await rejection(() => mailer.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err).toBeInstanceOf(MailError);
    expect((err as MailError).inDoubt).toBe(false);
    expect((err as MailError).message).toContain(`into ${notADir}, nothing was written`);
  });
});

describe('createMailer without SMTP', () => {
  it('writes to the outbox, from jsm-provision@localhost unless a sender is given', async () => {
    const mailer = createMailer({ outboxDir: path.join(base, 'ob') });
    expect(mailer.kind).toBe('outbox');
    expect(mailer.outbox).toBe(path.join(base, 'ob'));
    const msg = invitation('jane@example.com', 'Jane Doe');
    await mailer.send(msg);
    const raw = (await readFile(path.join(base, 'ob', outboxFileName(msg)))).toString('binary');
    expect(headerValues({ headers: parseHeaders(raw) }, 'From')).toEqual(['jsm-provision@localhost']);

    const withFrom = createMailer({ outboxDir: path.join(base, 'ob2'), from: 'help@example.com', smtpUrl: '  ' });
    expect(withFrom.kind).toBe('outbox');
    await withFrom.send(msg);
    const raw2 = (await readFile(path.join(base, 'ob2', outboxFileName(msg)))).toString('binary');
    expect(headerValues({ headers: parseHeaders(raw2) }, 'From')).toEqual(['help@example.com']);
  });

  it('gives a relative outbox as an absolute folder', () => {
    expect(createMailer({ outboxDir: 'outbox' }).outbox).toBe(path.resolve('outbox'));
  });
});
