import { describe, expect, it } from 'vitest';
import { parseExclusions, peopleOf, type SenderOptions } from '../../src/mailbox/senders.js';

const none = parseExclusions([]);
const plain: SenderOptions = { replyTo: false, includeCc: false, exclusions: none };

/** A message from header lines (joined with CRLF) and a body. */
function msg(headers: string[], body = 'Hello.\r\n', encoding: BufferEncoding = 'utf8'): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, encoding);
}

const people = (raw: Buffer, options: Partial<SenderOptions> = {}) => peopleOf(raw, { ...plain, ...options });
const sender = (from: string, options: Partial<SenderOptions> = {}) => people(msg([`From: ${from}`, 'Subject: x']), options);

describe('the sender of a message', () => {
  it('decodes RFC 2047 names: UTF-8 Q folded over two lines, ISO-8859-1, UTF-8 base64 in quotes', () => {
    expect(people(msg(['From: =?UTF-8?Q?Jos=C3=A9?=', ' =?UTF-8?Q?_N=C3=BA=C3=B1ez?= <jose.nunez@example.com>']))).toEqual({
      people: [{ email: 'jose.nunez@example.com', fullName: 'José Núñez' }],
      skippedCc: [],
    });
    expect(sender('=?ISO-8859-1?Q?Ren=E9_Dubois?= <rene.dubois@example.fr>')).toMatchObject({ people: [{ fullName: 'René Dubois' }] });
    expect(sender('"=?utf-8?B?5bGx55SwIOWkqumDjg==?=" <taro.yamada@example.jp>')).toMatchObject({ people: [{ fullName: '山田 太郎' }] });
  });

  it('reads raw 8-bit names as UTF-8, or as Latin-1 when they are not valid UTF-8', () => {
    expect(people(msg(['From: Łukasz Nowak <lukasz@example.pl>']))).toMatchObject({ people: [{ fullName: 'Łukasz Nowak' }] });
    expect(people(msg(['From: Chloé Lefèvre <chloe@example.fr>'], '', 'latin1'))).toMatchObject({ people: [{ fullName: 'Chloé Lefèvre' }] });
    // Byte 0x92 is windows-1252's right single quote, as Outlook wrote it.
    expect(people(msg(['From: Se\xe1n O\x92Brien <sean@example.ie>'], '', 'latin1'))).toMatchObject({ people: [{ fullName: 'Seán O’Brien' }] });
  });

  it('folds white space, drops Outlook apostrophes, reads the comment form, and falls back to the local part', () => {
    expect(people(msg(['From: "Ann\t  Lee"', '\t<ann@example.com>']))).toMatchObject({ people: [{ fullName: 'Ann Lee' }] });
    expect(sender("'Jane Doe' <jane@example.com>")).toMatchObject({ people: [{ fullName: 'Jane Doe' }] });
    expect(sender('jane@example.com (Jane Doe)')).toMatchObject({ people: [{ fullName: 'Jane Doe' }] });
    expect(sender('Smith, John <john.smith@example.com>')).toMatchObject({ people: [{ email: 'john.smith@example.com', fullName: 'Smith, John' }] });
    expect(sender('<mary.j@example.com>')).toEqual({ people: [{ email: 'mary.j@example.com', fullName: 'mary.j' }], skippedCc: [] });
    expect(sender('=?utf-8?Q?_?= <x.y@example.com>')).toMatchObject({ people: [{ fullName: 'x.y' }] });
  });

  it('reads only the headers: a From: line in the body is not the sender', () => {
    expect(people(msg(['Subject: no sender'], 'From: someone@example.com\r\n'))).toEqual({ skip: { email: '', reason: 'the message has no From header' } });
    expect(sender('Undisclosed')).toEqual({ skip: { email: '', reason: 'the From header names no address' } });
    expect(sender('undisclosed-recipients:;')).toEqual({ skip: { email: '', reason: 'the From header names no address' } });
  });

  it('keeps an address it cannot vouch for as it is: the pipeline marks it invalid', () => {
    expect(sender('Someone <someone@localhost>')).toMatchObject({ people: [{ email: 'someone@localhost', fullName: 'Someone' }] });
  });
});

describe('messages skipped as a whole, with their reason', () => {
  const skipOf = (headers: string[], options: Partial<SenderOptions> = {}) => {
    const found = people(msg(['From: Ann <ann@example.com>', ...headers]), options);
    return 'skip' in found ? found.skip.reason : null;
  };

  it('automatic mail: Auto-Submitted other than no, Precedence bulk/junk/list, List-Id, X-Autoreply, reports', () => {
    expect(skipOf(['Auto-Submitted: auto-replied'])).toBe('automatic message (Auto-Submitted: auto-replied)');
    expect(skipOf(['Auto-Submitted: Auto-Generated; owner-email="x@example.com"'])).toBe(
      'automatic message (Auto-Submitted: Auto-Generated; owner-email="x@example.com")',
    );
    expect(skipOf(['Auto-Submitted: no'])).toBeNull();
    expect(skipOf(['Precedence: Bulk'])).toBe('bulk or list mail (Precedence: bulk)');
    expect(skipOf(['Precedence: junk'])).toBe('bulk or list mail (Precedence: junk)');
    expect(skipOf(['Precedence: list'])).toBe('bulk or list mail (Precedence: list)');
    expect(skipOf(['Precedence: first-class'])).toBeNull();
    expect(skipOf(['Precedence: auto_reply'])).toBe('automatic reply (Precedence: auto_reply)');
    expect(skipOf(['List-Id: Ops <ops.lists.example.net>'])).toBe('mailing-list message (List-Id: Ops <ops.lists.example.net>)');
    expect(skipOf(['X-Autoreply: yes'])).toBe('automatic reply (X-Autoreply: yes)');
    expect(skipOf(['Content-Type: multipart/report; report-type=disposition-notification;', ' boundary="b"'])).toBe(
      'delivery or read report (Content-Type: multipart/report)',
    );
  });

  it('a newsletter whose only sign is the one-click List-Unsubscribe pair (RFC 8058) is bulk mail', () => {
    expect(skipOf(['List-Unsubscribe: <https://news.example/u/1>, <mailto:u@news.example>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'])).toBe(
      'bulk mail (List-Unsubscribe: <https://news.example/u/1>, <mailto:u@news.example>)',
    );
    expect(skipOf(['List-Unsubscribe:'])).toBeNull();
  });

  it('a web form\'s mail (From no-reply or the inbox itself, Reply-To a visitor) is skipped with a reason naming the Reply-To and --reply-to', () => {
    const exclusions = parseExclusions(['support@example.com']);
    for (const from of ['Web Form <noreply@forms.example>', 'IT Help <support@example.com>']) {
      const found = people(msg([`From: ${from}`, 'Reply-To: Real Visitor <visitor@home.example>']), { exclusions });
      expect('skip' in found && found.skip.reason, from).toMatch(
        /; its Reply-To names visitor@home\.example: to provision the Reply-To person of such mail \(a web form's visitor\), run again with --reply-to$/,
      );
    }
    // A Reply-To that is itself no one's (or the From again) is not offered.
    expect(people(msg(['From: noreply@shop.example', 'Reply-To: no-reply@shop.example']))).toEqual({ skip: { email: 'noreply@shop.example', reason: 'a no-reply address' } });
    expect(people(msg(['From: noreply@shop.example', 'Reply-To: noreply@shop.example']))).toEqual({ skip: { email: 'noreply@shop.example', reason: 'a no-reply address' } });
  });

  it('mail systems, no-reply addresses, the inbox\'s own addresses and domains', () => {
    const reason = (from: string, exclude: string[] = []) => {
      const found = sender(from, { exclusions: parseExclusions(exclude) });
      return 'skip' in found ? found.skip : null;
    };
    expect(reason('Mail Delivery System <MAILER-DAEMON@mx.example.com>')).toEqual({
      email: 'MAILER-DAEMON@mx.example.com',
      reason: 'a mail system address (mailer-daemon), not a person',
    });
    expect(reason('PostMaster@example.com')?.reason).toBe('a mail system address (postmaster), not a person');
    for (const local of ['no-reply', 'noreply', 'NoReply', 'donotreply', 'do-not-reply', 'orders-noreply', 'noreply+bounce', 'no_reply']) {
      expect(reason(`${local}@shop.example`)?.reason, local).toBe('a no-reply address');
    }
    for (const local of ['noreen', 'reply', 'noreplyer', 'replies']) expect(reason(`${local}@shop.example`), local).toBeNull();
    expect(reason('IT Help <Support@Example.com>', ['support@example.com'])?.reason).toBe("the inbox's own address (--exclude support@example.com)");
    expect(reason('ops@corp.example', ['@Corp.Example'])?.reason).toBe('an excluded domain (--exclude @corp.example)');
    expect(reason('ops@sub.corp.example', ['@corp.example'])).toBeNull();
  });

  it('@*.domain excludes every subdomain, not the domain itself nor a look-alike', () => {
    const reason = (from: string, exclude: string[]) => {
      const found = sender(from, { exclusions: parseExclusions(exclude) });
      return 'skip' in found ? found.skip.reason : null;
    };
    expect(reason('ops@mail.corp.example', ['@*.Corp.Example'])).toBe('a subdomain of an excluded domain (--exclude @*.corp.example)');
    expect(reason('ops@eu.mail.corp.example', ['@*.corp.example'])).toBe('a subdomain of an excluded domain (--exclude @*.corp.example)');
    expect(reason('ops@corp.example', ['@*.corp.example'])).toBeNull();
    expect(reason('ops@evilcorp.example', ['@*.corp.example'])).toBeNull();
    expect(reason('ops@corp.example', ['@*.corp.example', '@corp.example'])).toBe('an excluded domain (--exclude @corp.example)');
    for (const bad of ['@*corp.example', '@mail.*.example', '*@corp.example', '@*.']) {
      expect(() => parseExclusions([bad]), bad).toThrow(/--exclude/);
    }
  });

  it('--exclude takes an address or @domain and refuses anything else (exit 2)', () => {
    expect(parseExclusions([' Help@Example.com ', '@Example.org'])).toEqual({
      addresses: new Set(['help@example.com']),
      domains: new Set(['example.org']),
      subdomainsOf: new Set(),
    });
    for (const bad of ['example.com', 'help@', 'a@b@c', 'IT Help <help@example.com>', '']) {
      expect(() => parseExclusions([bad]), bad).toThrow(/--exclude/);
    }
  });
});

describe('--reply-to and --include-cc', () => {
  const headers = [
    'From: Taro Yamada <taro.yamada@example.jp>',
    'Reply-To: Taro at home <taro@home.example>',
    'Cc: "Lee, Ann" <ann.lee@example.org>, IT Help <support@example.com>',
    'Cc: Team: bob@example.org, no-reply@example.org;',
  ];
  const exclusions = parseExclusions(['support@example.com']);

  it('takes Reply-To only when asked, and then its name', () => {
    expect(people(msg(headers))).toMatchObject({ people: [{ email: 'taro.yamada@example.jp', fullName: 'Taro Yamada' }] });
    expect(people(msg(headers), { replyTo: true })).toMatchObject({ people: [{ email: 'taro@home.example', fullName: 'Taro at home' }] });
    const sameAddress = msg(['From: Taro Yamada <taro@example.jp>', 'Reply-To: TARO@example.jp']);
    expect(people(sameAddress, { replyTo: true })).toMatchObject({ people: [{ email: 'taro@example.jp', fullName: 'Taro Yamada' }] });
    expect(people(msg(['From: Ann <ann@example.com>']), { replyTo: true })).toMatchObject({ people: [{ email: 'ann@example.com' }] });
    expect(people(msg(['From: Ann <ann@example.com>', 'Reply-To: support@example.com']), { replyTo: true, exclusions })).toEqual({
      skip: { email: 'support@example.com', reason: "Reply-To: the inbox's own address (--exclude support@example.com)" },
    });
  });

  it('with --reply-to, a form sent as the inbox itself or a no-reply address is the Reply-To person\'s; a bounce stays skipped', () => {
    const form = (from: string) => msg([`From: ${from}`, 'Reply-To: Real Customer <realcust@ex.example>']);
    for (const from of ['IT Help <support@example.com>', 'Web Form <no-reply@forms.example>']) {
      expect(people(form(from), { replyTo: true, exclusions })).toMatchObject({ people: [{ email: 'realcust@ex.example', fullName: 'Real Customer' }] });
      expect(people(form(from), { exclusions })).toMatchObject({ skip: { email: from.replace(/.*<|>/g, '') } });
    }
    expect(people(form('MAILER-DAEMON@mx.example'), { replyTo: true, exclusions })).toMatchObject({ skip: { email: 'MAILER-DAEMON@mx.example', reason: expect.stringContaining('mail system') } });
  });

  it("adds every Cc'd person (all Cc fields, groups flattened), leaving out excluded and no-reply ones with their reason", () => {
    expect(people(msg(headers), { includeCc: true, exclusions })).toEqual({
      people: [
        { email: 'taro.yamada@example.jp', fullName: 'Taro Yamada' },
        { email: 'ann.lee@example.org', fullName: 'Lee, Ann' },
        { email: 'bob@example.org', fullName: 'bob' },
      ],
      skippedCc: [
        { email: 'support@example.com', reason: "Cc: the inbox's own address (--exclude support@example.com)" },
        { email: 'no-reply@example.org', reason: 'Cc: a no-reply address' },
      ],
    });
  });

  it('a skipped message adds nobody, not even its Cc', () => {
    expect(people(msg([...headers, 'Auto-Submitted: auto-replied']), { includeCc: true })).toEqual({
      skip: { email: 'taro.yamada@example.jp', reason: 'automatic message (Auto-Submitted: auto-replied)' },
    });
  });
});
