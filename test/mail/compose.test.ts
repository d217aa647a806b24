import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { MailError } from '../../src/core/types.js';
import { composeInvitation, escapeHtml, messageIdFor, parseSender } from '../../src/mail/index.js';
import { FROM, invitation } from './fixtures.js';

const PORTAL = 'https://help.example.com/servicedesk/customer/portal/3';

describe('messageIdFor', () => {
  it('is deterministic per project, customer and kind, and differs otherwise', () => {
    const id = messageIdFor('ITH', 'jane@example.com', 'welcome');
    expect(id).toMatch(/^<[0-9a-f]{32}@jsm-provision\.invalid>$/);
    expect(messageIdFor('ITH', 'jane@example.com', 'welcome')).toBe(id);
    expect(messageIdFor('ith', ' Jane@Example.com ', 'welcome')).toBe(id);
    expect(messageIdFor('ITH', 'jane@example.com', 'verify')).not.toBe(id);
    expect(messageIdFor('OPS', 'jane@example.com', 'welcome')).not.toBe(id);
    expect(messageIdFor('ITH', 'jack@example.com', 'welcome')).not.toBe(id);
  });

  it('takes another domain, and refuses one that is not a plain domain name', () => {
    expect(messageIdFor('ITH', 'jane@example.com', 'welcome', 'mail.example.com')).toMatch(/^<[0-9a-f]{32}@mail\.example\.com>$/);
    expect(() => messageIdFor('ITH', 'jane@example.com', 'welcome', 'evil>\r\nBcc: x')).toThrow(TypeError);
  });
});

describe('composeInvitation', () => {
  it('welcome with a password set by an administrator: one recipient, exact subject, change-at-first-login line', () => {
    const msg = invitation('jane.doe@example.com', 'Jane Doe', { portalUrl: PORTAL, mustChangePassword: true });
    const mail = composeInvitation(msg, FROM);
    expect(mail.to).toEqual({ name: 'Jane Doe', address: 'jane.doe@example.com' });
    expect(mail.envelope).toEqual({ from: 'help@example.com', to: ['jane.doe@example.com'] });
    expect(mail.from).toEqual({ name: 'Help Desk', address: 'help@example.com' });
    expect(mail.subject).toBe('Welcome to IT Help');
    expect(mail.messageId).toBe(msg.messageId);
    expect(mail.text).toContain('Hello Jane Doe,');
    expect(mail.text).toContain(PORTAL);
    expect(mail.text).toContain('An administrator has set a password for you: please change it when you first log in.');
    expect(mail.text).not.toContain('Forgot password');
    expect(mail.html).toMatch(new RegExp(`<a class="jsm-link" href="${PORTAL}"[^>]*>${PORTAL}</a>`));
  });

  it('welcome without a password points to "Forgot password"', () => {
    const mail = composeInvitation(invitation('jane@example.com', 'Jane Doe', { portalUrl: PORTAL }), FROM);
    expect(mail.text).toContain('choose "Forgot password"');
    expect(mail.text).not.toContain('An administrator has set a password');
    expect(mail.html).toContain('choose &quot;Forgot password&quot;');
  });

  it('verify says how to confirm the address and set a password, and its link only opens the portal, as it says', () => {
    const mail = composeInvitation(invitation('jane@example.com', 'Jane Doe', { kind: 'verify', portalUrl: PORTAL }), FROM);
    expect(mail.subject).toBe('Verify your email for IT Help');
    expect(mail.text).toContain('Please confirm that jane@example.com is your email address for IT Help.');
    expect(mail.text).toContain(
      'To confirm it and set your password, choose "Forgot password" on the login page of the IT Help customer portal, enter jane@example.com, and follow the link in the email you then receive.',
    );
    expect(mail.text).toContain(`Open the customer portal:\r\n${PORTAL}\r\n`);
    expect(mail.text).not.toMatch(/link to confirm/i);
    expect(mail.html).toContain(`href="${PORTAL}" target="_blank"`);
    expect(mail.html).toMatch(/>Open the customer portal<\/a>/);
  });

  it('without a portal URL (or with a non-http one) names the portal and links nothing', () => {
    for (const portalUrl of [undefined, 'javascript:alert(1)']) {
      const msg = invitation('jane@example.com', 'Jane Doe', portalUrl === undefined ? {} : { portalUrl });
      const mail = composeInvitation(msg, FROM);
      expect(mail.text).toContain('the IT Help customer portal');
      expect(mail.html).not.toContain('<a ');
      expect(String(mail.text) + String(mail.html)).not.toContain('javascript:');
    }
  });

  it('strips control characters from the project name in the subject and the name in the greeting', () => {
    const msg = invitation('jane@example.com', 'Jane\r\n\tDoe', { projectName: 'IT\r\nBcc: x@evil.test\u0000 Help' });
    const mail = composeInvitation(msg, FROM);
    expect(mail.subject).toBe('Welcome to IT Bcc: x@evil.test Help');
    expect(mail.to).toEqual({ name: 'Jane Doe', address: 'jane@example.com' });
    expect(mail.text).toMatch(/^Hello Jane Doe,\r\n/);
  });

  it('escapes every value in the HTML part', () => {
    const msg = invitation('jane@example.com', '<script>alert("x")</script>', {
      projectName: 'R&D <b>',
      portalUrl: 'https://help.example.com/?a=1&b="2"',
    });
    const html = String(composeInvitation(msg, FROM).html);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;,');
    expect(html).toContain('<title>Welcome to R&amp;D &lt;b&gt;</title>');
    expect(html).toContain('href="https://help.example.com/?a=1&amp;b=%222%22"');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('never contains a password, whatever the message object carries', () => {
    const msg = { ...invitation('jane@example.com', 'Jane Doe', { mustChangePassword: true }), password: 'S3cret-Pa55' };
    const mail = composeInvitation(msg, FROM);
    expect(JSON.stringify(mail)).not.toContain('S3cret-Pa55');
  });

  it('refuses a recipient that is not one plain address, as a MailError not in doubt', () => {
    for (const email of ['a@example.com, b@evil.test', 'Eve <eve@example.com>', 'eve@example.com\r\nBcc: x@evil.test', 'no-at-sign']) {
      let caught: unknown;
      try {
        composeInvitation(invitation(email, 'Eve'), FROM);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MailError);
      expect((caught as MailError).inDoubt).toBe(false);
    }
  });

  it('parses the sender, and refuses lists, bare names and control characters with a UsageError', () => {
    expect(parseSender('help@example.com')).toEqual({ name: '', address: 'help@example.com' });
    expect(parseSender('"Help, Desk" <help@example.com>')).toEqual({ name: 'Help, Desk', address: 'help@example.com' });
    for (const bad of ['a@example.com, b@example.com', 'Help Desk', 'help@example.com\r\nBcc: x@evil.test', '']) {
      expect(() => parseSender(bad)).toThrow(UsageError);
    }
  });
});
