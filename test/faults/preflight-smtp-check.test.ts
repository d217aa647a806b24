import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { checkSmtp, createSmtpMailer, defaultSmtpName, parseSmtpName } from '../../src/mail/index.js';
import type { Mailer } from '../../src/core/types.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { closedPort, FROM, invitation, rejection } from '../mail/fixtures.js';

/** The SMTP check a run makes before its first write, against the real sink with AUTH on loopback. */
const PASSWORD = 'Pa55:w@rd/Secret';
let sink: SmtpSink | undefined;
let mailer: Mailer | undefined;
let silent: Server | undefined;
afterEach(async () => {
  await mailer?.close();
  await sink?.close();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  sink = mailer = silent = undefined;
});

async function usageError(fn: () => Promise<unknown>): Promise<UsageError> {
  const err = await rejection(fn);
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('checkSmtp: reachable, logs in, accepts the sender; sends nothing', () => {
  it('passes against a server that takes the login and the sender, and no message arrives', async () => {
    sink = await startSmtpSink({ auth: { user: 'helpdesk', pass: PASSWORD } });
    await checkSmtp({ url: `smtp://helpdesk@127.0.0.1:${sink.port}`, password: new Secret(PASSWORD), from: FROM, name: 'client.example.com' });
    expect(sink.mailFrom).toEqual([{ address: 'help@example.com', helo: 'client.example.com' }]);
    expect(sink.messages).toHaveLength(0);
  });

  it('a wrong password: smtp-login-refused, and no form of the password in the message', async () => {
    sink = await startSmtpSink({ auth: { user: 'helpdesk', pass: 'right-one' } });
    const err = await usageError(() => checkSmtp({ url: `smtp://helpdesk@127.0.0.1:${sink!.port}`, password: new Secret(PASSWORD), from: FROM }));
    expect(err.code).toBe('smtp-login-refused');
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('base64'), 'Secret']) {
      expect(`${err.message} ${err.hint}`).not.toContain(form);
    }
    expect(sink.mailFrom).toHaveLength(0);
  });

  it('a sender the server refuses: smtp-sender-refused with the server\'s words', async () => {
    sink = await startSmtpSink({ faults: { refuse: 'mail' } });
    const err = await usageError(() => checkSmtp({ url: sink!.url, from: FROM }));
    expect(err.code).toBe('smtp-sender-refused');
    expect(err.message).toContain('help@example.com');
    expect(err.message).toContain('553');
    expect(err.hint).toContain('--mail-from');
    expect(sink.messages).toHaveLength(0);
  });

  it('nothing listening: smtp-unreachable at once', async () => {
    const port = await closedPort();
    const err = await usageError(() => checkSmtp({ url: `smtp://127.0.0.1:${port}`, from: FROM }));
    expect(err.code).toBe('smtp-unreachable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });

  it('a server that accepts the connection and never greets: smtp-unreachable within the bound', async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const err = await usageError(() => checkSmtp({ url: `smtp://127.0.0.1:${port}`, from: FROM, timeoutMs: 300 }));
    expect(err.code).toBe('smtp-unreachable');
  });
});

describe('--smtp-name: the EHLO name', () => {
  it('the pooled mailer says the name given, and the sink sees it', async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM, name: 'provisioner.example.com' });
    await mailer.send(invitation('jane@example.com', 'Jane Doe'));
    expect(sink.mailFrom.map((m) => m.helo)).toEqual(['provisioner.example.com']);
  });

  it('without one: the host\'s fully qualified name, or nodemailer\'s address literal when the host name has no dot', async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    await mailer.send(invitation('jane@example.com', 'Jane Doe'));
    const expected = defaultSmtpName() ?? '[127.0.0.1]';
    expect(sink.mailFrom.map((m) => m.helo)).toEqual([expected]);
  });

  it('accepts host names and address literals; refuses anything else', () => {
    expect(parseSmtpName('mail-client.example.com')).toBe('mail-client.example.com');
    expect(parseSmtpName('[192.0.2.1]')).toBe('[192.0.2.1]');
    for (const bad of ['', 'bad name', 'x\r\nMAIL FROM:<a@b>', '-dash.example.com', 'a'.repeat(300)]) {
      expect(() => parseSmtpName(bad), bad).toThrowError(expect.objectContaining({ code: 'bad-smtp-name' }));
    }
  });
});
