import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { MailError, type Mailer } from '../../src/core/types.js';
import { createSmtpMailer, isInDoubt, parseSmtpUrl } from '../../src/mail/index.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { closedPort, FROM, invitation, rejection } from './fixtures.js';

const PASSWORD = 'Pa55:w@rd/Secret';
const URL_PASSWORD = encodeURIComponent(PASSWORD);

let sink: SmtpSink | undefined;
let mailer: Mailer | undefined;

afterEach(async () => {
  await mailer?.close();
  await sink?.close();
  mailer = undefined;
  sink = undefined;
});

/**
 * Whether the pool sends a message again by itself is seen without waiting a guessed time: the pool
 * settles a message (the send's rejection) only once it has given up on it (a requeue comes before
 * that, never after), and once the mailer is closed and the sink has seen every connection end,
 * nothing more can arrive. What the sink holds then is final.
 */
async function settled(): Promise<void> {
  await mailer?.close();
  await sink?.quiet();
}

async function mailError(send: () => Promise<unknown>): Promise<MailError> {
  const err = await rejection(send);
  expect(err).toBeInstanceOf(MailError);
  return err as MailError;
}

describe('SMTP failures: refused or in doubt', () => {
  it('550 at RCPT TO: refused, not in doubt, and nothing was delivered', async () => {
    sink = await startSmtpSink({ faults: { refuse: 'rcpt' } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    const err = await mailError(() => mailer!.send(invitation('nobody@example.com', 'No Body')));
    expect(err.inDoubt).toBe(false);
    expect(err.message).toContain('refused the invitation to nobody@example.com');
    expect(err.message).toContain('550');
    expect(sink.messages).toHaveLength(0);
  });

  it('550 after the message data: refused, not in doubt; the connection is still usable', async () => {
    sink = await startSmtpSink({ faults: { refuse: 'data' } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(false);
    expect(err.message).toContain('550 Message refused');
    sink.setFaults({ refuse: null });
    await mailer.send(invitation('jack@example.com', 'Jack Roe'));
    expect(sink.messages.map((m) => m.outcome)).toEqual(['refused', 'accepted']);
  });

  it('server down (nothing listening): not in doubt, says it could not reach the server', async () => {
    const port = await closedPort();
    mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: FROM });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(false);
    expect(err.message).toContain(`could not reach the mail server 127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('connection lost after the data went out: in doubt, and never sent again by the pool', async () => {
    sink = await startSmtpSink({ faults: { dropAfterData: true } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    const msg = invitation('jane@example.com', 'Jane Doe');
    const err = await mailError(() => mailer!.send(msg));
    expect(err.inDoubt).toBe(true);
    expect(err.message).toContain('may have been delivered');
    // Settled by the pool: it was sent once, and the pool has no copy of it left to send again.
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.outcome).toBe('dropped');
    expect(sink.connections()).toBe(1);
    // The next invitation goes out over a fresh connection, once; jane's never again.
    sink.setFaults({ dropAfterData: false });
    await mailer.send(invitation('jack@example.com', 'Jack Roe'));
    await settled();
    expect(sink.messages.map((m) => m.rcptTo[0])).toEqual(['jane@example.com', 'jack@example.com']);
    expect(sink.connections()).toBe(2);
  });

  it('a connection cut before the message went out is tried once more on a new connection', async () => {
    sink = await startSmtpSink({ faults: { dropOnMailFrom: 1 } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    await mailer.send(invitation('jane@example.com', 'Jane Doe'));
    expect(sink.accepted().map((m) => m.rcptTo)).toEqual([['jane@example.com']]);
    expect(sink.connections()).toBe(2);
  });

  it('a pooled connection cut before the message went out, again on the retry: fails not in doubt, no more tries', async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM });
    await mailer.send(invitation('first@example.com', 'First One'));
    sink.setFaults({ dropOnMailFrom: 5 });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(false);
    expect(err.message).toContain('nothing was sent');
    await settled();
    // the pooled connection, then one new one for our single retry: the pool itself requeues nothing
    expect(sink.connections()).toBe(2);
    expect(sink.mailFrom).toHaveLength(3);
    expect(sink.messages.map((m) => m.rcptTo[0])).toEqual(['first@example.com']);
  });

  it('a server that takes the data and then says nothing: times out, in doubt', async () => {
    sink = await startSmtpSink({ faults: { acceptDelayMs: 5000 } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM, timeouts: { socket: 400 } });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(true);
    expect(err.message).toContain('Timeout');
  });

  it('a server that never greets: times out, not in doubt', async () => {
    const net = await import('node:net');
    const held = new Set<import('node:net').Socket>();
    const silent = net.createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as import('node:net').AddressInfo;
    try {
      mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: FROM, timeouts: { greeting: 300 } });
      const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
      expect(err.inDoubt).toBe(false);
      expect(err.message).toContain('did not answer in time');
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('several sends in flight when connections drop: each in doubt, each received once', async () => {
    sink = await startSmtpSink({ faults: { dropAfterData: true } });
    mailer = createSmtpMailer({ url: sink.url, from: FROM, maxConnections: 2 });
    const msgs = ['a', 'b', 'c', 'd'].map((x) => invitation(`${x}@example.com`, x.toUpperCase()));
    const results = await Promise.allSettled(msgs.map((m) => mailer!.send(m)));
    expect(results.map((r) => r.status === 'rejected' && (r.reason as MailError).inDoubt)).toEqual([true, true, true, true]);
    await settled();
    expect(sink.messages.map((m) => m.rcptTo[0]).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']);
  });

  it('classifies by whether the body went out and how the server answered', () => {
    expect(isInDoubt({ message: 'x', code: 'ECONNECTION', command: 'CONN' }, false)).toBe(false);
    expect(isInDoubt({ message: 'x', code: 'ECONNECTION', command: 'CONN' }, true)).toBe(true);
    expect(isInDoubt({ message: 'x', code: 'ETIMEDOUT', command: 'CONN' }, true)).toBe(true);
    expect(isInDoubt({ message: 'x', code: 'EMESSAGE', command: 'DATA', responseCode: 451 }, true)).toBe(false);
    expect(isInDoubt({ message: 'x', code: 'EMESSAGE', command: 'DATA', responseCode: 554 }, true)).toBe(false);
    expect(isInDoubt({ message: 'x', code: 'EPROTOCOL', command: 'CONN', responseCode: 250 }, true)).toBe(true);
  });
});

describe('SMTP credentials never show', () => {
  it('a refused connection with a password in the URL: the message has no form of it', async () => {
    const port = await closedPort();
    mailer = createSmtpMailer({ url: `smtp://helpdesk@127.0.0.1:${port}`, password: new Secret(PASSWORD), from: FROM });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(false);
    for (const form of [PASSWORD, URL_PASSWORD, 'Secret']) expect(err.message).not.toContain(form);
    expect(String(err.stack)).not.toContain('Secret');
  });

  it('a login the server refuses: not in doubt, says so, without the password', async () => {
    sink = await startSmtpSink({ auth: { user: 'helpdesk', pass: 'right-one' } });
    mailer = createSmtpMailer({ url: `smtp://helpdesk@127.0.0.1:${sink.port}`, password: new Secret(PASSWORD), from: FROM });
    const err = await mailError(() => mailer!.send(invitation('jane@example.com', 'Jane Doe')));
    expect(err.inDoubt).toBe(false);
    expect(err.message).toContain('refused the login');
    expect(err.message).not.toContain('Secret');
    expect(sink.messages).toHaveLength(0);
  });

  it('the right login sends', async () => {
    sink = await startSmtpSink({ auth: { user: 'helpdesk', pass: PASSWORD } });
    mailer = createSmtpMailer({ url: `smtp://helpdesk@127.0.0.1:${sink.port}`, password: new Secret(PASSWORD), from: FROM });
    await mailer.send(invitation('jane@example.com', 'Jane Doe'));
    expect(sink.accepted()).toHaveLength(1);
  });

  it('bad URLs are usage errors that hide the password', () => {
    const cases = [
      `http://helpdesk:${URL_PASSWORD}@mail.example.com`,
      `smtp://helpdesk:${URL_PASSWORD}@`,
      `smtp://helpdesk:${URL_PASSWORD}@mail.example.com:99999`,
      `smtp://helpdesk:${URL_PASSWORD}@mail.example.com/path?x=1`,
      `helpdesk:${PASSWORD}@mail.example.com`,
    ];
    for (const url of cases) {
      let caught: unknown;
      try {
        createSmtpMailer({ url, from: FROM });
      } catch (err) {
        caught = err;
      }
      expect(caught, url).toBeInstanceOf(UsageError);
      expect((caught as UsageError).code).toBe('bad-smtp-url');
      expect((caught as UsageError).message).not.toContain('Secret');
      expect((caught as UsageError).hint).toContain('smtp://');
    }
  });

  it('parses smtp and smtps URLs with their defaults; the user may stay in the URL', () => {
    expect(parseSmtpUrl('smtp://helpdesk@mail.example.com:2525')).toEqual({
      host: 'mail.example.com',
      port: 2525,
      secure: false,
      user: 'helpdesk',
      redacted: 'smtp://helpdesk@mail.example.com:2525',
    });
    expect(parseSmtpUrl('smtps://mail.example.com')).toMatchObject({ port: 465, secure: true, redacted: 'smtps://mail.example.com' });
    expect(parseSmtpUrl('smtp://[::1]:25')).toMatchObject({ host: '::1', port: 25 });
  });

  it('a URL holding a password is refused, with where the password goes instead, and never shown', () => {
    let caught: unknown;
    try {
      parseSmtpUrl(`smtp://helpdesk:${URL_PASSWORD}@mail.example.com:2525`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).code).toBe('smtp-password-in-url');
    expect((caught as UsageError).message).not.toContain('Secret');
    expect((caught as UsageError).message).toContain('smtp://helpdesk:***@mail.example.com:2525');
    expect((caught as UsageError).hint).toContain('JSM_SMTP_PASSWORD');
    expect((caught as UsageError).hint).toContain('--smtp-password-file');
  });

  it('a user without a password, or a password without a user, is a usage error', () => {
    expect(() => createSmtpMailer({ url: 'smtp://helpdesk@mail.example.com', from: FROM })).toThrowError(expect.objectContaining({ code: 'missing-smtp-password' }));
    expect(() => createSmtpMailer({ url: 'smtp://mail.example.com', password: new Secret(PASSWORD), from: FROM })).toThrowError(
      expect.objectContaining({ code: 'smtp-password-without-user' }),
    );
  });
});
