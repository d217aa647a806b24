import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailer } from '../../src/core/types.js';
import { createMailer, createSmtpMailer } from '../../src/mail/index.js';
import { headerValues, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { FROM, invitation } from './fixtures.js';
import { decodeWords, htmlPart, textPart } from './mime.js';

const PORTAL = 'https://help.example.com/servicedesk/customer/portal/3';

let sink: SmtpSink;
let mailer: Mailer;

beforeEach(async () => {
  sink = await startSmtpSink();
  mailer = createSmtpMailer({ url: sink.url, from: FROM, maxConnections: 2 });
});

afterEach(async () => {
  await mailer.close();
  await sink.close();
});

describe('SMTP mailer against a real server', () => {
  it('is the smtp kind with no outbox', () => {
    expect(mailer.kind).toBe('smtp');
    expect(mailer.outbox).toBeNull();
  });

  it('sends three invitations: one message each, to the customer alone, with the exact subject and Message-ID', async () => {
    const messages = [
      invitation('jane@example.com', 'Jane Doe', { portalUrl: PORTAL, mustChangePassword: true }),
      invitation('jack@example.com', 'Jack Roe', { portalUrl: PORTAL }),
      invitation('jill@example.com', 'Jill Poe', { kind: 'verify' }),
    ];
    const results = await Promise.all(messages.map((m) => mailer.send(m)));

    expect(results.map((r) => r.messageId)).toEqual(messages.map((m) => m.messageId));
    for (const r of results) expect(r.response).toMatch(/^250\b/);
    expect(sink.messages).toHaveLength(3);
    expect(sink.accepted()).toHaveLength(3);

    for (const msg of messages) {
      const got = sink.messages.filter((m) => headerValues(m, 'Message-ID')[0] === msg.messageId);
      expect(got).toHaveLength(1);
      const [received] = got;
      expect(received!.rcptTo).toEqual([msg.to.email]);
      expect(received!.from).toBe('help@example.com');
      expect(headerValues(received!, 'To')).toEqual([`${msg.to.fullName} <${msg.to.email}>`]);
      const subject = msg.kind === 'verify' ? 'Verify your email for IT Help' : 'Welcome to IT Help';
      expect(headerValues(received!, 'Subject')).toEqual([subject]);
      const text = textPart(received!.raw);
      expect(text).toContain(`Hello ${msg.to.fullName},`);
      if (msg.project.portalUrl) expect(text).toContain(PORTAL);
      else expect(text).not.toContain('https://');
    }
  });

  it('keeps injected headers out: one envelope recipient, no Bcc, one Subject, the names encoded', async () => {
    const evil = [
      invitation('eve@example.com', 'Eve\r\nBcc: attacker@evil.test'),
      invitation('mallory@example.com', 'Mallory <x@y>\nSubject: hi'),
    ];
    for (const msg of evil) await mailer.send(msg);

    expect(sink.messages).toHaveLength(2);
    for (const [i, received] of sink.messages.entries()) {
      const msg = evil[i]!;
      expect(received.rcptTo).toEqual([msg.to.email]);
      expect(headerValues(received, 'Bcc')).toEqual([]);
      expect(headerValues(received, 'Subject')).toEqual(['Welcome to IT Help']);
      expect(received.raw).not.toMatch(/^(Bcc|Subject: hi)/im);
      const to = headerValues(received, 'To');
      expect(to).toHaveLength(1);
      expect(to[0]).toContain(`<${msg.to.email}>`);
    }
    expect(sink.messages.some((m) => m.raw.includes('attacker@evil.test\r\n'))).toBe(false);
    // The name stays one display name: control characters folded, specials quoted.
    expect(decodeWords(headerValues(sink.messages[0]!, 'To')[0]!)).toBe('"Eve Bcc: attacker@evil.test" <eve@example.com>');
    expect(decodeWords(headerValues(sink.messages[1]!, 'To')[0]!)).toBe('"Mallory <x@y> Subject: hi" <mallory@example.com>');
  });

  it('does not let markup in a name through raw into the HTML part', async () => {
    await mailer.send(invitation('tom@example.com', '<script>alert(1)</script> Tom'));
    const html = htmlPart(sink.messages[0]!.raw);
    expect(html).not.toContain('<script>');
    expect(html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt; Tom,');
  });

  it('waits for a slow server and reuses the pooled connection', async () => {
    sink.setFaults({ acceptDelayMs: 300 });
    const started = Date.now();
    await mailer.send(invitation('slow@example.com', 'Slow Poke'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await mailer.send(invitation('next@example.com', 'Next One'));
    expect(sink.accepted().map((m) => m.rcptTo[0])).toEqual(['slow@example.com', 'next@example.com']);
    expect(sink.connections()).toBe(1);
  });

  it('close() waits for a send under way, then refuses new sends as not in doubt', async () => {
    sink.setFaults({ acceptDelayMs: 200 });
    const sending = mailer.send(invitation('last@example.com', 'Last One'));
    await mailer.close();
    await expect(sending).resolves.toMatchObject({ messageId: invitation('last@example.com', 'x').messageId });
    await expect(mailer.send(invitation('late@example.com', 'Too Late'))).rejects.toMatchObject({ name: 'MailError', inDoubt: false });
    expect(sink.accepted()).toHaveLength(1);
  });
});

describe('createMailer', () => {
  it('chooses SMTP when a URL is given and insists on a sender for it', async () => {
    const smtp = createMailer({ smtpUrl: sink.url, from: FROM, outboxDir: '/nonexistent/outbox' });
    expect(smtp.kind).toBe('smtp');
    await smtp.send(invitation('via-factory@example.com', 'Via Factory'));
    await smtp.close();
    expect(sink.accepted().map((m) => m.rcptTo)).toEqual([['via-factory@example.com']]);
    expect(() => createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/x' })).toThrowError(
      expect.objectContaining({ name: 'UsageError', code: 'missing-mail-from', hint: 'set --mail-from or JSM_MAIL_FROM' }),
    );
  });
});
